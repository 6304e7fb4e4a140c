"""Exports a segmenter as a SavedModel that TF Serving serves as it is.

Signatures (core TF ops only):
- ``segment`` and ``serving_default`` (the same): ``image_bytes`` string [B]
  (PNG or JPEG of any size, fitted to the model's size with white padding) ->
  ``classes`` uint8 [B, S, S] and ``mask_bytes`` string [B], single-channel
  PNGs of ``class * (255 // max(1, C - 1))``.
- ``class_names``: ``class_id`` int64 [K] -> ``name`` string [K] and ``num_classes`` int64 [K] (the
  class count C in every row: a client asks for id 0 and learns how many ids there are).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.export.inputs import ImageInput, TensorInput
from shoes_generator.export.signatures import Signature, class_map_outputs, export_signatures, mask_scale, named_outputs

__all__ = ["ClassNames", "class_names_signature", "export_segmenter", "mask_scale", "segmenter_signatures"]


class ClassNames(tf.Module):
    """Class id -> name, failing on ids outside the vocabulary."""

    def __init__(self, class_names: tuple[str, ...]):
        super().__init__()
        self.names = tf.constant(list(class_names))

    def __call__(self, ids: tf.Tensor) -> tf.Tensor:
        count = tf.cast(tf.size(self.names), tf.int64)
        valid = tf.logical_and(ids >= 0, ids < count)
        check = tf.debugging.Assert(tf.reduce_all(valid), [f"class_id must lie in [0, {int(self.names.shape[0])})", ids])
        with tf.control_dependencies([check]):
            return tf.gather(self.names, ids)


def class_names_signature(names: ClassNames) -> Signature:
    """``class_names``: ``class_id`` int64 [K] -> ``name`` string [K] and ``num_classes`` int64 [K] (warmed up with every id).

    ``num_classes`` is the class count C repeated per row, so a client learns C from one valid id
    (`serving.client.BaseClient.part_classes`); it keeps the batch dimension that TF Serving's
    batching splits and merges on, and REST encodes it as plain integers.
    """
    count = int(names.names.shape[0])
    class_ids = TensorInput("class_id", tf.int64, fixed=np.arange(count, dtype=np.int64))

    def answer(x):
        ids = x["class_id"]
        return {"name": names(ids), "num_classes": tf.fill(tf.shape(ids), tf.constant(count, tf.int64))}

    return Signature("class_names", (class_ids,), answer, named_outputs)


def segmenter_signatures(network: keras.Model, image_size: int, names: ClassNames) -> list[Signature]:
    """``segment`` / ``serving_default`` (encoded images -> class maps, warmed up at batch 1 and 4) and ``class_names``."""
    image = ImageInput("image", image_size, 3, "bytes")
    segment = lambda x: network(x["image"], training=False)  # noqa: E731
    return [
        *(Signature(name, (image,), segment, class_map_outputs, (1, 4)) for name in ("segment", "serving_default")),
        class_names_signature(names),
    ]


def export_segmenter(network: keras.Model, image_size: int, path: str | Path, classes) -> Path:
    """Writes the segmenter's SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        network: images ``[B, S, S, 3]`` in [-1, 1] -> logits ``[B, S, S, C]``.
        image_size: the model's input side S.
        path: the SavedModel directory to create; must not exist.
        classes: the C class names, in index order (e.g. ``["background", "shoe"]``).

    Raises:
        ValueError: `classes` does not match the model's output channels.
    """
    class_names = tuple(str(name) for name in classes)
    num_classes = int(network.output_shape[-1])
    if len(class_names) != num_classes:
        raise ValueError(f"class_names must name the model's {num_classes} classes. Received: class_names={list(class_names)}")
    names = ClassNames(class_names)
    return export_signatures(segmenter_signatures(network, image_size, names), path, [network, names])
