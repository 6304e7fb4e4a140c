"""Sketch styles: many ways to draw a Fashion-MNIST shoe as dark lines on white.

A sketch model trained on one edge detector's lines reads only those lines. Training it on
`TRAIN_STYLES` (several detectors and thresholds, stroke widths, jitter, dropped and broken
strokes, simplified outlines) and measuring it on `HELD_OUT_STYLES` (drawn ways training never
saw) tells how it reads sketches as people draw them.

A style is a function ``(shoe, rng) -> sketch``: `shoe` is a uint8 ``[32, 32]`` grayscale
Fashion-MNIST shoe (light on black, framed 28 -> 32), `rng` a ``numpy.random.Generator`` that
picks the style's settings, and the sketch a uint8 ``[S, S]`` image, 255 paper and darker
lines, on the style's own canvas (S = 32 to 96, the same framing). A model takes it as a user
sends it: encoded at S and fitted to its own size by the serving input. `draw_sketch` draws one
from a seed.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage
from skimage.feature import canny
from skimage.filters import sobel
from skimage.measure import approximate_polygon, find_contours
from skimage.morphology import remove_small_objects, skeletonize

from shoes_generator.imaging.edges import edge_map

Style = Callable[[np.ndarray, np.random.Generator], np.ndarray]
SHOE_SIZE = 32  # The framed Fashion-MNIST shoe every style draws from.
SILHOUETTE_LEVEL = 0.08  # Gray level (of 1) above which a pixel belongs to the shoe.
STYLES_VERSION = 1  # Bump when a style draws differently: cached training sketches are keyed by it.


# ---------------------------------------------------------------- shared pieces
def _gray(shoe: np.ndarray, size: int = SHOE_SIZE, margin: int = 0) -> np.ndarray:
    """The shoe as float ``[size, size]`` in [0, 1], resampled bilinearly when `size` is not 32.

    Args:
        shoe: uint8 ``[32, 32]``.
        size: the canvas side.
        margin: pixels cut from each side first (2: the 28 px shoe without Fashion-MNIST's frame, filling the canvas).
    """
    shoe = np.asarray(shoe)
    if shoe.dtype != np.uint8 or shoe.shape != (SHOE_SIZE, SHOE_SIZE):
        raise ValueError(f"A sketch style draws a uint8 [{SHOE_SIZE}, {SHOE_SIZE}] shoe. Received: dtype={shoe.dtype}, shape={shoe.shape}")
    shoe = shoe[margin : SHOE_SIZE - margin, margin : SHOE_SIZE - margin]
    if shoe.shape[0] != size:
        shoe = np.asarray(Image.fromarray(shoe).resize((size, size), Image.BILINEAR))
    return shoe.astype(np.float32) / 255.0


def silhouette(gray: np.ndarray) -> np.ndarray:
    """The shoe's filled silhouette (bool) of a ``[0, 1]`` gray shoe on black."""
    mask = gray > SILHOUETTE_LEVEL
    if not mask.any():
        return mask
    labels, count = ndimage.label(mask)
    largest = 1 + int(np.argmax(ndimage.sum(mask, labels, range(1, count + 1))))
    return ndimage.binary_fill_holes(labels == largest)


def _outline(mask: np.ndarray) -> np.ndarray:
    """The one-pixel inner boundary of a mask."""
    return mask & ~ndimage.binary_erosion(mask, border_value=1)


def _thicken(lines: np.ndarray, width: int) -> np.ndarray:
    """Lines drawn `width` pixels wide (square dilation)."""
    return ndimage.binary_dilation(lines, structure=np.ones((width, width), bool)) if width > 1 else lines


def _paper(ink: np.ndarray, darkness: float = 1.0) -> np.ndarray:
    """Ink in [0, 1] (bool or float) -> a uint8 sketch: 255 where there is none, ``255 (1 - darkness)`` at full ink."""
    ink = np.clip(np.asarray(ink, np.float32), 0.0, 1.0) * darkness
    return np.round(255.0 * (1.0 - ink)).astype(np.uint8)


def shape_contours(gray: np.ndarray, levels: tuple[float, ...]) -> list[np.ndarray]:
    """Ordered polylines (``[K, 2]`` row, col) along the shoe: its outline, then iso-lines of the
    smoothed gray image at `levels` inside it (seams, sole, top line), longest first.

    Args:
        gray: the shoe, float ``[H, W]`` in [0, 1].
        levels: iso-levels of the inner lines, as fractions of the shoe's brightest value.
    """
    mask = silhouette(gray)
    if not mask.any():
        return []
    outlines = find_contours(np.pad(mask.astype(np.float32), 1), 0.5)
    outlines = [c - 1 for c in sorted(outlines, key=len, reverse=True)[:1]]
    smooth = ndimage.gaussian_filter(gray, 0.7)
    inside = ndimage.binary_erosion(mask, iterations=2)
    inner = []
    for level in levels:
        for contour in find_contours(smooth, level * float(gray.max())):
            rows, cols = np.clip(np.round(contour).astype(int).T, 0, np.array(gray.shape)[:, None] - 1)
            kept = inside[rows, cols]
            inner += [piece for piece in _runs(contour, kept) if len(piece) >= 4]
    return outlines + sorted(inner, key=len, reverse=True)


def _runs(points: np.ndarray, keep: np.ndarray) -> list[np.ndarray]:
    """The consecutive stretches of `points` where `keep` is True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(int), [0]])))
    return [points[start:stop] for start, stop in zip(edges[::2], edges[1::2])]


def draw_polylines(polylines: list[np.ndarray], size: int, width: int) -> np.ndarray:
    """Ink (bool ``[size, size]``) of polylines given in 32-px shoe coordinates, drawn `width` px wide on a `size` canvas."""
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    scale = size / SHOE_SIZE
    for line in polylines:
        if len(line) < 2:
            continue
        points = [((c + 0.5) * scale - 0.5, (r + 0.5) * scale - 0.5) for r, c in line]
        draw.line(points, fill=255, width=width, joint="curve")
    return np.asarray(canvas) > 127


def smooth_field(rng: np.random.Generator, size: int, amplitude: float, cells: int = 4) -> np.ndarray:
    """A smooth random displacement field ``[2, size, size]`` (pixels), at most about `amplitude` a pixel."""
    coarse = rng.uniform(-amplitude, amplitude, size=(2, cells, cells))
    return np.stack([ndimage.zoom(c, size / cells, order=3, mode="nearest")[:size, :size] for c in coarse])


def jitter(ink: np.ndarray, rng: np.random.Generator, amplitude: float) -> np.ndarray:
    """`ink` moved by a smooth random displacement of up to about `amplitude` pixels (lines bend, stay whole)."""
    if amplitude <= 0:
        return ink
    size = ink.shape[0]
    rows, cols = np.mgrid[0:size, 0:size].astype(np.float32)
    field = smooth_field(rng, size, amplitude)
    moved = ndimage.map_coordinates(ink.astype(np.float32), [rows + field[0], cols + field[1]], order=1, mode="constant")
    return moved > 0.5 if ink.dtype == bool else moved


def drop_strokes(lines: np.ndarray, rng: np.random.Generator, probability: float) -> np.ndarray:
    """Lines with each connected stroke but the longest removed with `probability`."""
    labels, count = ndimage.label(lines, structure=np.ones((3, 3)))
    if count < 2 or probability <= 0:
        return lines
    sizes = ndimage.sum(lines, labels, range(1, count + 1))
    dropped = rng.random(count) < probability
    dropped[np.argmax(sizes)] = False
    return lines & ~np.isin(labels, 1 + np.flatnonzero(dropped))


def break_strokes(lines: np.ndarray, rng: np.random.Generator, gaps: int, radius: float) -> np.ndarray:
    """Lines with `gaps` holes of `radius` pixels cut at random points on them (broken strokes)."""
    points = np.argwhere(lines)
    if gaps <= 0 or not len(points):
        return lines
    rows, cols = np.mgrid[0 : lines.shape[0], 0 : lines.shape[1]]
    broken = lines.copy()
    for r, c in points[rng.integers(0, len(points), size=gaps)]:
        broken &= (rows - r) ** 2 + (cols - c) ** 2 > radius**2
    return broken


def strokes(lines: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The hand of a training sketch: one-pixel `lines` (bool, on a canvas of any size) with random
    dropped and broken strokes, a stroke width, a smooth jitter and an ink darkness -> a uint8 sketch.

    Each change is applied with its own probability, so some sketches keep the detector's clean lines.
    """
    scale = lines.shape[0] / SHOE_SIZE  # Amounts are set in 32-px shoe pixels.
    if rng.random() < 0.3:
        lines = drop_strokes(lines, rng, rng.uniform(0.1, 0.4))
    if rng.random() < 0.3:
        lines = break_strokes(lines, rng, int(rng.integers(1, 5)), rng.uniform(0.7, 1.5) * scale)
    width = int(rng.integers(1, max(2, round(2 * scale)) + 1)) if rng.random() < 0.5 else 1
    lines = _thicken(lines, width)
    if rng.random() < 0.5:
        lines = jitter(lines, rng, rng.uniform(0.3, 1.2) * scale)
    return _paper(lines, rng.uniform(0.6, 1.0) if rng.random() < 0.3 else 1.0)


# ---------------------------------------------------------------- training styles
def project_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The project's own sketch (`imaging.edges.edge_map`: outline + inner Canny edges, thinned) at 32 px, unchanged."""
    del rng  # The project's sketch has no random settings.
    return edge_map(np.repeat(shoe[..., None], 3, -1))


def canny_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Canny edges at 32 px with a random smoothing (sigma 0.6-1.8) and hysteresis thresholds, with or
    without the silhouette's outline, then `strokes`."""
    gray = _gray(shoe)
    low = rng.uniform(0.03, 0.15)
    lines = canny(gray, sigma=rng.uniform(0.6, 1.8), low_threshold=low, high_threshold=low * rng.uniform(1.5, 3.0))
    if rng.random() < 0.5:
        lines |= _outline(silhouette(gray))
    return strokes(lines, rng)


def sobel_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sobel gradient magnitude thresholded at a random share of its maximum (0.12-0.4) and thinned,
    on a 32, 48 or 96 px canvas, then `strokes`."""
    size = int(rng.choice([32, 48, 96]))
    gray = ndimage.gaussian_filter(_gray(shoe, size), rng.uniform(0.3, 1.0) * size / SHOE_SIZE)
    magnitude = sobel(gray)
    lines = skeletonize(magnitude > rng.uniform(0.12, 0.4) * max(float(magnitude.max()), 1e-6))
    return strokes(remove_small_objects(lines, max_size=2, connectivity=2), rng)


def xdog_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Difference of Gaussians with XDoG's soft threshold (Winnemoeller 2012): the shoe drawn dark on white,
    ink ``tanh(phi (p (G_sigma - G_1.6sigma) - epsilon))`` on the dark side of its edges, soft tapering grey
    lines; a 32 or 96 px canvas with random scale, sharpness, threshold and jitter."""
    size = int(rng.choice([32, 96]))
    paper = 1.0 - _gray(shoe, size)  # A dark shoe on white paper, as a photo would be.
    sigma = rng.uniform(0.5, 1.0) * size / SHOE_SIZE
    band = ndimage.gaussian_filter(paper, 1.6 * sigma) - ndimage.gaussian_filter(paper, sigma)  # > 0 on the dark side of an edge.
    strength, epsilon, phi = rng.uniform(10.0, 30.0), rng.uniform(0.05, 0.3), rng.uniform(2.0, 8.0)
    ink = np.clip(np.tanh(phi * (strength * band - epsilon)), 0.0, 1.0)
    ink[ink < 0.15] = 0.0  # Faint shading stays paper.
    return _paper(jitter(ink, rng, rng.uniform(0.0, 0.8) * size / SHOE_SIZE))


def outline_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A morphological outline of the silhouette (the mask minus its erosion) plus the borders between
    2-4 gray bands inside the shoe (sole, upper, lining), at 32 or 64 px, then `strokes`."""
    size = int(rng.choice([32, 64]))
    gray = _gray(shoe, size)
    mask = silhouette(gray)
    lines = _outline(mask)
    bands = np.digitize(ndimage.gaussian_filter(gray, 0.5 * size / SHOE_SIZE), np.sort(rng.uniform(0.2, 0.9, size=int(rng.integers(1, 4)))))
    inner = (bands != ndimage.grey_erosion(bands, size=3)) & ndimage.binary_erosion(mask, iterations=max(1, size // SHOE_SIZE))
    lines |= remove_small_objects(skeletonize(inner), max_size=2 * size // SHOE_SIZE, connectivity=2)
    return strokes(lines, rng)


def polygon_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Simplified outlines: the outline and inner iso-lines (`shape_contours`) through
    `skimage.measure.approximate_polygon` (tolerance 0.3-1.5 px), redrawn as straight polylines 1-2 px wide at 32 or 64 px."""
    size = int(rng.choice([32, 64]))
    levels = tuple(np.sort(rng.uniform(0.25, 0.8, size=int(rng.integers(1, 3)))))
    contours = shape_contours(_gray(shoe), levels)[: int(rng.integers(2, 6))]
    tolerance = rng.uniform(0.3, 1.5)
    polylines = [approximate_polygon(c, tolerance) for c in contours]
    return strokes(draw_polylines(polylines, size, int(rng.integers(1, 3)) if size > SHOE_SIZE else 1), rng)


# ---------------------------------------------------------------- held-out styles
def canny64_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Canny at another scale, as issue 18 measured it: the 28 px shoe without its frame resampled to fill
    a 64 px canvas (so 14% larger in the frame than in training), skimage's Canny (sigma 1, thresholds
    0.1 / 0.2; per seed sigma 1-1.5, thresholds +-30%), one-pixel lines; no outline, no thinning."""
    low = 0.1 * rng.uniform(0.7, 1.3)
    return _paper(canny(_gray(shoe, 64, margin=2), sigma=rng.uniform(1.0, 1.5), low_threshold=low, high_threshold=2 * low))


def mouse_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mouse strokes, as a designer draws: the outline cut into 2-3 strokes and the 1-3 longest inner
    lines, each smoothed (Chaikin corner cutting), wobbled by a slow hand tremor and drawn 1-3 px wide
    on a 64 px canvas, with small gaps where strokes meet."""
    contours = shape_contours(_gray(shoe), (0.45, 0.7))
    if not contours:
        return _paper(np.zeros((64, 64), bool))
    outline, inner = contours[0], contours[1 : 1 + int(rng.integers(1, 4))]
    cuts = np.sort(rng.choice(np.arange(4, len(outline) - 4), size=min(int(rng.integers(1, 3)), max(0, len(outline) - 8)), replace=False))
    pieces = [p for p in np.split(outline, cuts) if len(p) >= 3] + [p for p in inner if len(p) >= 5]
    strokes_drawn = [_wobble(_chaikin(approximate_polygon(p, 0.6), 2), rng) for p in pieces]
    strokes_drawn = [s[int(rng.integers(0, 2)) : len(s) - int(rng.integers(0, 2))] for s in strokes_drawn]  # Ends stop short.
    return _paper(draw_polylines(strokes_drawn, 64, int(rng.integers(1, 4))))


def laplacian_style(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Marr-Hildreth edges, a detector family training never saw: zero crossings of the Laplacian of
    Gaussian (sigma 1-1.8 at 48 px) where the image's gradient is strong, on a 48 px canvas (not a power of two)."""
    gray = _gray(shoe, 48)
    sigma = rng.uniform(1.0, 1.8)
    log = ndimage.gaussian_laplace(gray, sigma)
    crossing = np.zeros(log.shape, bool)
    crossing[:-1] |= np.signbit(log[:-1]) != np.signbit(log[1:])
    crossing[:, :-1] |= np.signbit(log[:, :-1]) != np.signbit(log[:, 1:])
    gradient = ndimage.gaussian_gradient_magnitude(gray, sigma)
    strong = gradient > rng.uniform(0.15, 0.3) * max(float(gradient.max()), 1e-6)
    return _paper(remove_small_objects(crossing & strong, max_size=3, connectivity=2))


def _chaikin(points: np.ndarray, rounds: int) -> np.ndarray:
    """A polyline smoothed by Chaikin's corner cutting (`rounds` times), ends kept."""
    for _ in range(rounds):
        if len(points) < 3:
            return points
        a, b = points[:-1], points[1:]
        cut = np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], axis=1).reshape(-1, 2)
        points = np.concatenate([points[:1], cut, points[-1:]])
    return points


def _wobble(points: np.ndarray, rng: np.random.Generator, amplitude: float = 0.5) -> np.ndarray:
    """A polyline displaced by slow noise (a hand's tremor) of about `amplitude` shoe pixels."""
    if len(points) < 2:
        return points
    length = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    knots = np.linspace(0, max(length[-1], 1e-6), max(3, int(length[-1] / 6) + 2))
    noise = rng.normal(0.0, amplitude, size=(len(knots), 2))
    return points + np.stack([np.interp(length, knots, noise[:, i]) for i in range(2)], axis=1)


TRAIN_STYLES: dict[str, Style] = {
    "project": project_style,
    "canny": canny_style,
    "sobel": sobel_style,
    "xdog": xdog_style,
    "outline": outline_style,
    "polygon": polygon_style,
}
HELD_OUT_STYLES: dict[str, Style] = {
    "canny64": canny64_style,
    "mouse": mouse_style,
    "laplacian": laplacian_style,
}
STYLES: dict[str, Style] = {**TRAIN_STYLES, **HELD_OUT_STYLES}


def draw_sketch(shoe: np.ndarray, style: str, seed: int | tuple[int, ...] = 0) -> np.ndarray:
    """One sketch of `shoe` in `style`, the same for the same seed.

    Args:
        shoe: uint8 ``[32, 32]`` Fashion-MNIST shoe, light on black.
        style: a name in `STYLES`.
        seed: seeds the style's settings (an int or a tuple, e.g. ``(data seed, index, variant)``).

    Returns:
        uint8 ``[S, S]`` dark lines on white, S the style's canvas (32-96).
    """
    if style not in STYLES:
        raise ValueError(f"Unknown sketch style. Known: train {sorted(TRAIN_STYLES)}, held out {sorted(HELD_OUT_STYLES)}. Received: style={style!r}")
    return STYLES[style](shoe, np.random.default_rng(seed))
