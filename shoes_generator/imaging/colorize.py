"""Tinting grayscale Fashion-MNIST shoes into product photos of a catalogue colour.

Fashion-MNIST shoes are light on black. Each one is upscaled to the target size
first (separable cubic interpolation), then:

- alpha comes from the intensity (the anti-aliased edge stays soft);
- shading: the intensity relative to the shoe's median becomes shadows
  (the colour darkened) and highlights (the colour mixed with white), so the
  texture and the sole survive and the shoe keeps one clear colour;
- a small per-image variation of hue, saturation, value and shading strength,
  and a light from above;
- a white background with a soft grey contact shadow under the sole and a faint
  halo, so white shoes stay visible on white.

All of it is vectorized over the batch and deterministic for a given seed.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
from matplotlib.colors import hsv_to_rgb, rgb_to_hsv
from scipy import ndimage

from shoes_generator.imaging.colors import COLOR_NAMES, REFERENCE_RGB, color_index


@dataclasses.dataclass(frozen=True)
class TintStyle:
    """How strongly a shoe is shaded and how much its shade varies.

    Attributes:
        shadow: darkening per unit of intensity below the shoe's median.
        highlight: mixing with white per unit of intensity above the median.
        min_shade: darkest multiplier of the colour (deep shadows, soles).
        max_highlight: strongest mixing with white.
        top_light: brightness difference between the top and the bottom of the frame.
        hue_jitter: per-image hue change, +/- degrees.
        saturation_jitter: per-image relative saturation change, +/-.
        value_jitter: per-image relative value change, +/-.
        strength_range: per-image range of the shading strength multiplier.
        edge: intensity (0-1) above which a pixel is fully opaque.
        rim_shading: shading kept at the silhouette (the anti-aliased rim is not a shadow).
        contact_shadow: darkness of the shadow under the sole (0-1).
        halo: darkness of the faint shadow around the whole shoe (0-1).
    """

    shadow: float = 1.0
    highlight: float = 0.7
    min_shade: float = 0.3
    max_highlight: float = 0.55
    top_light: float = 0.08
    hue_jitter: float = 5.0
    saturation_jitter: float = 0.08
    value_jitter: float = 0.06
    strength_range: tuple[float, float] = (0.75, 1.1)
    edge: float = 0.12
    rim_shading: float = 0.3
    contact_shadow: float = 0.3
    halo: float = 0.12


DEFAULT_STYLE = TintStyle()


def assign_colors(count: int, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Balanced, shuffled colour indices (into `COLOR_NAMES`) for `count` images.

    Args:
        count: how many images.
        seed: seed (or seed sequence) of the shuffle.
    """
    return np.random.default_rng(seed).permutation(np.resize(np.arange(len(COLOR_NAMES)), count))


def resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """The ``[size_out, size_in]`` matrix of a cubic (Keys, a=-0.5) resize with half-pixel centres.

    Downscaling widens the kernel (antialiasing). Edges replicate.

    Args:
        size_in: input length.
        size_out: output length.
    """
    scale = min(1.0, size_out / size_in)
    centres = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    reach = int(np.ceil(2 / scale))
    taps = np.floor(centres)[:, None] + np.arange(-reach + 1, reach + 1)[None, :]
    x = np.abs(centres[:, None] - taps) * scale
    weights = np.where(x <= 1, 1.5 * x**3 - 2.5 * x**2 + 1, np.where(x < 2, -0.5 * x**3 + 2.5 * x**2 - 4 * x + 2, 0))
    weights /= weights.sum(1, keepdims=True)
    matrix = np.zeros((size_out, size_in), np.float32)
    rows = np.repeat(np.arange(size_out), taps.shape[1])
    np.add.at(matrix, (rows, np.clip(taps, 0, size_in - 1).astype(int).ravel()), weights.ravel())
    return matrix


def upscale(gray: np.ndarray, size: int, margin: float = 0.0) -> np.ndarray:
    """Grayscale ``uint8 [N, h, w]`` -> ``float32 [N, size, size]`` in [0, 1], padded with 0.

    Args:
        gray: light shoes on black.
        size: output side.
        margin: fraction of `size` left as black padding on each side.
    """
    inner = max(1, int(round(size * (1 - 2 * margin))))
    rows, cols = resize_matrix(gray.shape[1], inner), resize_matrix(gray.shape[2], inner)
    out = np.einsum("ij,njk,lk->nil", rows, gray.astype(np.float32) / 255.0, cols, optimize=True)
    top = (size - inner) // 2
    return np.pad(np.clip(out, 0, 1), [(0, 0), (top, size - inner - top), (top, size - inner - top)])


def _base_colors(color_ids: np.ndarray, rng: np.random.Generator, style: TintStyle) -> np.ndarray:
    """Per-image shades ``[N, 3]`` in [0, 1]: the reference colours varied a little in HSV."""
    references = np.array([REFERENCE_RGB[name] for name in COLOR_NAMES], np.float32) / 255.0
    hsv = rgb_to_hsv(references[color_ids])
    n = len(color_ids)
    hsv[:, 0] = (hsv[:, 0] + rng.uniform(-1, 1, n) * style.hue_jitter / 360.0) % 1.0
    hsv[:, 1] = np.clip(hsv[:, 1] * (1 + rng.uniform(-1, 1, n) * style.saturation_jitter), 0, 1)
    hsv[:, 2] = np.clip(hsv[:, 2] * (1 + rng.uniform(-1, 1, n) * style.value_jitter), 0, 1)
    return hsv_to_rgb(hsv).astype(np.float32)


def _backgrounds(alpha: np.ndarray, style: TintStyle) -> np.ndarray:
    """White backgrounds ``[N, S, S]`` with a contact shadow under each sole and a faint halo."""
    n, size, _ = alpha.shape
    solid = alpha > 0.5
    rows, cols = solid.any(2), solid.any(1)
    bottom = np.where(rows.any(1), size - 1 - np.argmax(rows[:, ::-1], 1), size - 1).astype(np.float32)
    left = np.argmax(cols, 1).astype(np.float32)
    right = (size - 1 - np.argmax(cols[:, ::-1], 1)).astype(np.float32)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    rx = (0.55 * (right - left) + 1.0)[:, None, None]
    ry = max(1.5, 0.05 * size)
    r2 = ((x - ((left + right) / 2)[:, None, None]) / rx) ** 2 + ((y - bottom[:, None, None]) / ry) ** 2
    contact = style.contact_shadow * np.clip(1 - r2, 0, 1) ** 1.5
    contact = ndimage.gaussian_filter(contact, sigma=(0, size / 64, size / 64))
    halo = style.halo * ndimage.gaussian_filter(alpha, sigma=(0, size / 40, size / 40))
    halo = np.roll(halo, max(1, size // 64), axis=1)
    return 1.0 - np.maximum(contact, halo)


def _tint(gray: np.ndarray, base: np.ndarray, strength: np.ndarray, size: int, margin: float, style: TintStyle) -> np.ndarray:
    """One chunk of `colorize`: ``uint8 [n, size, size, 3]`` from shades ``[n, 3]`` and strengths ``[n]``."""
    n = len(gray)
    strength = strength[:, None, None]
    g = upscale(gray, size, margin)
    alpha = np.clip(g / style.edge, 0, 1)
    alpha = alpha * alpha * (3 - 2 * alpha)  # smoothstep: soft, anti-aliased edges
    inside = np.where(alpha > 0.9, g, np.nan)
    median = np.nan_to_num(np.nanmedian(inside.reshape(n, -1), axis=1), nan=0.5)[:, None, None]
    # Near the silhouette the intensity falls because of partial coverage, not shade:
    # fade the shading out there, or every shoe gets a drawn dark outline.
    rim = np.clip(ndimage.gaussian_filter(alpha, sigma=(0, size / 40, size / 40)) * 2 - 0.8, style.rim_shading, 1)
    d = (g - median) * strength * rim
    light = 1 + style.top_light * (0.5 - np.arange(size, dtype=np.float32) / size)[None, :, None]
    shade = np.clip(1 + style.shadow * np.minimum(d, 0), style.min_shade, 1) * light
    mix = np.clip(style.highlight * np.maximum(d, 0), 0, style.max_highlight)[..., None]
    shoe = np.clip(base[:, None, None, :] * shade[..., None], 0, 1)
    shoe = shoe + (1 - shoe) * mix
    out = alpha[..., None] * shoe + (1 - alpha[..., None]) * _backgrounds(alpha, style)[..., None]
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def colorize(
    gray: np.ndarray,
    colors: Sequence[int | str] | np.ndarray,
    size: int = 64,
    seed: int | Sequence[int] = 0,
    margin: float = 0.0,
    style: TintStyle = DEFAULT_STYLE,
    chunk: int = 512,
) -> np.ndarray:
    """Product photos ``uint8 [N, size, size, 3]`` of grayscale shoes tinted in catalogue colours.

    Args:
        gray: ``uint8 [N, h, w]`` light shoes on black (Fashion-MNIST).
        colors: per image, a colour name or an index into `COLOR_NAMES`.
        size: output side in pixels (>= 8).
        seed: seed (or seed sequence) of the per-image variation.
        margin: fraction of `size` left as background on each side.
        style: shading and variation strengths.
        chunk: images processed at once (bounds the memory).
    """
    gray = np.asarray(gray)
    if gray.ndim != 3 or gray.dtype != np.uint8:
        raise ValueError(f"Expected uint8 grayscale images [N, H, W]. Received: shape={gray.shape}, dtype={gray.dtype}")
    if not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an int >= 8. Received: size={size!r}")
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin must lie in [0, 0.5). Received: margin={margin!r}")
    ids = np.array([color_index(c) if isinstance(c, str) else int(c) for c in colors], np.int64)
    if len(ids) != len(gray):
        raise ValueError(f"Expected one colour per image ({len(gray)}). Received: {len(ids)} colours")
    if ids.size and (ids.min() < 0 or ids.max() >= len(COLOR_NAMES)):
        raise ValueError(f"Colour indices must lie in [0, {len(COLOR_NAMES)}). Received: {sorted(set(ids.tolist()))}")
    rng = np.random.default_rng(seed)
    base = _base_colors(ids, rng, style)
    strength = rng.uniform(*style.strength_range, len(ids)).astype(np.float32)
    out = np.empty((len(gray), size, size, 3), np.uint8)
    for start in range(0, len(gray), chunk):
        part = slice(start, start + chunk)
        out[part] = _tint(gray[part], base[part], strength[part], size, margin, style)
    return out
