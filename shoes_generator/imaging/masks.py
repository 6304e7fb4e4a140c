"""Foreground masks of product photos shot on a plain (white or black) background.

The background colour is read from the image border, pixels that differ enough
from it are foreground, and morphology cleans the result: an opening removes
one-pixel noise, a closing bridges small gaps in the outline, holes inside the
product are filled and only the largest connected parts are kept.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.morphology import disk

# Channel difference from the background (0-255) above which a pixel is foreground.
DEFAULT_THRESHOLD = 25.0


def border_pixels(image: np.ndarray, width: int = 1) -> np.ndarray:
    """The pixels of the outer `width`-pixel ring of `image`, as ``[N, C]``.

    Args:
        image: ``[H, W]`` or ``[H, W, C]`` array.
        width: thickness of the ring in pixels.
    """
    image = np.asarray(image)
    pixels = image.reshape(image.shape[:2] + (-1,))
    width = max(1, min(width, min(image.shape[:2]) // 2 or 1))
    ring = np.ones(image.shape[:2], dtype=bool)
    ring[width:-width, width:-width] = False
    return pixels[ring]


def background_color(image: np.ndarray) -> np.ndarray:
    """The background colour: the per-channel median of the border pixels.

    The ring is 2% of the shorter side thick (at least one pixel), so a product
    touching one edge of the frame does not change the result.

    Args:
        image: ``[H, W]`` or ``[H, W, C]`` uint8 array.

    Returns:
        ``float64`` array ``[C]`` (``[1]`` for grayscale).
    """
    width = max(1, round(0.02 * min(np.shape(image)[:2])))
    return np.median(border_pixels(image, width).astype(np.float64), axis=0)


def background_distance(image: np.ndarray, smoothing: int = 3) -> np.ndarray:
    """How far each pixel is from the background colour, in ``[0, 255]``.

    The distance is the largest per-channel difference after a median filter of
    `smoothing` pixels, which quietens JPEG noise without moving the outline;
    soft grey shadows on a white background stay small while any saturated
    colour is far.

    Args:
        image: ``[H, W]`` or ``[H, W, C]`` uint8 array.
        smoothing: side of the median filter; 1 disables it.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., None]
    if smoothing > 1:
        image = ndimage.median_filter(image, size=(smoothing, smoothing, 1), mode="nearest")
    return np.abs(image.astype(np.float64) - background_color(image)).max(axis=-1)


def keep_largest(mask: np.ndarray, keep_fraction: float = 0.1) -> np.ndarray:
    """Keeps the connected parts of `mask` at least `keep_fraction` of the largest one's area.

    Args:
        mask: boolean ``[H, W]`` array.
        keep_fraction: ``1.0`` keeps only the largest part, ``0`` keeps all.
    """
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask.astype(bool)
    areas = np.bincount(labels.ravel())[1:]
    kept = np.flatnonzero(areas >= keep_fraction * areas.max()) + 1
    return np.isin(labels, kept)


def close(mask: np.ndarray, radius: int) -> np.ndarray:
    """Morphological closing with a disk of `radius` (bridges gaps narrower than it)."""
    return _padded(ndimage.binary_closing, mask, radius)


def open_(mask: np.ndarray, radius: int) -> np.ndarray:
    """Morphological opening with a disk of `radius` (removes specks thinner than it)."""
    return _padded(ndimage.binary_opening, mask, radius)


def _padded(operation, mask: np.ndarray, radius: int) -> np.ndarray:
    """Applies a binary `operation` with a disk, replicating the border so parts touching it survive."""
    mask = np.asarray(mask, dtype=bool)
    if radius < 1:
        return mask
    padded = np.pad(mask, radius, mode="edge")
    return operation(padded, structure=disk(radius))[radius:-radius, radius:-radius]


def foreground_mask(
    image: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    opening: int = 1,
    closing: int | None = None,
    keep_fraction: float = 0.1,
) -> np.ndarray:
    """A ``uint8`` mask of the product in a photo: 255 foreground, 0 background.

    Args:
        image: ``[H, W, 3]`` (or ``[H, W]``) uint8 photo on a plain background.
        threshold: a pixel is foreground when a channel differs from the
            background colour by more than this (0-255 scale).
        opening: radius of the opening that removes specks (0 disables).
        closing: radius of the closing that bridges gaps; None picks 1% of the
            shorter side (at least 1).
        keep_fraction: connected parts smaller than this fraction of the
            largest part are dropped.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ValueError(f"foreground_mask expects a uint8 image [H, W] or [H, W, C]. Received: dtype={image.dtype}, shape={image.shape}")
    if not 0 <= keep_fraction <= 1:
        raise ValueError(f"keep_fraction must lie in [0, 1]. Received: keep_fraction={keep_fraction!r}")
    if closing is None:
        closing = max(1, round(0.01 * min(image.shape[:2])))
    mask = background_distance(image) > threshold
    mask = close(open_(mask, opening), closing)
    mask = ndimage.binary_fill_holes(keep_largest(mask, keep_fraction))
    return np.where(mask, 255, 0).astype(np.uint8)


def foreground_fraction(mask: np.ndarray) -> float:
    """The share of foreground pixels (non-zero) in `mask`, in ``[0, 1]``."""
    mask = np.asarray(mask)
    return float(np.count_nonzero(mask)) / mask.size if mask.size else 0.0
