"""Held-out scores of an exported segmenter, asked through its served ``segment`` signature."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.segmentation.data import segmentation_arrays
from shoes_generator.segmentation.metrics import confusion_matrix, segmentation_scores


def png_batch(images: np.ndarray) -> tf.Tensor:
    """``uint8 [B, S, S, 3]`` -> ``string [B]`` PNG bytes (lossless: what a client would send)."""
    return tf.stack([tf.io.encode_png(image) for image in images])


def evaluate_exported_segmenter(saved_model: str | Path, config, count: int | None = None, batch_size: int = 250) -> dict:
    """Pixel accuracy, mean and per-class IoU of the SavedModel at `saved_model` on the run's held-out split.

    Images go in as PNG bytes through the ``segment`` signature, so the figures
    are those of the served model (decoding and fitting included).

    Args:
        saved_model: the SavedModel directory (`export_segmenter`).
        config: the run's `ExperimentConfig` (its data section names the data and classes).
        count: at most this many held-out images (None: all of them).
        batch_size: images per signature call.
    """
    classes = tuple(config.data.classes)
    images, masks = segmentation_arrays(config.data, "test", count)
    segment = tf.saved_model.load(str(saved_model)).signatures["segment"]
    cm = np.zeros((len(classes), len(classes)), np.int64)
    for start in range(0, len(images), batch_size):
        predicted = segment(image_bytes=png_batch(images[start : start + batch_size]))["classes"].numpy()
        cm += confusion_matrix(masks[start : start + batch_size], predicted, len(classes))
    held_out = "Fashion-MNIST test split" if config.data.source in ("fmnist_masks", "fmnist_parts") else "held-out tenth of the label folder"
    return {
        "model": str(saved_model),
        "family": "segmentation",
        "segmenter": config.model.segmenter,
        "held_out": held_out,
        "examples": int(len(images)),
        "image_size": int(config.data.image_size),
        **segmentation_scores(cm, classes),
    }
