"""Exports a segmenter as a SavedModel that TF Serving serves as it is.

Signatures (core TF ops only):
- ``segment`` and ``serving_default`` (the same): ``image_bytes`` string [B]
  (PNG or JPEG of any size, fitted to the model's size with white padding) ->
  ``classes`` uint8 [B, S, S] and ``mask_bytes`` string [B], single-channel
  PNGs of ``class * (255 // max(1, C - 1))``.
- ``class_names``: ``class_id`` int64 [K] -> ``name`` string [K].
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.data.pipeline import decode_image, fit_image, to_float
from shoes_generator.export import _endpoint, write_archive
from shoes_generator.warmup import WarmupRequest


def mask_scale(num_classes: int) -> int:
    """The factor that spreads class indices over 0-255 in the mask PNGs."""
    return 255 // max(1, num_classes - 1)


class _ClassNames(tf.Module):
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


def export_segmenter(model: keras.Model, image_size: int, path: str | Path, class_names) -> Path:
    """Writes the segmenter's SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        model: images ``[B, S, S, 3]`` in [-1, 1] -> logits ``[B, S, S, C]``.
        image_size: the model's input side S.
        path: the SavedModel directory to create; must not exist.
        class_names: the C class names, in index order (e.g. ``["background", "shoe"]``).

    Raises:
        ValueError: `class_names` does not match the model's output channels.
    """
    class_names = tuple(str(name) for name in class_names)
    num_classes = int(model.output_shape[-1])
    if len(class_names) != num_classes:
        raise ValueError(f"class_names must name the model's {num_classes} classes. Received: class_names={list(class_names)}")
    scale = mask_scale(num_classes)
    names = _ClassNames(class_names)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(names)

    def segment(inputs):
        images = tf.map_fn(
            lambda data: fit_image(to_float(decode_image(data, 3)), image_size, pad_value=1.0), inputs["image_bytes"], fn_output_signature=tf.float32
        )
        classes = tf.cast(tf.argmax(model(images, training=False), axis=-1), tf.uint8)
        masks = tf.map_fn(lambda c: tf.io.encode_png((c * scale)[..., None]), classes, fn_output_signature=tf.string)
        return {"classes": classes, "mask_bytes": masks}

    byte_specs = [tf.TensorSpec([None], tf.string, name="image_bytes")]
    for name in ("segment", "serving_default"):
        archive.add_endpoint(name, _endpoint(segment, byte_specs), input_signature=byte_specs)
    id_specs = [tf.TensorSpec([None], tf.int64, name="class_id")]
    archive.add_endpoint("class_names", _endpoint(lambda inputs: {"name": names(inputs["class_id"])}, id_specs), input_signature=id_specs)
    blank = tf.io.encode_png(np.full((image_size, image_size, 3), 255, np.uint8)).numpy()
    warmup = [WarmupRequest(name, {"image_bytes": np.asarray([blank] * batch, object)}) for name in ("segment", "serving_default") for batch in (1, 4)]
    warmup.append(WarmupRequest("class_names", {"class_id": np.arange(num_classes, dtype=np.int64)}))
    return write_archive(archive, path, warmup)
