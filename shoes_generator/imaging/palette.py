"""Colours of class maps (segmentation), NumPy only: the training grids and the thin client draw with them."""

from __future__ import annotations

import numpy as np

# Distinct colours, background (class 0) white; cycled beyond ten classes.
CLASS_PALETTE = np.array(
    [[255, 255, 255], [230, 25, 75], [60, 180, 75], [0, 130, 200], [245, 130, 48],
     [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [128, 128, 0]],
    np.uint8,
)


def class_colors(classes: np.ndarray) -> np.ndarray:
    """``[...]`` integer class indices -> ``uint8 [..., 3]`` colours from `CLASS_PALETTE`.

    Args:
        classes: class indices of any shape (0, the background, is white).
    """
    return CLASS_PALETTE[np.asarray(classes, np.int64) % len(CLASS_PALETTE)]
