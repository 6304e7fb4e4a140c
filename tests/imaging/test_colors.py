"""The dominant-colour classifier on synthetic solid and shaded shoes, on white and on black."""

import numpy as np
import pytest

from shoes_generator.imaging.colors import (
    COLOR_NAMES,
    REFERENCE_RGB,
    ColorRules,
    classify_batch,
    color_index,
    dominant_color,
    pixel_colors,
)
from tests.harness import shoe_image

WHITE, BLACK = (255, 255, 255), (0, 0, 0)

# Everyday names of shades a cataloguer would file under each colour.
SHADES = {
    "black": [(0, 0, 0), (30, 30, 30), (20, 20, 40)],
    "grey": [(128, 128, 128), (80, 80, 80), (190, 190, 190)],
    "white": [(255, 255, 255), (245, 245, 220), (230, 230, 250)],
    "red": [(255, 0, 0), (128, 0, 0), (178, 34, 34), (220, 20, 60)],
    "pink": [(255, 192, 203), (255, 105, 180), (250, 128, 114), (255, 20, 147)],
    "orange": [(255, 165, 0), (255, 140, 0), (255, 127, 80)],
    "brown": [(139, 69, 19), (160, 82, 45), (210, 180, 140), (101, 67, 33)],
    "yellow": [(255, 255, 0), (255, 215, 0), (240, 230, 140)],
    "green": [(0, 128, 0), (34, 139, 34), (46, 139, 87), (128, 128, 0)],
    "blue": [(0, 0, 255), (0, 0, 128), (65, 105, 225), (0, 128, 128), (135, 206, 235)],
    "purple": [(128, 0, 128), (75, 0, 130), (138, 43, 226), (147, 112, 219)],
}


def shaded(image, seed=0):
    """Top-lit shading (0.8-1.05) plus a little noise: a photo rather than a flat fill."""
    array = np.asarray(image).astype(np.float32)
    light = np.linspace(1.05, 0.8, array.shape[0])[:, None, None]
    noise = np.random.default_rng(seed).normal(0, 3, array.shape)
    is_shoe = np.any(array != array[0, 0], axis=-1, keepdims=True)
    return np.clip(np.where(is_shoe, array * light + noise, array), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name", COLOR_NAMES)
@pytest.mark.parametrize("background", [WHITE, BLACK], ids=["on_white", "on_black"])
def test_solid_and_shaded_shoes_get_their_colour(name, background):
    image = shoe_image(40, REFERENCE_RGB[name], background=background)
    for array in (np.asarray(image), shaded(image)):
        result = dominant_color(array)
        assert result.name == name, result.shares
        assert result.background == ("white" if background == WHITE else "black")


@pytest.mark.parametrize("name", COLOR_NAMES)
def test_named_shades_are_filed_under_their_colour(name):
    got = [COLOR_NAMES[i] for i in pixel_colors(np.array(SHADES[name], np.uint8))]
    assert got == [name] * len(SHADES[name])


def test_white_shoe_on_white_is_white_not_grey():
    image = np.asarray(shoe_image(48, (238, 238, 236)))  # its sole is grey (143)
    result = dominant_color(image)
    assert result.name == "white"
    assert 0.2 < result.foreground < 0.7  # the shoe was found, not the whole picture


def test_background_is_ignored_and_shares_are_votes():
    image = np.full((40, 40, 3), 255, np.uint8)
    image[10:30, 5:35] = (200, 30, 40)  # a red upper ...
    image[26:30, 5:35] = (236, 236, 236)  # ... on a white sole
    image[26:30, 5:6] = (120, 120, 120)
    result = dominant_color(image)
    assert result.name == "red"
    assert sum(result.shares.values()) == pytest.approx(1.0, abs=1e-3)
    assert result.shares["red"] > result.shares["white"] > 0
    assert result.shares["green"] == 0


def test_sandal_gaps_do_not_outvote_the_straps():
    image = np.full((40, 40, 3), 255, np.uint8)
    for top in range(8, 32, 6):
        image[top : top + 2, 4:36] = (30, 60, 190)  # thin blue straps ...
    image[8:34, 4:6] = image[8:34, 34:36] = (30, 60, 190)  # ... enclosing white gaps
    assert dominant_color(image).name == "blue"


def test_plain_picture_without_foreground():
    assert dominant_color(np.full((8, 8, 3), 255, np.uint8)).name == "white"
    assert dominant_color(np.zeros((8, 8, 3), np.uint8)).name == "black"


def test_batch_matches_single_images():
    images = np.stack([np.asarray(shoe_image(24, REFERENCE_RGB[name])) for name in COLOR_NAMES])
    indices, shares = classify_batch(images, chunk=4)
    assert list(indices) == list(range(len(COLOR_NAMES)))
    np.testing.assert_allclose(shares.sum(1), 1.0)
    assert dominant_color(images[3]).shares == {n: round(float(s), 4) for n, s in zip(COLOR_NAMES, shares[3])}


def test_rules_are_configurable():
    light_grey = np.full((1, 3), 215, np.uint8)
    assert COLOR_NAMES[pixel_colors(light_grey)[0]] == "white"
    assert COLOR_NAMES[pixel_colors(light_grey, ColorRules(white_value=0.9))[0]] == "grey"


def test_errors_say_what_was_received():
    with pytest.raises(ValueError, match=r"Received: shape=\(4, 4\)"):
        dominant_color(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="Received: 'beige'"):
        color_index("beige")
    assert color_index("white") == COLOR_NAMES.index("white")
