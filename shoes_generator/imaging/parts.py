"""Part labels of side-view shoe photos, found geometrically from the image alone.

A photo on a plain (white or black) background becomes a map of class indices
(`PART_CLASSES`): background, sole, heel, upper, shaft, opening. The steps:

- foreground: `foreground_mask` (at a third of the threshold for a shoe nearly
  as light as its background; gaps of background colour inside it, such as
  between a sandal's straps, are opened again);
- toe direction: the heel end is the one with more of the silhouette in its
  top half (the collar and shaft stand at the back, the toe box is low); the
  work is done with the toe on the left and the labels mirrored back;
- ground line and sole: the sole is a band along the bottom contour, a few
  percent of the shoe's length thick;
- heel: where the underside rises clear of the ground between the toe and the
  heel end (an arch), everything below the seat behind the arch's highest
  point is the heel block; on flat shoes the heel is the back end of the sole;
- shaft: the upper above the ankle line (`ANKLE_HEIGHT` shoe lengths above
  the ground) behind the toe: ankle boots have it, most sneakers do not;
- opening: the collar where the foot goes in: shaded pixels just below the top
  contour of the back half, and the notch the top contour dips into between
  the tongue and the heel tab. It may be empty.

NumPy, SciPy and scikit-image only (no TensorFlow), deterministic, about 1.5 ms
per 32 px image on one core (docs/benchmarks.md, "Shoe parts").
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from shoes_generator.data.names import PART_CLASSES
from shoes_generator.imaging.masks import DEFAULT_THRESHOLD, background_distance, foreground_mask

BACKGROUND, SOLE, HEEL, UPPER, SHAFT, OPENING = range(len(PART_CLASSES))

SOLE_THICKNESS = 0.08  # Of the shoe's length: the sole band's thickness (at least one pixel).
ANKLE_HEIGHT = 0.55  # Of the shoe's length above the ground: the ankle line, above which the upper is shaft.
SHAFT_MIN_SHARE = 0.03  # Of the shoe's pixels: less upper than this above the ankle line stays upper.
ARCH_RISE = 0.07  # Of the shoe's length: how far the underside must rise off the ground for a heeled shoe.
FLAT_HEEL = 0.22  # Of the shoe's length: the back end of a flat shoe's sole that is its heel.
TOE_ZONE = 0.3  # Of the shoe's length from the toe: no shaft, no opening and no arch in it.
COLLAR_DEPTH = 0.12  # Of the shoe's length below the top contour: where the opening is looked for.
KEEP_FRACTION = 0.05  # Parts of the silhouette smaller than this share of the largest are dropped.
# A shoe of which `threshold` finds less than FAINT_SHARE of the pixels that FAINT_THRESHOLD times it finds
# (a white shoe on white) is cut out at the lower threshold, its faint halo and contact shadow included.
FAINT_SHARE, FAINT_THRESHOLD = 0.6, 1 / 3
THIN_LINES_BELOW = 64  # Smaller images keep one-pixel lines (straps, stilettos): no speck-removing opening.


def shoe_silhouette(image: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """The shoe's pixels, boolean ``[H, W]``: `foreground_mask`, with enclosed background-coloured gaps
    (between a sandal's straps) of a few pixels or more opened again; a faint shoe (white on white) is cut
    out at a third of `threshold`.

    Args:
        image: ``uint8 [H, W, 3]`` or ``[H, W]`` photo on a plain background.
        threshold: `foreground_mask`'s channel difference from the background.
    """
    opening = 1 if min(np.shape(image)[:2]) >= THIN_LINES_BELOW else 0  # At thumbnail sizes a 1 px line is a strap.
    distance = background_distance(image, smoothing=1)  # Unfiltered: only compared with the threshold here.
    if np.count_nonzero(distance > threshold) < FAINT_SHARE * np.count_nonzero(distance > threshold * FAINT_THRESHOLD):
        # A shoe about as light (or dark) as its background: its pale inside is shoe, not gaps.
        return foreground_mask(image, threshold=threshold * FAINT_THRESHOLD, opening=opening, keep_fraction=KEEP_FRACTION) > 0
    filled = foreground_mask(image, threshold=threshold, opening=opening, keep_fraction=KEEP_FRACTION) > 0
    gaps, count = ndimage.label(filled & (distance <= threshold / 2))
    if count:
        rows, cols = np.nonzero(filled)
        smallest = max(3, 0.004 * (np.ptp(rows) + 1) * (np.ptp(cols) + 1))  # Shading specks stay shoe.
        areas = np.bincount(gaps.ravel())
        opened = np.flatnonzero(areas >= smallest)
        filled &= ~np.isin(gaps, opened[opened > 0])
    return filled


def toe_points_left(mask: np.ndarray) -> bool:
    """Whether the toe of the shoe in `mask` points left (Fashion-MNIST's way): the heel end is the half
    of the bounding box with more of the silhouette in its top half (ties: the heavier half overall).

    Args:
        mask: boolean ``[H, W]`` silhouette.
    """
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return True
    middle_row = (rows.min() + rows.max()) / 2
    middle_col = (cols.min() + cols.max()) / 2
    top = rows < middle_row
    left_top, right_top = np.sum(top & (cols < middle_col)), np.sum(top & (cols > middle_col))
    if left_top != right_top:
        return right_top > left_top
    return np.sum(cols > middle_col) >= np.sum(cols < middle_col)


def _brightness(image: np.ndarray) -> np.ndarray:
    """``float [H, W]`` luminance of a ``[H, W, 3]`` or ``[H, W]`` image."""
    image = np.asarray(image, np.float32)
    return image if image.ndim == 2 else image[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)


def _label_left_toe(mask: np.ndarray, brightness: np.ndarray) -> np.ndarray:
    """`label_parts` for a silhouette whose toe points left (the heel is on the right)."""
    height, width = mask.shape
    parts = np.where(mask, UPPER, BACKGROUND).astype(np.uint8)
    cols_with = np.flatnonzero(mask.any(axis=0))
    if not len(cols_with):
        return parts
    rows_index = np.arange(height)[:, None]
    toe, heel_end = cols_with[0], cols_with[-1]
    length = heel_end - toe + 1
    along = (np.arange(width) - toe) / max(length - 1, 1)  # 0 at the toe, 1 at the heel end.
    present = mask.any(axis=0)
    bottom = np.where(present, height - 1 - np.argmax(mask[::-1], axis=0), -1)
    top = np.where(present, np.argmax(mask, axis=0), height)
    ground = bottom.max()
    thickness = max(1, round(SOLE_THICKNESS * length))

    # The heel: below the seat behind the arch, or the back end of a flat sole; the sole: a band along the
    # bottom contour (along the seat behind the arch).
    rise = np.where(present & (along >= TOE_ZONE), ground - bottom, 0)
    arch = int(np.argmax(rise))
    behind = np.arange(width) > arch
    heeled = rise[arch] >= max(2, ARCH_RISE * length) and (rise[behind & present] <= 1).any()
    sole_bottom = np.where(behind, bottom[arch], bottom) if heeled else bottom
    sole = mask & (rows_index > sole_bottom - thickness) & (rows_index <= sole_bottom)
    heel = mask & behind & (rows_index > bottom[arch]) if heeled else sole & (along > 1 - FLAT_HEEL)
    parts[sole] = SOLE
    parts[heel] = HEEL

    # The shaft: the upper above the ankle line, away from the toe.
    seat = bottom[arch] if heeled else ground  # The foot stands on the seat of a heeled shoe.
    ankle = seat - ANKLE_HEIGHT * length
    upper = parts == UPPER
    shaft = upper & (rows_index < ankle) & (along >= TOE_ZONE)
    if shaft.sum() >= SHAFT_MIN_SHARE * mask.sum():  # A collar tab just over the line is no shaft.
        parts[shaft] = SHAFT

    # The opening: shaded pixels right under the top contour behind the toe, or the notch the top dips into.
    depth = max(1, round(COLLAR_DEPTH * length))
    collar = (parts >= UPPER) & (rows_index >= top) & (rows_index < top + depth) & (along >= TOE_ZONE + 0.1) & (along < 0.97)
    shoe = brightness[parts >= UPPER]
    if shoe.size:
        spread = max(np.percentile(shoe, 75) - np.percentile(shoe, 25), 12.0)
        dark = brightness < np.median(shoe) - 1.2 * spread
        opening = collar & dark
        heights = np.where(present, ground - top, 0).astype(np.float64)
        level = np.minimum(np.maximum.accumulate(heights), np.maximum.accumulate(heights[::-1])[::-1])
        notch = (level - heights >= max(1, 0.04 * length)) & (along >= TOE_ZONE)
        opening |= collar & notch[None, :] & (rows_index < top + max(1, round(0.6 * depth)))
        opening = ndimage.binary_opening(opening, np.ones((1, 2))) | ndimage.binary_opening(opening, np.ones((2, 1)))
        parts[opening] = OPENING
    return parts


def label_parts(image: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """The part map of a side-view shoe photo on a plain background: ``uint8 [H, W]`` indices into `PART_CLASSES`.

    Args:
        image: ``uint8 [H, W, 3]`` (or ``[H, W]``) photo, any size; the shoe seen from the side, toe left or right.
        threshold: channel difference from the background colour above which a pixel is the shoe (0-255).

    Raises:
        ValueError: `image` is not a uint8 ``[H, W]`` or ``[H, W, C]`` array.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or min(image.shape[:2]) < 2:
        raise ValueError(f"label_parts expects a uint8 image [H, W] or [H, W, C], at least 2 x 2. Received: dtype={image.dtype}, shape={image.shape}")
    mask = shoe_silhouette(image, threshold)
    brightness = _brightness(image)
    if toe_points_left(mask):
        return _label_left_toe(mask, brightness)
    return _label_left_toe(mask[:, ::-1], brightness[:, ::-1])[:, ::-1].copy()


def label_parts_batch(images: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """`label_parts` of every image: ``uint8 [N, H, W, 3]`` (or ``[N, H, W]``) -> ``uint8 [N, H, W]``.

    Args:
        images: a batch of photos on plain backgrounds.
        threshold: see `label_parts`.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"label_parts_batch expects images [N, H, W, 3] or [N, H, W]. Received: shape={images.shape}")
    parts = np.zeros(images.shape[:3], np.uint8)
    for index, image in enumerate(images):
        parts[index] = label_parts(image, threshold)
    return parts


def part_shares(parts: np.ndarray) -> dict[str, float]:
    """Each part's share of the foreground pixels in `parts` (one map or a batch; 0 when there is none).

    Args:
        parts: integer class indices into `PART_CLASSES`.
    """
    counts = np.bincount(np.asarray(parts, np.int64).ravel(), minlength=len(PART_CLASSES))[: len(PART_CLASSES)]
    foreground = counts[1:].sum()
    return {name: float(count / foreground) if foreground else 0.0 for name, count in zip(PART_CLASSES[1:], counts[1:])}


def average_shares(shares: list[dict[str, float]], digits: int = 4) -> dict[str, float | None]:
    """The mean of per-image `part_shares` (each image counts once, whatever its size), rounded.

    Args:
        shares: one `part_shares` dict per image that has a foreground.
        digits: decimals kept.

    Returns:
        ``{part: mean share}`` over `PART_CLASSES` without the background; None for each when `shares` is empty.
    """
    return {name: round(float(np.mean([share[name] for share in shares])), digits) if shares else None for name in PART_CLASSES[1:]}
