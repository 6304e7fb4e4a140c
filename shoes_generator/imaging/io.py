"""Finding, reading, checking and writing image files (NumPy/Pillow side).

Everything here is deterministic: listings are sorted, and images are returned
as ``uint8`` RGB arrays of shape ``[H, W, 3]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

# Errors Pillow raises for unreadable, truncated or non-image files.
READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError)


def is_image_file(path: str | os.PathLike) -> bool:
    """Whether `path` has one of the supported image extensions (case-insensitive)."""
    return str(path).lower().endswith(IMAGE_EXTENSIONS)


def list_images(root: str | os.PathLike) -> list[Path]:
    """Every JPEG/PNG file below `root`, at any depth, in sorted order.

    Args:
        root: a folder.

    Raises:
        FileNotFoundError: `root` does not exist or is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Image folder not found: {str(root)!r} is not a directory.")
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames.sort()
        found.extend(Path(folder) / name for name in sorted(filenames) if is_image_file(name))
    return sorted(found)


def check_image(path: str | os.PathLike, full: bool = True) -> str | None:
    """Returns why `path` is not a usable image, or None when it is.

    Args:
        path: the image file.
        full: decode the whole file (catches truncated data) rather than the header.
    """
    try:
        with Image.open(path) as image:
            if full:
                image.load()
            else:
                image.verify()
    except READ_ERRORS as error:
        return f"{type(error).__name__}: {error}"
    return None


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Converts any Pillow mode to RGB, compositing transparency onto `background`."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def load_rgb(path: str | os.PathLike) -> np.ndarray:
    """Reads an image file as a ``uint8`` RGB array ``[H, W, 3]``.

    Transparent pixels become white, the background of product photos.

    Args:
        path: a JPEG or PNG file.

    Raises:
        OSError: the file cannot be read or decoded.
    """
    with Image.open(path) as image:
        return np.asarray(to_rgb(image), dtype=np.uint8)


def save_png(array: np.ndarray, path: str | os.PathLike) -> Path:
    """Writes a ``uint8`` array ``[H, W]``, ``[H, W, 1]`` or ``[H, W, 3]`` as PNG.

    Args:
        array: the image.
        path: the destination; parent folders are created.
    """
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise ValueError(f"save_png expects a uint8 array. Received: dtype={array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(f"save_png expects [H, W], [H, W, 1], [H, W, 3] or [H, W, 4]. Received: shape={array.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="PNG")
    return path


def image_grid(images: np.ndarray, rows: int, cols: int, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tiles ``uint8`` images ``[N, H, W, C]`` into one ``[rows*H, cols*W, C]`` grid.

    Missing cells (N < rows*cols) stay `pad_value`.

    Args:
        images: the images, row-major.
        rows: grid rows.
        cols: grid columns.
        pad: pixels between cells.
        pad_value: fill of the gaps.
    """
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if len(images) > rows * cols:
        raise ValueError(f"{len(images)} images do not fit a {rows}x{cols} grid.")
    n, h, w, c = images.shape
    grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), pad_value, dtype=images.dtype)
    for index in range(n):
        r, q = divmod(index, cols)
        top, left = pad + r * (h + pad), pad + q * (w + pad)
        grid[top : top + h, left : left + w] = images[index]
    return grid
