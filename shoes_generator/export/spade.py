"""Exports a SPADE model (`shoes_generator.gans.spade.SPADEGAN`): part maps in, shoes out.

Signatures (core TF ops only; images leave as ``images`` uint8 and ``image_bytes`` PNG):
- ``serving_default``: ``label_map_bytes`` string [B] (single-channel PNGs whose pixel values are
  class indices, any size: fitted as training labels are, nearest-neighbour, padded as background)
  and ``seed`` int64 [B] -> a shoe with that map; ``z`` is a stateless normal draw of the seed.
- ``with_style``: the same plus ``style_bytes`` string [B] (any image, PNG/JPEG, fitted as the
  other image inputs): ``z = mu + exp(logvar / 2) * eps(seed)`` of the style image's encoding, so
  the shoe takes the map's shape and the style image's look.
- ``class_names``: ``class_id`` int64 [K] -> ``name`` string [K], ``num_classes`` int64 [K] (the count C).
A map that is not single-channel, or holds an index outside the classes, is INVALID_ARGUMENT.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.export.generator import noise_from_seeds
from shoes_generator.export.inputs import ImageInput, LabelMapInput, TensorInput
from shoes_generator.export.signatures import Signature, export_signatures, image_outputs
from shoes_generator.segmentation.export import ClassNames, class_names_signature

BATCHES = (1, 4)


def spade_signatures(model, image_size: int, names: ClassNames) -> list[Signature]:
    """``serving_default``, ``with_style`` and ``class_names`` of a `SPADEGAN`."""
    num_classes = int(names.names.shape[0])
    label_map = LabelMapInput("label_map", image_size, num_classes)
    seed = TensorInput("seed", tf.int64, example_fn=lambda batch: np.arange(batch, dtype=np.int64))
    style = ImageInput("style", image_size, 3, "bytes")

    def from_seed(x):
        return model.synthesize(x["label_map"], noise_from_seeds(x["seed"], model.z_dim))

    def with_style(x):
        z, _, _ = model.style(x["style"], noise_from_seeds(x["seed"], model.z_dim))
        return model.synthesize(x["label_map"], z)

    return [
        Signature("serving_default", (label_map, seed), from_seed, image_outputs, BATCHES),
        Signature("with_style", (label_map, seed, style), with_style, image_outputs, BATCHES),
        class_names_signature(names),
    ]


def export_spade(model, image_size: int, classes, path: str | Path) -> Path:
    """Writes the SavedModel of a trained `SPADEGAN` at `path` (built in a temporary folder, then renamed).

    Args:
        model: the `SPADEGAN` (its generator and style encoder are served).
        image_size: the model's side S.
        classes: the C part class names in index order (background first).
        path: the SavedModel directory to create; must not exist.

    Raises:
        ValueError: `classes` does not match the generator's part channels.
    """
    class_names = tuple(str(name) for name in classes)
    if len(class_names) != model.num_classes:
        raise ValueError(f"classes must name the model's {model.num_classes} part classes. Received: classes={list(class_names)}")
    names = ClassNames(class_names)
    return export_signatures(spade_signatures(model, image_size, names), path, [model.generator, model.encoder, names])
