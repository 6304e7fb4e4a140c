"""Resizing and padding ``uint8`` images while keeping their aspect ratio.

Images are NumPy arrays ``[H, W]`` or ``[H, W, C]`` (``uint8``). Resizing uses
Pillow's Lanczos filter, which keeps thin lines and fine texture when shrinking
large product photos.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WHITE = (255, 255, 255)


def check_size(size: int, name: str = "size") -> int:
    """Returns `size` when it is an int >= 1; otherwise raises ValueError.

    Args:
        size: a side length in pixels.
        name: the argument's name, for the message.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"{name} must be a positive integer number of pixels. Received: {name}={size!r}")
    return int(size)


def fit_shape(height: int, width: int, size: int) -> tuple[int, int]:
    """The ``(height, width)`` whose longer side is `size`, with the same aspect ratio.

    Args:
        height: source height.
        width: source width.
        size: the longer side of the result.
    """
    size = check_size(size)
    scale = size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resizes a ``uint8`` image to ``[height, width]`` with the Lanczos filter.

    Args:
        image: ``[H, W]`` or ``[H, W, C]`` uint8 array.
        height: target height.
        width: target width.
    """
    image = _as_uint8(image)
    if image.shape[:2] == (height, width):
        return image.copy()
    squeezed = image[..., 0] if image.ndim == 3 and image.shape[-1] == 1 else image
    out = Image.fromarray(squeezed).resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return np.asarray(out, dtype=np.uint8).reshape((height, width) + image.shape[2:])


def downscale(image: np.ndarray, size: int) -> np.ndarray:
    """Shrinks `image` so its longer side is at most `size`; never enlarges it.

    Args:
        image: ``[H, W]`` or ``[H, W, C]`` uint8 array.
        size: the largest allowed side, in pixels.
    """
    image = _as_uint8(image)
    height, width = image.shape[:2]
    if max(height, width) <= check_size(size):
        return image.copy()
    return resize(image, *fit_shape(height, width, size))


def pad_to_square(image: np.ndarray, size: int, fill: int | tuple[int, ...] = WHITE) -> np.ndarray:
    """Resizes `image` to fit a ``size x size`` square and centres it on `fill`.

    The aspect ratio is kept: the longer side becomes `size` (larger images are
    shrunk, smaller ones enlarged) and the shorter side is padded equally on
    both sides (the extra pixel of an odd padding goes to the bottom/right).

    Args:
        image: ``[H, W]`` or ``[H, W, C]`` uint8 array.
        size: side of the square output, in pixels.
        fill: padding colour, an int or one value per channel (white by default).
    """
    image = _as_uint8(image)
    height, width = fit_shape(*image.shape[:2], size)
    return center_on_canvas(resize(image, height, width), size, size, fill)


def center_on_canvas(image: np.ndarray, height: int, width: int, fill: int | tuple[int, ...] = WHITE) -> np.ndarray:
    """Places `image` in the middle of a ``[height, width]`` canvas of `fill`.

    Args:
        image: ``[h, w]`` or ``[h, w, C]`` uint8 array no larger than the canvas.
        height: canvas height.
        width: canvas width.
        fill: canvas colour, an int or one value per channel.
    """
    h, w = image.shape[:2]
    if h > height or w > width:
        raise ValueError(f"The image does not fit the canvas. Received: image shape={image.shape}, canvas={height}x{width}")
    canvas = np.empty((height, width) + image.shape[2:], dtype=np.uint8)
    canvas[...] = _fill_values(fill, image.shape[2:])
    top, left = (height - h) // 2, (width - w) // 2
    canvas[top : top + h, left : left + w] = image
    return canvas


def _fill_values(fill: int | tuple[int, ...], channels: tuple[int, ...]) -> np.ndarray:
    """`fill` shaped for an image with `channels` (``()`` for grayscale: the mean of `fill`)."""
    values = np.asarray(fill, dtype=np.float64).reshape(-1)
    if not channels:
        return np.uint8(round(values.mean()))
    if values.size not in (1, channels[0]):
        raise ValueError(f"fill needs 1 or {channels[0]} values for a {channels[0]}-channel image. Received: fill={fill!r}")
    return np.broadcast_to(values, channels).astype(np.uint8)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or 0 in image.shape[:2]:
        raise ValueError(f"Expected a non-empty uint8 image [H, W] or [H, W, C]. Received: dtype={image.dtype}, shape={image.shape}")
    return image
