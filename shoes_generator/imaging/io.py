"""Finding, reading, checking and writing image files (NumPy/Pillow side).

Everything here is deterministic: listings are sorted, and images are returned
as ``uint8`` RGB arrays of shape ``[H, W, 3]``.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")

# Errors Pillow raises for unreadable, truncated or non-image files (and the two below).
READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError)

# A sane default cap on the pixels decoded per image (e.g. 8000 x 5000); see `open_image`.
DEFAULT_MAX_PIXELS = 40_000_000
# Source pixels converted to RGB at once while `load_rgb` reduces an image (bounds that copy).
REDUCE_BAND_PIXELS = 2_000_000

_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFileError(OSError):
    """An image path that is not a regular file (FIFO, socket, device, folder); it is never read."""


class ImageTooLargeError(ValueError):
    """An image with more pixels to decode than the caller's cap."""


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


def describe_error(error: BaseException) -> str:
    """The reason recorded for a skipped file: ``"<ErrorType>: <message>"``."""
    return f"{type(error).__name__}: {error}"


def require_regular_file(mode: int, path: str | os.PathLike) -> None:
    """Raises `NotRegularFileError` unless `mode` (an ``st_mode``) is a regular file's.

    Only regular files are images: opening a FIFO for reading blocks until a
    writer comes, and a device can be endless.
    """
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "not a plain file")
        raise NotRegularFileError(f"not a regular file ({kind}): {str(path)!r}")


def regular_file_problem(path: str | os.PathLike) -> str | None:
    """Why `path` is no regular file (a FIFO, a dangling or looping symlink, ...), or None.

    Symlinks are followed; nothing is opened. For commands that handle files by
    name without decoding them; `open_image` makes the same check itself.
    """
    try:
        require_regular_file(os.stat(path).st_mode, path)
    except OSError as error:
        return describe_error(error)
    return None


@contextmanager
def open_image(path: str | os.PathLike, max_pixels: int | None = None, size: int | None = None) -> Iterator[Image.Image]:
    """Opens an image file with Pillow (lazily: only the header is read here).

    The one way the data tools open images. A path that is not a regular file
    (FIFO, socket, device, folder; symlinks are followed, a loop raises ELOOP)
    raises `NotRegularFileError` without blocking: the file is opened
    non-blocking and checked with ``fstat`` before Pillow reads a byte.

    Args:
        path: the image file.
        max_pixels: raise `ImageTooLargeError` when the image would decode to
            more pixels than this (checked on the header, after `size`). Pillow
            keeps at most 4 bytes per decoded pixel (1 for 1-bit and grey
            images), so this bounds the memory of decoding.
        size: the longer side the caller needs at the least: a JPEG at least
            twice as large is decoded at 1/2, 1/4 or 1/8 scale (``Image.draft``),
            keeping its longer side >= `size`. Other formats decode in full.

    Raises:
        OSError: the file cannot be opened (`NotRegularFileError` included).
        ImageTooLargeError: more pixels than `max_pixels`.
    """
    nonblocking = getattr(os, "O_NONBLOCK", 0)  # POSIX: opening a FIFO returns at once
    fd = os.open(path, os.O_RDONLY | nonblocking | getattr(os, "O_NOCTTY", 0))
    try:
        require_regular_file(os.fstat(fd).st_mode, path)
        if nonblocking:
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle, Image.open(handle) as image:
        width, height = image.size
        if size is not None and max(width, height) >= 2 * size:
            scale = size / max(width, height)
            image.draft(None, (max(1, round(width * scale)), max(1, round(height * scale))))
        if max_pixels is not None and image.width * image.height > max_pixels:
            raise ImageTooLargeError(
                f"{width}x{height} image ({image.width * image.height:,} pixels to decode) "
                f"exceeds the limit of {max_pixels:,} pixels per image"
            )
        yield image


def check_image(path: str | os.PathLike, full: bool = True, max_pixels: int | None = None) -> str | None:
    """Returns why `path` is not a usable image, or None when it is.

    Args:
        path: the image file (only a regular file can be one; see `open_image`).
        full: decode the whole file (catches truncated data) rather than the header.
        max_pixels: also refuse images with more pixels than this (see `open_image`).
    """
    try:
        with open_image(path, max_pixels) as image:
            if full:
                image.load()
            else:
                image.verify()
    except READ_ERRORS as error:
        return describe_error(error)
    return None


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Converts any Pillow mode to RGB, compositing transparency onto `background`."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, background)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def reduce_to_rgb(image: Image.Image, factor: int, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """`to_rgb(image).reduce(factor)`, converting at most ~`REDUCE_BAND_PIXELS` source pixels at a time.

    Each ``factor x factor`` box is averaged (transparency composited first), so
    a 1-bit or palette image shrinks without a full-size RGB copy.
    """
    width, height = image.size
    image.load()
    reduced = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, REDUCE_BAND_PIXELS // (width * factor))
    for top in range(0, height, rows):
        band = to_rgb(image.crop((0, top, width, min(height, top + rows))), background)
        reduced.paste(band.reduce(factor), (0, top // factor))
    return reduced


def load_rgb(path: str | os.PathLike, max_pixels: int | None = None, size: int | None = None) -> np.ndarray:
    """Reads an image file as a ``uint8`` RGB array ``[H, W, 3]``.

    Transparent pixels become white, the background of product photos.

    Memory: at most 4 bytes per decoded pixel (capped by `max_pixels`) while
    decoding, plus the returned array (at full size without `size`).

    Args:
        path: a JPEG or PNG file (a regular file; see `open_image`).
        max_pixels: skip-worthy cap: `ImageTooLargeError` beyond it (see `open_image`).
        size: the longer side the caller needs at the least. An image at least
            twice as large comes back reduced by an integer factor, its longer
            side still >= `size` (JPEG in the decoder, others by averaging boxes).

    Raises:
        OSError: the file cannot be read or decoded (or is not a regular file).
        ImageTooLargeError: more pixels than `max_pixels`.
    """
    with open_image(path, max_pixels, size) as image:
        factor = 1 if size is None else max(image.size) // size
        rgb = to_rgb(image) if factor < 2 else reduce_to_rgb(image, factor)
        return np.asarray(rgb, dtype=np.uint8)


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
