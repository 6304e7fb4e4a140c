"""Segmentation metrics: confusion matrices (summed over batches), pixel accuracy and IoU."""

from __future__ import annotations

import keras
import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``int64 [C, C]`` counts, rows the true class and columns the predicted one.

    Matrices of several batches add up to the matrix of all of them.

    Args:
        y_true: class indices, any shape.
        y_pred: class indices, the same shape.
        num_classes: C.

    Raises:
        ValueError: shapes differ, or a value lies outside ``[0, num_classes)``.
    """
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if np.shape(y_true) != np.shape(y_pred):
        raise ValueError(f"y_true and y_pred must have as many pixels. Received: {y_true.size} and {y_pred.size}")
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes}). Received: min={values.min()}, max={values.max()}")
    flat = y_true.astype(np.int64) * num_classes + y_pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def pixel_accuracy(cm: np.ndarray) -> float:
    """The share of pixels classified correctly (NaN for an empty matrix)."""
    cm = np.asarray(cm, np.float64)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else float("nan")


def per_class_iou(cm: np.ndarray) -> np.ndarray:
    """``float64 [C]`` intersection over union per class; NaN for a class neither present nor predicted."""
    cm = np.asarray(cm, np.float64)
    intersection = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - intersection
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, intersection / np.where(union > 0, union, 1.0), np.nan)


def mean_iou(cm: np.ndarray) -> float:
    """The mean of `per_class_iou` over the classes that occur (NaN when none does)."""
    ious = per_class_iou(cm)
    return float(np.nanmean(ious)) if np.isfinite(ious).any() else float("nan")


@keras.saving.register_keras_serializable(package="shoes_generator")
class MeanIoUFromLogits(keras.metrics.MeanIoU):
    """`keras.metrics.MeanIoU` on logits ``[B, S, S, C]`` (argmax over the last axis) and sparse labels.

    Args:
        num_classes: C.
        name: metric name in the logs.
    """

    def __init__(self, num_classes: int, name: str = "mean_iou", **kwargs):
        kwargs.update(sparse_y_true=True, sparse_y_pred=False)
        super().__init__(num_classes=num_classes, name=name, **kwargs)


def segmentation_scores(cm: np.ndarray, class_names=None) -> dict:
    """The registered "classes" metrics of segmenters (``pixel_accuracy``; ``iou``: ``mean_iou`` and
    ``per_class_iou``) of a confusion matrix.

    Args:
        cm: ``[C, C]`` counts (see `confusion_matrix`).
        class_names: the C class names keying ``per_class_iou`` (default: the indices as strings).

    Returns:
        The scores; a class neither present nor predicted has IoU None.
    """
    from shoes_generator.evaluation.registry import metrics_for

    scores = {}
    for metric in metrics_for("segmentation", kind="classes", optional=False):
        scores.update(metric.rounded(metric.compute(cm, class_names)))
    return scores
