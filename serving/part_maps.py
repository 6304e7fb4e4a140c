"""Part maps: read, edit, encode and colour them, with NumPy and Pillow alone (no TensorFlow, no SciPy).

A part map is a ``uint8 [H, W]`` array of class indices: 0 is the background, the others are the
parts a model knows (``("background", "sole", "heel", "upper", "shaft", "opening")`` for the
Fashion-MNIST models; a served SPADE model or part segmenter names its own through `class_names`).

Edits use a Euclidean disk of radius N: a pixel lies within N of another when
``dy**2 + dx**2 <= N**2``. Dilation and the nearest-class search are built from array shifts.

- `grow`: every pixel within N of the part becomes the part, whatever it was (background included).
- `shrink`: every pixel of the part within N of a pixel of another class (background included) is
  freed; a freed pixel takes the class of the nearest pixel of another class that is not freed
  (Euclidean distance; ties go to the first offset in order of distance, then row, then column).
  The image's frame is not a neighbour: a part does not recede from the border.
- `edit`: several of these by part name, shrinks first, then grows.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from shoes_generator.imaging.palette import class_colors  # NumPy only (no TensorFlow).

class UnknownPartError(ValueError):
    """An edit names a part the model does not know (a command line reports it as a usage error)."""


# PIL modes whose pixel values are read as class indices ("P": the palette indices, not their colours).
INDEX_MODES = ("L", "P", "I", "I;16")


def check_part_map(parts, name: str = "parts") -> np.ndarray:
    """`parts` as a ``uint8 [H, W]`` array, or a ValueError that says what was received.

    Args:
        parts: an integer array of class indices in [0, 255].
        name: the argument's name in the error.
    """
    array = np.asarray(parts)
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty [H, W] array of class indices. Received: shape {array.shape}")
    if array.dtype == np.uint8:
        return array
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class indices. Received: dtype {array.dtype}")
    if array.min() < 0 or array.max() > 255:
        raise ValueError(f"{name} must hold class indices in [0, 255]. Received: values in [{array.min()}, {array.max()}]")
    return array.astype(np.uint8)


def _check_count(pixels, what: str) -> int:
    if isinstance(pixels, bool) or not isinstance(pixels, (int, np.integer)) or pixels < 0:
        raise ValueError(f"{what} must be a whole number of pixels >= 0. Received: {pixels!r}")
    return int(pixels)


def _check_class(class_id) -> int:
    if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or not 0 <= class_id <= 255:
        raise ValueError(f"class_id must be an integer in [0, 255]. Received: class_id={class_id!r}")
    return int(class_id)


def _shifted(array: np.ndarray, dy: int, dx: int, fill) -> np.ndarray:
    """``out[y, x] = array[y + dy, x + dx]``, `fill` where that lies outside the array."""
    height, width = array.shape
    out = np.full_like(array, fill)
    if abs(dy) < height and abs(dx) < width:
        out[max(0, -dy) : height - max(0, dy), max(0, -dx) : width - max(0, dx)] = array[
            max(0, dy) : height - max(0, -dy), max(0, dx) : width - max(0, -dx)
        ]
    return out


def disk_offsets(radius: int) -> list[tuple[int, int]]:
    """The offsets ``(dy, dx)`` with ``dy**2 + dx**2 <= radius**2``, nearest first (then by dy, then dx).

    Args:
        radius: the disk's radius in pixels, >= 0.
    """
    radius = _check_count(radius, "radius")
    span = range(-radius, radius + 1)
    inside = [(dy * dy + dx * dx, dy, dx) for dy in span for dx in span if dy * dy + dx * dx <= radius * radius]
    return [(dy, dx) for _, dy, dx in sorted(inside)]


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """The pixels within `radius` (Euclidean) of a True pixel of `mask`.

    A disk is a union of horizontal runs, one per row offset: each run's half-width is dilated once
    along the rows, then shifted along the columns, so the cost is O(radius) array shifts.

    Args:
        mask: a boolean ``[H, W]`` array.
        radius: pixels, >= 0.
    """
    mask = np.asarray(mask, bool)
    radius = _check_count(radius, "radius")
    rows = [mask]  # rows[w]: dilated by w along each row
    for width in range(1, radius + 1):
        rows.append(rows[-1] | _shifted(mask, 0, width, False) | _shifted(mask, 0, -width, False))
    out = np.zeros_like(mask)
    for dy in range(-radius, radius + 1):
        out |= _shifted(rows[math.isqrt(radius * radius - dy * dy)], dy, 0, False)
    return out


def grow(parts: np.ndarray, class_id: int, pixels: int) -> np.ndarray:
    """The map with part `class_id` grown by `pixels`: every pixel within that Euclidean distance of
    the part becomes the part, taking it from whatever class held it (background included).

    Args:
        parts: ``uint8 [H, W]`` class indices (not changed).
        class_id: the part to grow; a class absent from the map stays absent.
        pixels: how far, >= 0 (0 changes nothing).

    Returns:
        a new ``uint8 [H, W]`` map.
    """
    parts, class_id = check_part_map(parts).copy(), _check_class(class_id)
    parts[dilate(parts == class_id, _check_count(pixels, "pixels"))] = class_id
    return parts


def shrink(parts: np.ndarray, class_id: int, pixels: int) -> np.ndarray:
    """The map with part `class_id` shrunk by `pixels`: its pixels within that Euclidean distance of
    another class (background included) are freed, and each freed pixel takes the class of the
    nearest pixel of another class (ties: the first offset nearest first, then by row, then column).
    The image's border does not count as another class.

    Args:
        parts: ``uint8 [H, W]`` class indices (not changed).
        class_id: the part to shrink.
        pixels: how deep a border it loses, >= 0 (0 changes nothing).

    Returns:
        a new ``uint8 [H, W]`` map.
    """
    parts, class_id = check_part_map(parts).copy(), _check_class(class_id)
    pixels = _check_count(pixels, "pixels")
    others = parts != class_id
    freed = ~others & dilate(others, pixels)
    ys, xs = np.nonzero(freed)
    if not len(ys):
        return parts
    # Only the freed pixels' box and its margin matter: search the nearest class there.
    top, left = max(0, ys.min() - pixels), max(0, xs.min() - pixels)
    bottom, right = ys.max() + pixels + 1, xs.max() + pixels + 1
    box, open_ = parts[top:bottom, left:right], freed[top:bottom, left:right].copy()
    source = np.where(others[top:bottom, left:right], box.astype(np.int16), -1)  # the part itself lends no class
    for dy, dx in disk_offsets(pixels)[1:]:
        found = _shifted(source, dy, dx, -1)
        take = open_ & (found >= 0)
        box[take] = found[take]
        open_ &= ~take
        if not open_.any():
            break
    return parts


def edit(
    parts: np.ndarray,
    class_names: Sequence[str],
    grow: Mapping[str, int] | None = None,
    shrink: Mapping[str, int] | None = None,
) -> np.ndarray:
    """Several edits by part name: every shrink first (in the mapping's order), then every grow (in
    its order), so a grown part takes the room a shrunk one left.

    Args:
        parts: ``uint8 [H, W]`` class indices (not changed).
        class_names: the model's class names in index order (0 the background).
        grow: part name -> pixels to grow it by.
        shrink: part name -> pixels to shrink it by.

    Returns:
        a new ``uint8 [H, W]`` map.

    Raises:
        UnknownPartError: an unknown part name (a ValueError; the valid ones are listed).
        ValueError: a negative count.
    """
    edits = check_edits(class_names, grow, shrink)
    edited = check_part_map(parts).copy()
    for operation, class_id, pixels in edits:
        edited = operation(edited, class_id, pixels)
    return edited


def check_edits(
    class_names: Sequence[str], grow: Mapping[str, int] | None = None, shrink: Mapping[str, int] | None = None
) -> list[tuple[Callable, int, int]]:
    """`edit`'s edits, checked, in the order it runs them: ``[(shrink or grow, class id, pixels)]``.

    Args:
        class_names: the model's class names in index order.
        grow: part name -> pixels to grow it by.
        shrink: part name -> pixels to shrink it by.

    Raises:
        UnknownPartError: an unknown part name (the valid ones are listed).
        ValueError: a negative or non-integer count.
    """
    names = [str(name) for name in class_names]
    edits = []
    for operation, requested in ((shrink_part, shrink), (grow_part, grow)):
        for name, pixels in (requested or {}).items():
            if name not in names:
                raise UnknownPartError(f"Unknown part {name!r}. The model's parts: {', '.join(names)}")
            edits.append((operation, names.index(name), _check_count(pixels, f"The pixels to {operation.__name__} {name!r} by")))
    return edits


grow_part, shrink_part = grow, shrink  # `edit`'s own arguments hide the names grow and shrink.


def read_part_map(source, num_classes: int | None) -> np.ndarray:
    """A painted part map: a single-channel image whose pixel values are class indices.

    Args:
        source: a path, encoded image bytes (PNG; any lossless format PIL reads), a PIL image or a
            ``[H, W]`` integer array. Greyscale ("L", 16- or 32-bit "I") and palette ("P": the
            palette indices are the classes, whatever colours the palette shows) images are read.
        num_classes: the model's class count: values must lie in ``[0, num_classes)``; None skips
            that check (values in [0, 255]).

    Returns:
        ``uint8 [H, W]`` class indices.

    Raises:
        ValueError: a colour (RGB, RGBA, ...) image, or values out of range.
    """
    if isinstance(source, np.ndarray):
        parts, what = check_part_map(source, "The part map"), "the part map"
    else:
        image, what = _open(source)
        if image.mode not in INDEX_MODES:
            raise ValueError(
                f"{what} must be a single-channel image whose pixel values are class indices (8-bit greyscale PNG, "
                f"mode L). Received: an image of mode {image.mode!r}; colour images are not read as part maps"
            )
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 255:
            raise ValueError(f"{what} holds values up to {values.max()}; class indices lie in [0, 255]")
        parts = values.astype(np.uint8)
    if num_classes is not None and parts.max() >= num_classes:
        bad = sorted(int(value) for value in np.unique(parts[parts >= num_classes]))
        raise ValueError(
            f"{what} holds class indices {bad[:10]}{' ...' if len(bad) > 10 else ''}, but the model has {num_classes} "
            f"classes (indices 0 to {num_classes - 1})"
        )
    return parts


def _open(source) -> tuple[Image.Image, str]:
    """The loaded PIL image of a path, bytes or image, and how to name it in errors."""
    if isinstance(source, Image.Image):
        return source, "The part map"
    if isinstance(source, (bytes, bytearray)):
        with Image.open(io.BytesIO(source)) as image:
            image.load()
            return image, "The part map"
    if isinstance(source, (str, Path)):
        with Image.open(source) as image:
            image.load()
            return image, f"The part map {str(source)!r}"
    raise TypeError(f"Expected a path, PNG bytes, a PIL image or a uint8 array. Received: {type(source).__name__}")


def encode_part_map(parts: np.ndarray) -> bytes:
    """PNG bytes (8-bit greyscale, mode "L") whose pixel values are the class indices of `parts`.

    Args:
        parts: ``uint8 [H, W]`` class indices.
    """
    buffer = io.BytesIO()
    Image.fromarray(check_part_map(parts)).save(buffer, format="PNG")
    return buffer.getvalue()


def colorize(parts: np.ndarray) -> Image.Image:
    """An RGB picture of a part map for people: one fixed colour per class (background white), the
    palette of the training grids and ``shoes-client segment`` (`shoes_generator.imaging.palette`).

    Args:
        parts: ``uint8 [H, W]`` class indices.
    """
    return Image.fromarray(class_colors(check_part_map(parts)))
