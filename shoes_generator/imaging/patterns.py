"""Patterns for pattern transfer (issue 17): procedural prints and real texture photographs,
rendered on exemplar objects (bags, boxes, blobs, sleeves, ellipses) on white and on the
Fashion-MNIST shoes with their own shading, plus the texture descriptor that measures fidelity.

NumPy, SciPy and scikit-image only (no TensorFlow); everything is deterministic from a seed.

Patterns
    A `PatternSpec` (id, kind, parameters, colours, seed) is drawn from its id alone
    (`pattern_spec`) and rendered at any size by `render_pattern`: parameters are in units of
    the canvas (a stripe period of 0.12 is 12% of the side at every size), so a pattern looks
    the same at 32 and 128 px. ``phase`` picks another piece of the same fabric (shifted
    stripes, other spot positions, another crop of a photograph): the exemplar and the shoe
    share the spec and differ in phase. The kinds (`PATTERN_KINDS`): stripes, checks
    (checkerboard or gingham), tartan, dots (polka, square or hexagonal), spots (cheetah-like
    blotches), leopard (rosettes: broken rings of dark spots around a lighter centre on a base
    colour), camouflage (smoothed noise thresholded into 3-4 colour regions), noise (coloured
    fractal value noise), gradient (linear, radial or stepped) and photo (random crops of the
    `skimage.data` textures; grey ones are tinted with a dark-to-light colour pair). Colours come
    from `PALETTE` (20 named colours), 2-4 per pattern; leopard, spots and camouflage take a
    realistic colouring (`REALISTIC_COLORINGS`: tan/camel/sand with black or espresso, woodland
    and desert camouflage) 60% of the time.

The held-out split (evaluation only, never in training)
    - Colourings: a colouring is held out when it holds both colours of one pair in
      `HELD_OUT_PAIRS` (sand+espresso, navy+orange, teal+pink, burgundy+mustard, olive+sky,
      purple+green). Every palette colour appears in training, but never with its held-out
      partner; training patterns are redrawn until they hold no such pair and held-out
      patterns always hold one (two realistic leopard colourings, sand/espresso, are among them).
    - Photographs: `HELD_OUT_TEXTURES` = ``gravel`` (tinted) and ``chelsea`` (crops of the cat's
      forehead fur); training uses brick, grass, text (tinted), immunohistochemistry,
      hubble_deep_field and retina.
    - Ids: training patterns have ids in ``[0, HELD_OUT_ID_START)``, held-out ones in
      ``[HELD_OUT_ID_START, 2 * HELD_OUT_ID_START)``; the id is the pattern's seed and says
      which side it is on (`PatternSpec.held_out`).

Objects
    `object_mask` draws a random bag (rounded trapezoid body and a handle loop), box (rounded
    rectangle, a lid seam in its shading), blob (thresholded smooth noise), sleeve (a tapered,
    tilted tube) or ellipse inside the canvas; `render_on_object` paints a pattern inside it on
    white, shaded by a light from above and darker edges. `render_on_shoes` paints a pattern
    inside a Fashion-MNIST shoe exactly as `colorize` tints it (same alpha, shading, highlights,
    contact shadow and framing): `colorize` is linear in the shoe's colour, so the shoe tinted
    black and white gives, per pixel, the affine map that a pattern colour goes through.

Texture descriptor (the fidelity measure of issue 17, item 4)
    `texture_descriptor(image, mask)` concatenates four blocks computed over the masked pixels
    (the mask eroded by one pixel, so the silhouette's edge does not count as texture):

    - ``lab_moments`` (6): mean and standard deviation of CIE L*, a*, b*;
    - ``hue`` (8): a histogram of the hue angle in the a*b* plane, each pixel weighted by its
      chroma, normalised to sum 1 (all zero for a grey pattern): robust to the shading, which
      changes lightness far more than hue;
    - ``orientation`` (2): the coherence of the structure tensor summed over L*, a*, b*
      (``(Jxx - Jyy, 2 Jxy) / (Jxx + Jyy)``): zero for isotropic prints, large for stripes
      and tilted checks, its direction the angle;
    - ``frequency`` (3): the energy in three difference-of-Gaussian bands (sigma 1-2, 2-4 and
      4-8 pixels at 64 px, scaled with the image) summed over L*, a*, b*, as fractions: fine
      prints from large motifs.

    Smoothing is normalised over the mask (``G(x m) / G(m)``), so the white background never
    leaks into a band. `nearest_exemplar` uses a centred, standardised Euclidean distance: the
    outputs and the exemplars are each centred on their own mean (what every shoe shares and no
    bag has, the darker shading and the horizontal soles, is no difference between patterns; so
    pass N outputs per exemplar), each dimension is divided by its standard deviation over the
    exemplars plus a quarter of its block's mean deviation (so a near-constant dimension cannot
    dominate), and each block is weighted by ``DESCRIPTOR_WEIGHTS / sqrt(its size)``: the two
    colour blocks 1, orientation and frequency 0.5 each. Measured on 6 x 12 held-out patterns x
    10 shoes, structure read on a 32 px shoe carries the shoe's own shading and is the less
    reliable half: with all four blocks at 1 the oracle top-1 (a pattern on a shoe against its
    exemplar on an object) fell from 0.91 to 0.84 at 32 px; colour alone gave 0.90.
"""

from __future__ import annotations

import dataclasses
import functools
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.spatial import cKDTree
from skimage.color import rgb2lab

from shoes_generator.data.names import HELD_OUT_COLOR_PAIRS, HELD_OUT_ID_START, HELD_OUT_TEXTURES, OBJECT_KINDS, PATTERN_KINDS
from shoes_generator.imaging.colorize import colorize, resize_matrix
from shoes_generator.imaging.colors import REFERENCE_RGB
from shoes_generator.imaging.masks import foreground_mask

PALETTE = MappingProxyType(
    {
        "black": (24, 22, 22),
        "charcoal": (62, 62, 68),
        "grey": (140, 140, 142),
        "cream": (238, 226, 196),
        "sand": (220, 190, 140),
        "tan": (196, 146, 88),
        "camel": (170, 115, 55),
        "brown": (118, 72, 40),
        "espresso": (62, 38, 24),
        "red": (195, 30, 40),
        "burgundy": (112, 22, 42),
        "orange": (236, 120, 30),
        "mustard": (222, 176, 40),
        "khaki": (168, 160, 110),
        "olive": (100, 108, 42),
        "green": (36, 128, 66),
        "teal": (18, 122, 126),
        "navy": (26, 40, 92),
        "blue": (42, 92, 196),
        "sky": (128, 180, 228),
        "pink": (242, 150, 182),
        "purple": (108, 54, 150),
    }
)
PALETTE_NAMES = tuple(PALETTE)
HELD_OUT_PAIRS = frozenset(frozenset(pair) for pair in HELD_OUT_COLOR_PAIRS)
# Colourings a designer would call natural, by kind; the held-out rule applies to them too.
REALISTIC_COLORINGS = MappingProxyType(
    {
        "leopard": (  # base, rosette ring, rosette centre
            ("tan", "black", "camel"), ("sand", "black", "tan"), ("camel", "black", "brown"), ("cream", "black", "sand"),
            ("grey", "black", "charcoal"), ("mustard", "black", "camel"), ("tan", "espresso", "brown"),
            ("sand", "espresso", "camel"), ("cream", "espresso", "sand"),
        ),
        "spots": (("tan", "black"), ("sand", "black"), ("mustard", "black"), ("cream", "black"), ("cream", "brown"),
                  ("sand", "espresso"), ("cream", "espresso")),
        "camouflage": (
            ("olive", "khaki", "brown", "black"), ("khaki", "olive", "espresso"), ("green", "olive", "brown", "black"),
            ("grey", "charcoal", "black", "cream"), ("sand", "tan", "brown", "espresso"), ("sand", "khaki", "espresso"),
        ),
    }
)
PHOTO_TEXTURES = MappingProxyType(  # skimage.data name -> (top, bottom, left, right) crop of the usable region, or None
    {
        "brick": None,
        "grass": None,
        "text": None,
        "immunohistochemistry": None,
        "hubble_deep_field": None,
        "retina": (420, 1000, 420, 1000),
        "gravel": None,
        "chelsea": (0, 105, 165, 300),
    }
)
TRAIN_TEXTURES = tuple(name for name in PHOTO_TEXTURES if name not in HELD_OUT_TEXTURES)
COLOR_COUNTS = MappingProxyType(  # kind -> (fewest, most) colours
    {"stripes": (2, 3), "checks": (2, 2), "tartan": (3, 4), "dots": (2, 3), "spots": (2, 2), "leopard": (3, 3),
     "camouflage": (3, 4), "noise": (2, 3), "gradient": (2, 3), "photo": (2, 2)}
)
REALISTIC_SHARE = 0.6
MIN_COLOR_DISTANCE = 18.0  # CIE Lab distance between any two colours of one pattern
# The colours `shoe_shading` tints a shoe in (its black and white prints, in [0, 1]): every print lies on the line between.
DARK_REFERENCE = tuple(channel / 255.0 for channel in REFERENCE_RGB["black"])
LIGHT_REFERENCE = tuple(channel / 255.0 for channel in REFERENCE_RGB["white"])
PAD_MARGIN = 2 / 32  # Fashion-MNIST's framing: the 28 px shoe inside a 32 px frame (`fmnist.FRAME_SIZE`)
DESCRIPTOR_BLOCKS = MappingProxyType({"lab_moments": 6, "hue": 8, "orientation": 2, "frequency": 3})
DESCRIPTOR_WEIGHTS = MappingProxyType({"lab_moments": 1.0, "hue": 1.0, "orientation": 0.5, "frequency": 0.5})
DESCRIPTOR_SIZE = sum(DESCRIPTOR_BLOCKS.values())
_LAB = MappingProxyType({name: rgb2lab(np.array(rgb, np.float64)[None, None] / 255.0)[0, 0] for name, rgb in PALETTE.items()})


@dataclasses.dataclass(frozen=True)
class PatternSpec:
    """One pattern: render it with `render_pattern` at any size and phase.

    Attributes:
        pattern_id: its id, also its seed; ids from `HELD_OUT_ID_START` on are held out.
        kind: one of `PATTERN_KINDS`.
        params: the kind's parameters (units of the canvas side).
        colors: palette names in role order (e.g. base, ring, centre); empty for a colour photo.
    """

    pattern_id: int
    kind: str
    params: Mapping[str, object]
    colors: tuple[str, ...]

    @property
    def held_out(self) -> bool:
        """Whether the pattern belongs to the held-out (evaluation) side."""
        return self.pattern_id >= HELD_OUT_ID_START


def is_held_out_coloring(colors: Sequence[str]) -> bool:
    """Whether a colouring holds both colours of a held-out pair (`HELD_OUT_PAIRS`)."""
    present = set(colors)
    return any(pair <= present for pair in HELD_OUT_PAIRS)


def _distinct(colors: Sequence[str]) -> bool:
    labs = np.array([_LAB[name] for name in colors])
    gaps = np.linalg.norm(labs[:, None] - labs[None], axis=-1)
    return bool(gaps[np.triu_indices(len(colors), 1)].min() >= MIN_COLOR_DISTANCE)


def sample_colors(kind: str, rng: np.random.Generator, held_out: bool) -> tuple[str, ...]:
    """A colouring for `kind`: 2-4 distinct palette names, on the training or the held-out side.

    Args:
        kind: one of `PATTERN_KINDS`.
        rng: the random generator.
        held_out: draw a held-out colouring (holds a `HELD_OUT_PAIRS` pair) or a training one (holds none).
    """
    realistic = [c for c in REALISTIC_COLORINGS.get(kind, ()) if is_held_out_coloring(c) == held_out]
    if realistic and rng.random() < REALISTIC_SHARE:
        return realistic[rng.integers(len(realistic))]
    low, high = COLOR_COUNTS[kind]
    pairs = sorted(sorted(pair) for pair in HELD_OUT_PAIRS)
    while True:
        count = int(rng.integers(low, high + 1))
        if held_out:
            pair = pairs[rng.integers(len(pairs))]
            rest = [name for name in PALETTE_NAMES if name not in pair]
            colors = [*pair, *rng.choice(rest, count - 2, replace=False)]
            colors = [colors[i] for i in rng.permutation(count)]
        else:
            colors = list(rng.choice(PALETTE_NAMES, count, replace=False))
        if is_held_out_coloring(colors) == held_out and _distinct(colors):
            return tuple(str(name) for name in colors)


def _draw_params(kind: str, rng: np.random.Generator, held_out: bool) -> dict:
    """The random parameters of a pattern of `kind` (lengths in units of the canvas side)."""
    if kind == "stripes":
        angle = float(rng.choice([0.0, 90.0])) if rng.random() < 0.5 else float(rng.uniform(0, 180))
        return {"period": float(rng.uniform(0.08, 0.25)), "angle": angle, "duty": float(rng.uniform(0.3, 0.6))}
    if kind == "checks":
        return {"period": float(rng.uniform(0.1, 0.28)), "angle": 45.0 if rng.random() < 0.2 else 0.0,
                "style": str(rng.choice(["checker", "gingham"]))}
    if kind == "tartan":
        bands = int(rng.integers(4, 7))
        return {"period": float(rng.uniform(0.3, 0.6)), "angle": 45.0 if rng.random() < 0.2 else 0.0,
                "widths": [float(w) for w in rng.dirichlet(np.full(bands, 1.5))], "order": [int(i) for i in rng.integers(0, 4, bands)]}
    if kind == "dots":
        return {"period": float(rng.uniform(0.1, 0.22)), "radius": float(rng.uniform(0.2, 0.36)),
                "lattice": str(rng.choice(["square", "hex"])), "angle": float(rng.uniform(0, 90))}
    if kind == "spots":
        return {"radius": float(rng.uniform(0.025, 0.05)), "cover": float(rng.uniform(0.22, 0.38)), "irregularity": float(rng.uniform(0.15, 0.35))}
    if kind == "leopard":
        return {"spacing": float(rng.uniform(0.13, 0.2)), "ring": float(rng.uniform(0.32, 0.45)), "gaps": int(rng.integers(3, 6)),
                "speckle": float(rng.uniform(0.0, 1.0))}
    if kind == "camouflage":
        return {"cells": float(rng.uniform(3.5, 6.0)), "cover": float(rng.uniform(0.3, 0.42))}
    if kind == "noise":
        return {"cells": float(rng.uniform(4, 10)), "octaves": int(rng.integers(1, 4))}
    if kind == "gradient":
        return {"style": str(rng.choice(["linear", "radial", "stepped"])), "angle": float(rng.uniform(0, 360)), "steps": int(rng.integers(3, 7)),
                "centre": [float(c) for c in rng.uniform(0.25, 0.75, 2)]}
    if kind == "photo":
        textures = HELD_OUT_TEXTURES if held_out else TRAIN_TEXTURES
        return {"texture": str(textures[rng.integers(len(textures))]), "crop": float(rng.uniform(0.3, 0.6))}
    raise ValueError(f"Unknown pattern kind; expected one of {PATTERN_KINDS}. Received: kind={kind!r}")


def pattern_spec(pattern_id: int, kind: str | None = None) -> PatternSpec:
    """The pattern of `pattern_id` (its seed): kind (random unless given), parameters and colours.

    Ids from `HELD_OUT_ID_START` on draw held-out colourings and textures, lower ids training ones.

    Args:
        pattern_id: a non-negative int below ``2 * HELD_OUT_ID_START``.
        kind: one of `PATTERN_KINDS`; None draws one.
    """
    if not 0 <= int(pattern_id) < 2 * HELD_OUT_ID_START:
        raise ValueError(f"pattern_id must lie in [0, {2 * HELD_OUT_ID_START}). Received: pattern_id={pattern_id!r}")
    rng = np.random.default_rng([int(pattern_id), 17])
    kind = PATTERN_KINDS[rng.integers(len(PATTERN_KINDS))] if kind is None else kind
    held_out = int(pattern_id) >= HELD_OUT_ID_START
    params = _draw_params(kind, rng, held_out)
    colored_photo = kind == "photo" and _texture(params["texture"]).shape[-1] == 3
    colors = () if colored_photo else sample_colors(kind, rng, held_out)
    if kind == "photo" and colors:
        colors = tuple(sorted(colors, key=lambda name: _LAB[name][0]))  # dark to light
    return PatternSpec(int(pattern_id), kind, params, colors)


# ----------------------------------------------------------------------------------------- painting


@functools.lru_cache(maxsize=64)
def _resize(size_in: int, size_out: int) -> np.ndarray:
    return resize_matrix(size_in, size_out)


def _value_noise(n: int, cells: float, rng: np.random.Generator, octaves: int = 1) -> np.ndarray:
    """Smooth noise ``[n, n]`` in about [0, 1] with `cells` features across the side (cubic value noise)."""
    field = np.zeros((n, n), np.float32)
    total = 0.0
    for octave in range(octaves):
        count = max(2, int(round(cells * 2**octave)))
        grid = rng.random((count + 3, count + 3)).astype(np.float32)
        big = max(n + 1, int(round(n * (count + 3) / count)))
        matrix = _resize(count + 3, big)
        top, left = rng.integers(0, big - n + 1, 2)
        field += 0.5**octave * (matrix[top : top + n] @ grid @ matrix[left : left + n].T)
        total += 0.5**octave
    return field / total


def _coords(n: int, angle: float = 0.0, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit pixel-centre coordinates ``[n, n]`` rotated by `angle` degrees and shifted by a random phase."""
    v, u = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) / n
    theta = np.deg2rad(angle)
    a = u * np.cos(theta) + v * np.sin(theta)
    b = -u * np.sin(theta) + v * np.cos(theta)
    if rng is not None:
        a, b = a + rng.random(), b + rng.random()
    return a, b


def _bands(t: np.ndarray, widths: Sequence[float]) -> np.ndarray:
    """Index of the band each value of `t` (in periods) falls in, bands of relative `widths` per period."""
    edges = np.cumsum(widths) / np.sum(widths)
    return np.searchsorted(edges[:-1], np.mod(t, 1.0), side="right")


def _nearest(u: np.ndarray, v: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel: the index of the nearest point, and its offset (du, dv) from that point."""
    _, index = cKDTree(points).query(np.stack([u.ravel(), v.ravel()], -1))
    index = index.reshape(u.shape)
    return index, u - points[index, 0], v - points[index, 1]


def _warp(u: np.ndarray, v: np.ndarray, amount: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = u.shape[0]
    return u + amount * (_value_noise(n, 4, rng) - 0.5), v + amount * (_value_noise(n, 4, rng) - 0.5)


def _paint_stripes(n, rng, rgb, p):
    a, _ = _coords(n, p["angle"], rng)
    k = len(rgb)
    widths = [p["duty"], 1 - p["duty"]] if k == 2 else [p["duty"] / 2, (1 - p["duty"]) / 2, p["duty"] / 2, (1 - p["duty"]) / 2]
    roles = np.array([0, 1] if k == 2 else [0, 1, 0, 2])
    return rgb[roles[_bands(a / p["period"], widths)]]


def _paint_checks(n, rng, rgb, p):
    a, b = _coords(n, p["angle"], rng)
    across, down = np.floor(a / p["period"]) % 2, np.floor(b / p["period"]) % 2
    if p["style"] == "checker":
        return rgb[((across + down) % 2).astype(int)]
    weight = ((across + down) / 2)[..., None]  # gingham: light, mixed and dark squares
    return (1 - weight) * rgb[0] + weight * rgb[1]


def _paint_tartan(n, rng, rgb, p):
    a, b = _coords(n, p["angle"], rng)
    order = np.array(p["order"]) % len(rgb)
    order[: len(rgb)] = np.arange(len(rgb))  # every colour in the sett
    warp = rgb[order[_bands(a / p["period"], p["widths"])]]
    weft = rgb[order[_bands(b / p["period"], p["widths"])]]
    return 0.5 * (warp + weft)


def _paint_dots(n, rng, rgb, p):
    a, b = _coords(n, p["angle"], rng)
    period = p["period"]
    rows = period * (np.sqrt(3) if p["lattice"] == "hex" else 1.0)
    da, db = np.mod(a, period) - period / 2, np.mod(b, rows) - rows / 2
    dist = np.hypot(da, db)
    color = np.zeros(a.shape, int)
    if p["lattice"] == "hex":
        ea, eb = np.mod(a + period / 2, period) - period / 2, np.mod(b + rows / 2, rows) - rows / 2
        second = np.hypot(ea, eb)
        color = np.where(second < dist, 1, 0)
        dist = np.minimum(dist, second)
    dot_color = 1 + color % (len(rgb) - 1)
    return rgb[np.where(dist < p["radius"] * period, dot_color, 0)]


def _paint_spots(n, rng, rgb, p):
    u, v = _coords(n)
    u, v = _warp(u, v, 1.5 * p["radius"], rng)
    count = int(round(p["cover"] / (np.pi * p["radius"] ** 2)))
    points = rng.uniform(-0.1, 1.1, (count, 2))
    sizes = p["radius"] * rng.uniform(0.6, 1.3, count)
    index, du, dv = _nearest(u, v, points)
    angle = np.arctan2(dv, du)
    wobble = 1 + p["irregularity"] * np.sin(2 * angle + index) * np.cos(3 * angle - 2 * index)
    return rgb[np.where(np.hypot(du, dv) < sizes[index] * wobble, 1, 0)]


def _paint_leopard(n, rng, rgb, p):
    spacing = p["spacing"]
    rows = spacing * np.sqrt(3) / 2
    j, i = np.mgrid[-1 : int(1 / rows) + 3, -1 : int(1 / spacing) + 3]
    points = np.stack([i * spacing + (j % 2) * spacing / 2, j * rows], -1).reshape(-1, 2).astype(np.float32)
    points += rng.uniform(-0.3, 0.3, points.shape) * spacing - rng.random(2) * spacing
    m = len(points)
    radius = spacing * rng.uniform(0.3, 0.4, m)
    phases = rng.uniform(0, 2 * np.pi, (3, m))
    u, v = _warp(*_coords(n), 0.25 * spacing, rng)
    index, du, dv = _nearest(u, v, points)
    dist, angle = np.hypot(du, dv), np.arctan2(dv, du)
    shape = 1 + 0.2 * np.sin(2 * angle + phases[0][index]) + 0.1 * np.sin(3 * angle + phases[1][index])
    edge = radius[index] * shape
    width = p["ring"] * edge * (0.7 + 0.45 * np.cos(p["gaps"] * angle + phases[2][index]))
    broken = np.cos(p["gaps"] * angle + phases[2][index]) > -0.35  # the ring breaks into separate spots
    ring = (np.abs(dist - edge) < width / 2) & broken
    centre = dist < edge - width / 2
    out = np.where(ring, 1, np.where(centre, 2, 0))
    if p["speckle"] > 0.3:  # small solid spots between the rosettes
        specks = rng.uniform(-0.05, 1.05, (int(p["speckle"] * 2 / spacing**2), 2))
        _, su, sv = _nearest(u, v, specks)
        out = np.where((np.hypot(su, sv) < 0.07 * spacing) & (dist > edge + width / 2), 1, out)
    return rgb[out]


def _paint_camouflage(n, rng, rgb, p):
    out = np.zeros((n, n), int)
    for layer in range(1, len(rgb)):
        field = _value_noise(n, p["cells"], rng, octaves=2)
        out = np.where(field > np.quantile(field, 1 - p["cover"]), layer, out)
    return rgb[out]


def _ramp(t: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """Colours along `t` in [0, 1] through the colours of `rgb` in order."""
    x = np.clip(t, 0, 1) * (len(rgb) - 1)
    low = np.minimum(np.floor(x).astype(int), len(rgb) - 2)
    frac = (x - low)[..., None]
    return (1 - frac) * rgb[low] + frac * rgb[low + 1]


def _paint_noise(n, rng, rgb, p):
    field = _value_noise(n, p["cells"], rng, p["octaves"])
    low, high = np.quantile(field, [0.02, 0.98])
    return _ramp((field - low) / max(high - low, 1e-6), rgb)


def _paint_gradient(n, rng, rgb, p):  # the same at every phase: an ombre spans the whole object
    u, v = _coords(n)
    if p["style"] == "radial":
        t = np.hypot(u - p["centre"][0], v - p["centre"][1]) / 0.75
    else:
        theta = np.deg2rad(p["angle"])
        t = (u - 0.5) * np.cos(theta) + (v - 0.5) * np.sin(theta) + 0.5
        if p["style"] == "stepped":
            t = np.floor(t * p["steps"]) / (p["steps"] - 1)
    return _ramp(t, rgb)


@functools.lru_cache(maxsize=len(PHOTO_TEXTURES))
def _texture(name: str) -> np.ndarray:
    """A `skimage.data` texture as ``float32 [H, W, C]`` in [0, 1] (C 1 or 3), cropped to its usable region."""
    import skimage.data

    if name not in PHOTO_TEXTURES:
        raise ValueError(f"Unknown texture; expected one of {tuple(PHOTO_TEXTURES)}. Received: {name!r}")
    image = np.asarray(getattr(skimage.data, name)())
    box = PHOTO_TEXTURES[name]
    if box is not None:
        image = image[box[0] : box[1], box[2] : box[3]]
    image = image[..., :3] if image.ndim == 3 else image[..., None]
    return image.astype(np.float32) / 255.0


def _paint_photo(n, rng, rgb, p):
    texture = _texture(p["texture"])
    side = max(8, int(p["crop"] * min(texture.shape[:2])))
    top, left = rng.integers(0, texture.shape[0] - side + 1), rng.integers(0, texture.shape[1] - side + 1)
    crop = texture[top : top + side, left : left + side]
    channels = [np.asarray(Image.fromarray(crop[..., c]).resize((n, n), Image.BILINEAR)) for c in range(crop.shape[-1])]
    crop = np.stack(channels, -1)
    if crop.shape[-1] == 3:
        return crop
    low, high = np.quantile(crop, [0.02, 0.98])
    return _ramp((crop[..., 0] - low) / max(high - low, 1e-6), rgb)


_PAINTERS = MappingProxyType(
    {"stripes": _paint_stripes, "checks": _paint_checks, "tartan": _paint_tartan, "dots": _paint_dots, "spots": _paint_spots,
     "leopard": _paint_leopard, "camouflage": _paint_camouflage, "noise": _paint_noise, "gradient": _paint_gradient,
     "photo": _paint_photo}
)
assert tuple(_PAINTERS) == PATTERN_KINDS


def _rgb(colors: Sequence) -> np.ndarray:
    """Palette names or RGB triples (0-255) -> ``float32 [k, 3]`` in [0, 1]."""
    return np.array([PALETTE[c] if isinstance(c, str) else c for c in colors], np.float32).reshape(-1, 3) / 255.0


def _paint(kind: str, size: int, rng: np.random.Generator, rgb: np.ndarray, params: Mapping) -> np.ndarray:
    """Paints at twice the side up to 96 px and averages 2x2 blocks (anti-aliasing); [0, 1] float32."""
    factor = 2 if size <= 96 else 1
    image = _PAINTERS[kind](size * factor, rng, rgb, params).astype(np.float32)
    if factor > 1:
        image = image.reshape(size, factor, size, factor, 3).mean((1, 3))
    return np.clip(image, 0, 1)


def render_pattern(spec: PatternSpec, size: int, phase: int = 0) -> np.ndarray:
    """The pattern of `spec` as ``float32 [size, size, 3]`` in [0, 1] (anti-aliased by supersampling).

    Args:
        spec: the pattern.
        size: the side in pixels.
        phase: which piece of the pattern: another phase shifts the stripes, moves the spots,
            crops elsewhere; the kind, scale, angle and colours stay.
    """
    if spec.kind not in _PAINTERS:
        raise ValueError(f"Unknown pattern kind; expected one of {PATTERN_KINDS}. Received: kind={spec.kind!r}")
    if not isinstance(size, (int, np.integer)) or size < 4:
        raise ValueError(f"size must be an int >= 4. Received: size={size!r}")
    return _paint(spec.kind, size, np.random.default_rng([spec.pattern_id, int(phase), 29]), _rgb(spec.colors), spec.params)


def generate(kind: str, size: int, rng: np.random.Generator, colors: Sequence | None = None) -> np.ndarray:
    """A pattern of `kind` with random parameters: ``float32 [size, size, 3]`` in [0, 1].

    Args:
        kind: one of `PATTERN_KINDS`.
        size: the side in pixels.
        rng: draws the parameters and the phase.
        colors: palette names or RGB triples (0-255), in role order; None draws a training colouring.
    """
    if kind not in _PAINTERS:
        raise ValueError(f"Unknown pattern kind; expected one of {PATTERN_KINDS}. Received: kind={kind!r}")
    params = _draw_params(kind, rng, held_out=False)
    colors = sample_colors(kind, rng, held_out=False) if colors is None else colors
    return _paint(kind, size, rng, _rgb(colors), params)


# The generators by kind: ``GENERATORS["leopard"](size, rng, colors)``.
GENERATORS = MappingProxyType({kind: functools.partial(generate, kind) for kind in PATTERN_KINDS})


# ------------------------------------------------------------------------------------------ objects


def _rounded(mask: np.ndarray, radius: float) -> np.ndarray:
    """`mask` with its corners rounded by an opening with a disk of `radius` pixels."""
    r = int(round(radius))
    if r < 1:
        return mask
    y, x = np.mgrid[-r : r + 1, -r : r + 1]
    return ndimage.binary_opening(mask, structure=x * x + y * y <= r * r)


def object_mask(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random object of `kind` (one of `OBJECT_KINDS`) as ``bool [size, size]``, inside the canvas.

    Args:
        kind: "bag" (a rounded trapezoid body with a handle loop), "box" (a rounded rectangle),
            "blob" (a smooth random blob), "sleeve" (a tapered, tilted tube) or "ellipse".
        size: the canvas side in pixels (>= 8).
        rng: draws size, placement and shape.
    """
    if kind not in OBJECT_KINDS:
        raise ValueError(f"Unknown object kind; expected one of {OBJECT_KINDS}. Received: kind={kind!r}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an int >= 8. Received: size={size!r}")
    v, u = (np.mgrid[0:size, 0:size].astype(np.float32) + 0.5) / size
    cx = 0.5 + rng.uniform(-0.06, 0.06)
    if kind == "bag":
        bottom_width = rng.uniform(0.6, 0.86)
        top_width = bottom_width * rng.uniform(0.68, 0.95)
        bottom = rng.uniform(0.86, 0.93)
        top = bottom - rng.uniform(0.4, 0.55)
        t = (v - top) / (bottom - top)
        half = (top_width + (bottom_width - top_width) * t) / 2
        body = _rounded((t >= 0) & (t <= 1) & (np.abs(u - cx) <= half), 0.06 * size)
        rx, ry = top_width * rng.uniform(0.25, 0.38), min(top - 0.05, rng.uniform(0.16, 0.26))
        thickness = rng.uniform(0.12, 0.2)
        r = np.hypot((u - cx) / rx, (v - top) / ry)
        handle = (np.abs(r - 1) < thickness / 2 + 0.5 / (size * ry)) & (v <= top + 0.02)
        mask = body | handle
    elif kind == "box":
        width, height = rng.uniform(0.5, 0.84), rng.uniform(0.42, 0.78)
        cy = 0.5 + rng.uniform(-0.05, 0.05)
        mask = _rounded((np.abs(u - cx) <= width / 2) & (np.abs(v - cy) <= height / 2), 0.03 * size)
    elif kind == "blob":
        cy = 0.5 + rng.uniform(-0.04, 0.04)
        falloff = 1 - np.hypot((u - cx) / rng.uniform(0.3, 0.42), (v - cy) / rng.uniform(0.28, 0.4))
        field = falloff + 0.6 * (_value_noise(size, 3, rng) - 0.5)
        mask = ndimage.binary_fill_holes(field > 0.15)
        labels, count = ndimage.label(mask)
        if count > 1:
            mask = labels == 1 + np.argmax(np.bincount(labels.ravel())[1:])
    elif kind == "sleeve":
        angle = np.deg2rad(rng.uniform(-50, 50) + (90 if rng.random() < 0.3 else 0))
        direction = np.array([np.cos(angle), np.sin(angle)])
        widths = rng.uniform(0.3, 0.42), rng.uniform(0.22, 0.32)  # shoulder, cuff
        half_length = np.sqrt(0.45**2 - (max(widths) / 2) ** 2)  # the corners stay inside
        along = (u - 0.5) * direction[0] + (v - 0.5) * direction[1]
        across = -(u - 0.5) * direction[1] + (v - 0.5) * direction[0]
        t = np.clip(along / (2 * half_length) + 0.5, 0, 1)
        half = (widths[0] + (widths[1] - widths[0]) * t) / 2
        mask = (np.abs(along) <= half_length) & (np.abs(across) <= half)
        mask = _rounded(mask, 0.04 * size)
    else:
        angle = np.deg2rad(rng.uniform(0, 180))
        ra, rb = rng.uniform(0.3, 0.42), rng.uniform(0.22, 0.36)
        cy = 0.5 + rng.uniform(-0.04, 0.04)
        a = (u - cx) * np.cos(angle) + (v - cy) * np.sin(angle)
        b = -(u - cx) * np.sin(angle) + (v - cy) * np.cos(angle)
        mask = (a / ra) ** 2 + (b / rb) ** 2 <= 1
    border = max(1, size // 32)
    mask[:border], mask[-border:], mask[:, :border], mask[:, -border:] = False, False, False, False
    return mask


def object_shading(mask: np.ndarray) -> np.ndarray:
    """``float32 [S, S]`` shading of an object: lighter at the top, darker towards its edges."""
    mask = np.asarray(mask, bool)
    size = mask.shape[0]
    rows = np.flatnonzero(mask.any(1))
    if not len(rows):
        return np.ones(mask.shape, np.float32)
    y = np.arange(size, dtype=np.float32)[:, None]
    top, bottom = rows[0], rows[-1] + 1
    light = 1.08 - 0.22 * np.clip((y - top) / max(bottom - top, 1), 0, 1)
    distance = ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]
    edges = 1 - 0.32 * np.exp(-distance / max(0.6, 0.035 * size))
    return (light * edges).astype(np.float32)


def render_on_object(pattern: np.ndarray, mask: np.ndarray, shading: np.ndarray | None = None) -> np.ndarray:
    """The pattern inside `mask` on white: ``uint8 [S, S, 3]``, shaded so it reads as an object.

    Args:
        pattern: ``float32 [S, S, 3]`` in [0, 1].
        mask: ``bool [S, S]``, the object.
        shading: ``[S, S]`` multiplier of the pattern; None for `object_shading(mask)`.
    """
    pattern, mask = np.asarray(pattern, np.float32), np.asarray(mask, bool)
    if pattern.ndim != 3 or pattern.shape[-1] != 3 or mask.shape != pattern.shape[:2]:
        raise ValueError(f"Expected a pattern [S, S, 3] and a mask [S, S]. Received: shapes {pattern.shape} and {mask.shape}")
    shading = object_shading(mask) if shading is None else np.asarray(shading, np.float32)
    alpha = np.clip(ndimage.gaussian_filter(mask.astype(np.float32), 0.5) * 1.5 - 0.25, 0, 1) * mask if mask.shape[0] > 48 else mask
    alpha = np.asarray(alpha, np.float32)[..., None]
    out = alpha * np.clip(pattern * shading[..., None], 0, 1) + (1 - alpha)
    return np.round(out * 255).astype(np.uint8)


def render_on_shoes(patterns: np.ndarray, gray: np.ndarray, seed: int | Sequence[int] = 0, margin: float = PAD_MARGIN) -> np.ndarray:
    """Patterns painted inside Fashion-MNIST shoes with their shading, on white: ``uint8 [N, S, S, 3]``.

    The shoe is tinted by `colorize` (same alpha, shading, highlights, contact shadow; `seed`
    picks its small per-image variation) with every pixel's colour taken from the pattern.

    Args:
        patterns: ``float32 [N, S, S, 3]`` in [0, 1].
        gray: ``uint8 [N, 28, 28]`` light shoes on black.
        seed: seed of the per-shoe shading variation.
        margin: background left on each side (default: Fashion-MNIST's 28-in-32 framing).
    """
    patterns = np.asarray(patterns, np.float32)
    gray = np.asarray(gray)
    if patterns.ndim != 4 or patterns.shape[-1] != 3 or patterns.shape[1] != patterns.shape[2] or len(patterns) != len(gray):
        raise ValueError(f"Expected patterns [N, S, S, 3] and shoes [N, H, W]. Received: shapes {patterns.shape} and {gray.shape}")
    return shade_prints(patterns, *shoe_shading(gray, patterns.shape[1], seed, margin))


def shade_prints(patterns: np.ndarray, dark: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Prints inside shoes given as the shoe in a black and in a white print (`shoe_shading`): each pixel's
    colour on the straight line between the two through the print's colour; ``uint8 [N, S, S, 3]``.

    Args:
        patterns: ``float32 [N, S, S, 3]`` in [0, 1].
        dark: ``float32 [N, S, S, 3]``, the shoes in black (`REFERENCE_RGB`'s).
        light: the same in white.
    """
    dark_ref, light_ref = np.asarray(DARK_REFERENCE, np.float32), np.asarray(LIGHT_REFERENCE, np.float32)
    out = dark + (light - dark) / (light_ref - dark_ref) * (np.asarray(patterns, np.float32) - dark_ref)
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def shoe_shading(gray: np.ndarray, size: int, seed: int | Sequence[int] = 0, margin: float = PAD_MARGIN) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST shoes tinted black and white as `render_on_shoes` shades its prints: two ``float32
    [N, S, S, 3]`` in [0, 1] (the shoe in a black print, in a white one); any print lies on the line between.

    Args:
        gray: ``uint8 [N, 28, 28]`` light shoes on black.
        size: S, the side in pixels.
        seed: seed of the per-shoe shading variation.
        margin: background left on each side.
    """
    dark = colorize(gray, ["black"] * len(gray), size=size, seed=seed, margin=margin).astype(np.float32) / 255.0
    light = colorize(gray, ["white"] * len(gray), size=size, seed=seed, margin=margin).astype(np.float32) / 255.0
    return dark, light


def render_on_shoe(pattern: np.ndarray, gray_shoe: np.ndarray, seed: int = 0) -> np.ndarray:
    """One pattern inside one Fashion-MNIST shoe (``uint8 [28, 28]``): ``uint8 [S, S, 3]``; see `render_on_shoes`."""
    return render_on_shoes(np.asarray(pattern)[None], np.asarray(gray_shoe)[None], seed)[0]


# --------------------------------------------------------------------------------------- descriptor


def _masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing normalised over `weight` (``G(x w) / G(w)``): the background does not leak in."""
    if sigma <= 0:
        return values
    return ndimage.gaussian_filter(values * weight, sigma) / np.maximum(ndimage.gaussian_filter(weight, sigma), 1e-6)


def texture_descriptor(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """The texture of an object: ``float64 [DESCRIPTOR_SIZE]`` (blocks in `DESCRIPTOR_BLOCKS`; see the module).

    Args:
        image: ``uint8 [S, S, 3]`` photo on white.
        mask: ``bool [S, S]``, the object; None for `foreground_mask(image)`.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"Expected a uint8 RGB image [S, S, 3]. Received: dtype={image.dtype}, shape={image.shape}")
    mask = foreground_mask(image) > 0 if mask is None else np.asarray(mask, bool)
    inner = ndimage.binary_erosion(mask)
    if inner.sum() < 4:
        inner = mask
    if not inner.any():
        return np.zeros(DESCRIPTOR_SIZE)
    lab = rgb2lab(image)
    pixels = lab[inner]
    moments = np.concatenate([pixels.mean(0), pixels.std(0)]) / np.array([100, 60, 60, 30, 30, 30])
    chroma = np.hypot(pixels[:, 1], pixels[:, 2])
    hue_bin = np.floor((np.arctan2(pixels[:, 2], pixels[:, 1]) + np.pi) / (2 * np.pi) * 8).astype(int) % 8
    hue = np.bincount(hue_bin, weights=chroma, minlength=8)
    hue = hue / hue.sum() if hue.sum() > 1e-6 * len(pixels) else hue * 0

    scale = image.shape[0] / 64
    weight = inner.astype(np.float64)
    tensor, bands = np.zeros(3), np.zeros(3)
    for channel in np.moveaxis(lab, -1, 0):  # L*, a*, b*
        smooth = _masked_blur(channel, weight, 0.5 * scale)
        gy, gx = ndimage.sobel(smooth, 0)[inner], ndimage.sobel(smooth, 1)[inner]
        tensor += [np.mean(gx * gx), np.mean(gx * gy), np.mean(gy * gy)]
        blurred = [_masked_blur(channel, weight, sigma * scale) for sigma in (1, 2, 4, 8)]
        bands += [np.mean((blurred[k] - blurred[k + 1])[inner] ** 2) for k in range(3)]
    trace = tensor[0] + tensor[2]
    orientation = np.array([tensor[0] - tensor[2], 2 * tensor[1]]) / trace if trace > 1e-9 else np.zeros(2)
    frequency = bands / bands.sum() if bands.sum() > 1e-9 else bands
    return np.concatenate([moments, hue, orientation, frequency])


def texture_descriptors(images: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
    """`texture_descriptor` of each image: ``[N, DESCRIPTOR_SIZE]``; `masks` ``[N, S, S]`` or None (foreground masks)."""
    return np.stack([texture_descriptor(image, None if masks is None else masks[i]) for i, image in enumerate(images)])


def descriptor_distances(descriptors_out: np.ndarray, descriptors_exemplars: np.ndarray) -> np.ndarray:
    """Centred, standardised, block-weighted Euclidean distances ``[N_out, N_exemplars]`` (see the module).

    Args:
        descriptors_out: ``[N_out, DESCRIPTOR_SIZE]``; centred on their mean when there are several
            (they should cover the exemplars evenly, e.g. N shoes per exemplar).
        descriptors_exemplars: ``[N_exemplars, DESCRIPTOR_SIZE]``.
    """
    out = np.atleast_2d(np.asarray(descriptors_out, np.float64))
    exemplars = np.atleast_2d(np.asarray(descriptors_exemplars, np.float64))
    if out.shape[-1] != DESCRIPTOR_SIZE or exemplars.shape[-1] != DESCRIPTOR_SIZE:
        raise ValueError(f"Expected descriptors of size {DESCRIPTOR_SIZE}. Received: shapes {out.shape} and {exemplars.shape}")
    if len(out) > 1 and len(exemplars) > 1:
        out, exemplars = out - out.mean(0), exemplars - exemplars.mean(0)
    spread = exemplars.std(0) if len(exemplars) > 1 else np.ones(DESCRIPTOR_SIZE)
    scale, weight, start = np.empty(DESCRIPTOR_SIZE), np.empty(DESCRIPTOR_SIZE), 0
    for name, size in DESCRIPTOR_BLOCKS.items():
        block = slice(start, start + size)
        scale[block] = spread[block] + 0.25 * spread[block].mean() + 1e-6
        weight[block] = DESCRIPTOR_WEIGHTS[name] / np.sqrt(size)
        start += size
    z_out, z_ex = out * weight / scale, exemplars * weight / scale
    return np.sqrt(np.maximum(((z_out[:, None] - z_ex[None]) ** 2).sum(-1), 0))


def nearest_exemplar(descriptors_out: np.ndarray, descriptors_exemplars: np.ndarray) -> np.ndarray:
    """For each output descriptor, the index of the nearest exemplar descriptor: ``int64 [N_out]``.

    The distance is `descriptor_distances`: both sets centred on their own means, each dimension
    divided by its spread over the exemplars (plus a quarter of its block's mean spread), each
    block weighted by ``DESCRIPTOR_WEIGHTS[block] / sqrt(its size)``.

    Args:
        descriptors_out: ``[N_out, DESCRIPTOR_SIZE]`` (e.g. of generated shoes, N per exemplar).
        descriptors_exemplars: ``[N_exemplars, DESCRIPTOR_SIZE]``.
    """
    return np.argmin(descriptor_distances(descriptors_out, descriptors_exemplars), axis=1).astype(np.int64)
