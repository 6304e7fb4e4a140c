"""Sketch-like edge maps of product photos and edges2shoes-style ``A|B`` pairs.

An edge map has dark lines on white, like the sketches of edges2shoes: the
product's outline (from its foreground mask) plus the inner Canny edges of the
smoothed grayscale photo (seams, sole, laces), thinned to one-pixel lines,
joined across one-pixel gaps, cleaned of tiny specks and drawn `line_width`
pixels wide.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from skimage.color import rgb2gray
from skimage.feature import canny
from skimage.morphology import remove_small_objects, skeletonize

from shoes_generator.imaging.masks import close, foreground_mask


def edge_lines(
    image: np.ndarray,
    sigma: float | None = None,
    low_threshold: float = 0.08,
    high_threshold: float = 0.2,
    outline: bool = True,
    min_length: int | None = None,
) -> np.ndarray:
    """Boolean one-pixel-wide lines ``[H, W]`` of an RGB photo (True on a line).

    Args:
        image: ``[H, W, 3]`` uint8 photo on a plain background.
        sigma: Gaussian smoothing of the Canny detector; None picks
            ``max(1, shorter side / 96)`` so the detail kept does not depend on
            the resolution.
        low_threshold: Canny hysteresis low threshold (gradient of the
            ``[0, 1]`` grayscale image).
        high_threshold: Canny hysteresis high threshold.
        outline: add the outline of the foreground mask and drop inner edges
            found outside the product (background texture, shadows).
        min_length: lines of at most this many pixels are removed as specks;
            None picks ``max(3, shorter side / 32)``.
    """
    image = _check_rgb(image)
    short_side = min(image.shape[:2])
    sigma = max(1.0, short_side / 96) if sigma is None else sigma
    min_length = max(3, short_side // 32) if min_length is None else min_length
    lines = canny(rgb2gray(image), sigma=sigma, low_threshold=low_threshold, high_threshold=high_threshold, mode="nearest")
    if outline:
        mask = foreground_mask(image) > 0
        if mask.any():
            near_product = ndimage.binary_dilation(mask, iterations=max(1, round(sigma)))
            lines = (lines & near_product) | (mask & ~ndimage.binary_erosion(mask, border_value=1))
    lines = skeletonize(close(lines, 1))
    return remove_small_objects(lines, max_size=min_length, connectivity=2)


def edge_map(image: np.ndarray, line_width: int | None = None, **line_options) -> np.ndarray:
    """A sketch of `image`: ``uint8`` ``[H, W]``, 0 (black) on lines, 255 elsewhere.

    Args:
        image: ``[H, W, 3]`` uint8 photo on a plain background.
        line_width: stroke width in pixels; None picks ``max(1, shorter side / 128)``
            (2 px at 256, like edges2shoes).
        **line_options: passed to `edge_lines` (sigma, thresholds, outline, min_length).
    """
    lines = edge_lines(image, **line_options)
    if line_width is None:
        line_width = max(1, round(min(lines.shape) / 128))
    if line_width < 1:
        raise ValueError(f"line_width must be >= 1. Received: line_width={line_width!r}")
    if line_width > 1:
        lines = ndimage.binary_dilation(lines, structure=np.ones((line_width, line_width), dtype=bool))
    return np.where(lines, 0, 255).astype(np.uint8)


def make_ab_pair(photo: np.ndarray, **edge_options) -> np.ndarray:
    """An edges2shoes-style pair ``[H, 2W, 3]``: A (the sketch of `photo`) left, B (`photo`) right.

    Args:
        photo: ``[H, W, 3]`` uint8 photo on a plain background.
        **edge_options: passed to `edge_map`.
    """
    return join_ab(edge_map(photo, **edge_options), photo)


def join_ab(sketch: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Puts a sketch (``[H, W]`` or ``[H, W, 3]``) left of its ``[H, W, 3]`` photo.

    Args:
        sketch: the A side, uint8; grayscale is repeated to RGB.
        photo: the B side, uint8 RGB of the same height and width.
    """
    photo = _check_rgb(photo)
    sketch = np.asarray(sketch)
    if sketch.ndim == 2:
        sketch = np.repeat(sketch[..., None], 3, axis=-1)
    if sketch.shape != photo.shape or sketch.dtype != np.uint8:
        raise ValueError(f"A and B must be uint8 images of the same size. Received: A {sketch.dtype} {sketch.shape}, B {photo.shape}")
    return np.concatenate([sketch, photo], axis=1)


def _check_rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"Expected a uint8 RGB image [H, W, 3]. Received: dtype={image.dtype}, shape={image.shape}")
    return image
