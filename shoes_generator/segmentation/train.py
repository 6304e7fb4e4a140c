"""Training and evaluation of the segmenters."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np

from shoes_generator.data.pipeline import to_float
from shoes_generator.segmentation.data import segmentation_dataset
from shoes_generator.segmentation.metrics import confusion_matrix, segmentation_scores
from shoes_generator.segmentation.models import ARCHITECTURES
from shoes_generator.segmentation.segmenter import Segmenter


def build_segmenter(architecture: str, image_size: int, num_classes: int, **options) -> keras.Model:
    """The network registered as `architecture` in `ARCHITECTURES`.

    Raises:
        ValueError: unknown `architecture`.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"Unknown architecture. Expected one of {sorted(ARCHITECTURES)}. Received: architecture={architecture!r}")
    return ARCHITECTURES[architecture](image_size, num_classes, **options)


def train_segmenter(
    architecture: str,
    images: np.ndarray,
    masks: np.ndarray,
    num_classes: int,
    epochs: int,
    batch_size: int,
    seed: int,
    out_dir: str | Path | None = None,
    model_options: dict | None = None,
    learning_rate: float = 1e-3,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Trains a segmenter on in-memory arrays with Adam and per-pixel sparse cross-entropy on logits
    (`shoes-train` presets train through the run trainer instead).

    Args:
        architecture: a key of `ARCHITECTURES` ("unet", "fcn").
        images: ``uint8 [N, S, S, 3]``.
        masks: ``[N, S, S]`` class indices.
        num_classes: C.
        epochs: passes over the data.
        batch_size: examples per step.
        seed: seed of the weights, the shuffling and the flips.
        out_dir: when given, ``model.keras`` and ``history.json`` are written there.
        model_options: extra builder arguments (e.g. ``{"base_filters": 8}``).
        learning_rate: Adam's step size.

    Returns:
        The trained network and its `History` (loss, pixel_accuracy, mean_iou per epoch).
    """
    images = np.asarray(images)
    keras.utils.set_random_seed(seed)
    segmenter = Segmenter(build_segmenter(architecture, images.shape[1], num_classes, **(model_options or {})))
    segmenter.compile(optimizer=keras.optimizers.Adam(learning_rate))
    # The dataset shuffles itself; fit's own shuffle would only warn.
    history = segmenter.fit(segmentation_dataset(images, masks, batch_size, seed), epochs=epochs, shuffle=False, verbose=0)
    model = segmenter.network
    if out_dir is not None:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save(out_dir / "model.keras")
        (out_dir / "history.json").write_text(json.dumps({key: [float(v) for v in values] for key, values in history.history.items()}, indent=2))
    return model, history


def evaluate_segmenter(
    model: keras.Model, images: np.ndarray, masks: np.ndarray, num_classes: int, batch_size: int = 256, class_names=None
) -> dict:
    """Pixel accuracy and IoU of `model` on `images`, from one confusion matrix summed over batches.

    Args:
        model: images in [-1, 1] -> logits ``[B, S, S, C]``.
        images: ``uint8 [N, S, S, 3]``.
        masks: ``[N, S, S]`` class indices.
        num_classes: C.
        batch_size: examples per forward pass.
        class_names: names keying ``per_class_iou`` (default: the class indices as strings).

    Returns:
        ``{"pixel_accuracy", "mean_iou", "per_class_iou": {"<class>": IoU or None when the class is absent}}``.
    """
    images, masks = np.asarray(images), np.asarray(masks)
    cm = np.zeros((num_classes, num_classes), np.int64)
    for start in range(0, len(images), batch_size):
        logits = model(to_float(images[start : start + batch_size]), training=False)
        cm += confusion_matrix(masks[start : start + batch_size], np.argmax(np.asarray(logits), axis=-1), num_classes)
    return segmentation_scores(cm, class_names)
