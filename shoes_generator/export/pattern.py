"""Exports a pattern-transfer model (`shoes_generator.gans.pattern.PatternGAN`): a print in, a shoe out.

Signatures (core TF ops only; images leave as ``images`` uint8 and ``image_bytes`` PNG):
- ``serving_default``: ``pattern_bytes`` string [B] (a photo of any object or swatch, PNG/JPEG, any
  size, fitted to the square with white padding; the print is read off the object, not the white
  around it), ``category`` string [B] and ``seed`` int64 [B] -> a shoe of that type in that print
  (the seed's stateless noise shapes it).
- ``with_sketch``: ``pattern_bytes`` + ``image_bytes`` string [B] (a sketch, dark lines on white, as
  the pix2pix signature takes it) -> the sketched shoe in that print.
- ``labels``: ``name`` string [K] -> ``values``, ``counts`` (the ``category`` vocabulary).
An unknown category is INVALID_ARGUMENT naming the valid ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.export.generator import LabelIds, label_inputs, labels_signature, noise_from_seeds
from shoes_generator.export.inputs import ImageInput, TensorInput
from shoes_generator.export.signatures import Signature, export_signatures, image_outputs
from shoes_generator.labels import Vocabularies

BATCHES = (1, 4)
LABELS = ("category",)


def pattern_signatures(model, image_size: int, vocabularies: Vocabularies, lookups: LabelIds) -> list[Signature]:
    """``serving_default``, ``with_sketch`` and ``labels`` of a `PatternGAN`."""
    pattern = ImageInput("pattern", image_size, 3, "bytes")
    sketch = ImageInput("image", image_size, 3, "bytes")
    seed = TensorInput("seed", tf.int64, example_fn=lambda batch: np.arange(batch, dtype=np.int64))
    (category,) = label_inputs(vocabularies, LABELS, lookups)

    def from_type(x):
        return model.draw(x["pattern"], noise_from_seeds(x["seed"], model.z_dim), x["category"])

    def from_sketch(x):
        return model.draw(x["pattern"], tf.zeros([tf.shape(x["pattern"])[0], model.z_dim]), sketch=x["image"])

    return [
        Signature("serving_default", (pattern, category, seed), from_type, image_outputs, BATCHES),
        Signature("with_sketch", (pattern, sketch), from_sketch, image_outputs, BATCHES),
        labels_signature(LABELS, lookups),
    ]


def export_pattern(model, image_size: int, vocabularies: Vocabularies, path: str | Path) -> Path:
    """Writes a trained `PatternGAN`'s SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        model: the `PatternGAN` (its generator and pattern encoder are served).
        image_size: the model's side S.
        vocabularies: the ``category`` vocabulary the model was trained with.
        path: the SavedModel directory to create; must not exist.
    """
    lookups = LabelIds(vocabularies, LABELS)
    return export_signatures(pattern_signatures(model, image_size, vocabularies, lookups), path, [model.generator, model.encoder, lookups])
