"""The 11 catalogue colours and the rule-based dominant-colour classifier.

The classifier reads a product photo the way a cataloguer would:

1. the background is the median colour of the border pixels (white or black
   for product photos);
2. the foreground is every pixel that differs from it, plus the holes it
   encloses at a lower weight (the highlights of a white shoe on white, but
   also the gaps between sandal straps), minus one pixel at the silhouette
   (anti-aliased edges mix shoe and background);
3. each foreground pixel gets a colour by rules over RGB, hue, saturation and
   value (`ColorRules`), and the colour with the most (weighted) votes wins.

Everything is vectorized over a batch of same-sized images.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import numpy as np
from scipy import ndimage

COLOR_NAMES = ("black", "blue", "brown", "green", "grey", "orange", "pink", "purple", "red", "white", "yellow")
REFERENCE_RGB = MappingProxyType(
    {
        "black": (28, 28, 30),
        "blue": (35, 75, 185),
        "brown": (115, 70, 40),
        "green": (40, 135, 60),
        "grey": (130, 130, 132),
        "orange": (240, 125, 25),
        "pink": (245, 150, 190),
        "purple": (115, 55, 160),
        "red": (200, 30, 40),
        "white": (242, 242, 240),
        "yellow": (245, 210, 40),
    }
)
_INDEX = MappingProxyType({name: i for i, name in enumerate(COLOR_NAMES)})
# In-plane connectivity only: a batch [N, H, W] is N separate images.
_PLANE = np.zeros((3, 3, 3), bool)
_PLANE[1] = ndimage.generate_binary_structure(2, 1)


def color_index(name: str) -> int:
    """The position of a colour name in `COLOR_NAMES`.

    Args:
        name: one of `COLOR_NAMES`.
    """
    if name not in _INDEX:
        raise ValueError(f"Unknown colour; expected one of {COLOR_NAMES}. Received: {name!r}")
    return _INDEX[name]


@dataclasses.dataclass(frozen=True)
class ColorRules:
    """Thresholds of the per-pixel rules (hue in degrees, saturation, value and chroma in [0, 1]).

    Attributes:
        min_chroma: below this chroma (max - min channel) a pixel is achromatic.
        min_saturation: below this saturation a pixel is achromatic.
        black_value: achromatic (or any) pixels darker than this are black.
        white_value: achromatic pixels at least this bright are white; between
            the two they are grey.
        hue_edges: upper hue bounds of red, orange, yellow, green, blue, purple
            and magenta; hues above the last one are red again.
        brown_value: orange hues darker than this are brown.
        olive_value: yellow hues darker than this are olive, counted as green.
        tan_saturation: orange hues with less saturation than this are brown
            (tan, camel, beige).
        dark_red_value: red hues darker than this with less saturation than
            `dark_red_saturation` are brown (a saturated dark red stays red).
        dark_red_saturation: see `dark_red_value`.
        pink_value: red and magenta hues at least this bright are pink when their
            saturation is below `pink_saturation` (red) or always (magenta).
        pink_saturation: see `pink_value`.
        background_tolerance: a pixel is foreground when one channel differs from
            the background by more than this (0-255).
        closing: iterations of the binary closing that joins the foreground
            before its holes are filled.
        hole_weight: vote weight of the enclosed pixels that look like background.
    """

    min_chroma: float = 0.09
    min_saturation: float = 0.16
    black_value: float = 0.24
    white_value: float = 0.8
    hue_edges: tuple[float, ...] = (12.0, 40.0, 68.0, 165.0, 255.0, 285.0, 345.0)
    brown_value: float = 0.66
    olive_value: float = 0.52
    tan_saturation: float = 0.45
    dark_red_value: float = 0.5
    dark_red_saturation: float = 0.7
    pink_value: float = 0.7
    pink_saturation: float = 0.6
    background_tolerance: int = 12
    closing: int = 1
    hole_weight: float = 0.25


DEFAULT_RULES = ColorRules()


@dataclasses.dataclass(frozen=True)
class DominantColor:
    """The colour of one image.

    Attributes:
        name: the winning colour, one of `COLOR_NAMES`.
        shares: fraction of the foreground pixels voting for each colour.
        background: "white" or "black" (the border's brightness).
        foreground: fraction of the image taken by the foreground.
    """

    name: str
    shares: dict[str, float]
    background: str
    foreground: float


def rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hue (degrees), saturation, value and chroma of ``uint8`` RGB pixels ``[..., 3]``."""
    rgb = np.asarray(rgb, np.float32) / 255.0
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = rgb.max(-1)
    chroma = value - rgb.min(-1)
    safe = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(value == r, (g - b) / safe % 6.0, np.where(value == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    hue = np.where(chroma > 0, hue * 60.0, 0.0)
    saturation = np.where(value > 0, chroma / np.where(value > 0, value, 1.0), 0.0)
    return hue, saturation, value, chroma


def pixel_colors(rgb: np.ndarray, rules: ColorRules = DEFAULT_RULES) -> np.ndarray:
    """The colour index (into `COLOR_NAMES`) of every pixel of ``uint8`` ``[..., 3]``.

    Args:
        rgb: the pixels.
        rules: the thresholds.
    """
    hue, sat, val, chroma = rgb_to_hsv(rgb)
    i = _INDEX
    red_hi, orange_hi, yellow_hi, green_hi, blue_hi, purple_hi, magenta_hi = rules.hue_edges
    red = (hue < red_hi) | (hue >= magenta_hi)
    orange = (hue >= red_hi) & (hue < orange_hi)
    yellow = (hue >= orange_hi) & (hue < yellow_hi)
    magenta = (hue >= purple_hi) & (hue < magenta_hi)
    conditions = [
        val < rules.black_value,
        (chroma < rules.min_chroma) | (sat < rules.min_saturation),
        red & (val >= rules.pink_value) & (sat < rules.pink_saturation),
        red & (val < rules.dark_red_value) & (sat < rules.dark_red_saturation),
        red,
        orange & ((val < rules.brown_value) | (sat < rules.tan_saturation)),
        orange,
        yellow & (val < rules.olive_value),
        yellow,
        hue < green_hi,
        hue < blue_hi,
        magenta & (val >= rules.pink_value),
        hue < magenta_hi,
    ]
    achromatic = np.where(val < rules.white_value, i["grey"], i["white"])
    choices = [i["black"], achromatic, i["pink"], i["brown"], i["red"], i["brown"], i["orange"], i["green"],
               i["yellow"], i["green"], i["blue"], i["pink"], i["purple"]]  # fmt: skip
    return np.select(conditions, choices, default=i["purple"]).astype(np.int8)


def foreground_weights(images: np.ndarray, rules: ColorRules = DEFAULT_RULES) -> tuple[np.ndarray, np.ndarray]:
    """Vote weights ``float32 [N, H, W]`` of the foreground and background colours ``uint8 [N, 3]``.

    Pixels that differ from the background weigh 1; pixels enclosed by them
    (holes of the mask, e.g. the highlights of a white shoe on white, but also
    the gaps between sandal straps) weigh ``rules.hole_weight``; one pixel is
    eroded off the silhouette (its colours are mixed with the background).

    Args:
        images: ``uint8 [N, H, W, 3]``.
        rules: supplies the background tolerance and the hole weight.
    """
    images = np.asarray(images)
    border = np.concatenate([images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1)
    background = np.median(border, axis=1).astype(np.int16)
    core = np.abs(images.astype(np.int16) - background[:, None, None, :]).max(-1) > rules.background_tolerance
    closed = ndimage.binary_closing(core, structure=_PLANE, iterations=rules.closing)
    mask = ndimage.binary_fill_holes(closed | core, structure=_PLANE)
    eroded = ndimage.binary_erosion(mask, structure=_PLANE)
    # Keep the un-eroded mask where erosion leaves (almost) nothing: thin or tiny shoes.
    enough = eroded.sum((1, 2)) >= np.maximum(4, 0.3 * mask.sum((1, 2)))
    mask = np.where(enough[:, None, None], eroded, mask)
    return np.where(core, 1.0, rules.hole_weight).astype(np.float32) * mask, background.astype(np.uint8)


def color_shares(images: np.ndarray, rules: ColorRules = DEFAULT_RULES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-colour vote shares of the foreground of each image in a batch.

    An image without foreground votes with all its pixels (a plain white or
    black picture is that colour).

    Args:
        images: ``uint8 [N, H, W, 3]``.
        rules: the thresholds.

    Returns:
        shares ``float [N, 11]`` (rows sum to 1), background brightness
        ``float [N]`` in [0, 1], foreground fraction ``float [N]``.
    """
    images = np.asarray(images, np.uint8)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"Expected uint8 images [N, H, W, 3]. Received: shape={images.shape}")
    weights, background = foreground_weights(images, rules)
    fraction = (weights > 0).mean((1, 2))
    weights[fraction == 0] = 1.0
    n = len(images)
    votes = pixel_colors(images, rules).astype(np.int64) + len(COLOR_NAMES) * np.arange(n)[:, None, None]
    counts = np.bincount(votes.ravel(), weights=weights.ravel(), minlength=n * len(COLOR_NAMES)).reshape(n, len(COLOR_NAMES))
    return counts / counts.sum(1, keepdims=True), background.mean(1) / 255.0, fraction


def classify_batch(images: np.ndarray, rules: ColorRules = DEFAULT_RULES, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Dominant colour indices ``[N]`` and vote shares ``[N, 11]`` of same-sized images.

    Args:
        images: ``uint8 [N, H, W, 3]``.
        rules: the thresholds.
        chunk: images processed at once (bounds the memory).
    """
    images = np.asarray(images)
    shares = np.concatenate([color_shares(images[i : i + chunk], rules)[0] for i in range(0, len(images), chunk)])
    return shares.argmax(1), shares


def dominant_color(image: np.ndarray, rules: ColorRules = DEFAULT_RULES) -> DominantColor:
    """The dominant catalogue colour of one ``uint8`` RGB image ``[H, W, 3]``.

    Args:
        image: the photo (white or black background).
        rules: the thresholds.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"Expected a uint8 RGB image [H, W, 3]. Received: shape={image.shape}, dtype={image.dtype}")
    shares, brightness, fraction = color_shares(image[None], rules)
    return DominantColor(
        name=COLOR_NAMES[int(shares[0].argmax())],
        shares={name: round(float(share), 4) for name, share in zip(COLOR_NAMES, shares[0])},
        background="white" if brightness[0] >= 0.5 else "black",
        foreground=round(float(fraction[0]), 4),
    )
