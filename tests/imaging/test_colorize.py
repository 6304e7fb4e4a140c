"""Tinting grayscale shoes into product photos: determinism, white background, shading, soft edges."""

import numpy as np
import pytest

from shoes_generator.imaging.colorize import assign_colors, colorize, resize_matrix, upscale
from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch
from tests.harness import shoe_image


def gray_shoes(count=4):
    """Light shoes on black (Fashion-MNIST style) with a darker sole and some texture."""
    base = np.asarray(shoe_image(28, (190, 190, 190), background=(0, 0, 0)).convert("L")).astype(np.float32)
    texture = np.random.default_rng(0).uniform(0.8, 1.15, (count, 28, 28))
    return np.clip(base * texture, 0, 255).astype(np.uint8)


def test_same_seed_same_images_other_seed_other_shades():
    gray = gray_shoes()
    first = colorize(gray, ["red"] * 4, size=32, seed=7)
    np.testing.assert_array_equal(first, colorize(gray, ["red"] * 4, size=32, seed=7))
    assert not np.array_equal(first, colorize(gray, ["red"] * 4, size=32, seed=8))
    same_shoe = colorize(np.repeat(gray[:1], 2, axis=0), ["red", "red"], size=32, seed=7)
    assert np.abs(same_shoe[0].astype(int) - same_shoe[1]).max() > 3  # each image gets its own shade
    np.testing.assert_array_equal(colorize(gray, ["red"] * 4, size=32, seed=7, chunk=1), first)


def test_assign_colors_is_balanced_and_seeded():
    colors = assign_colors(25, seed=1)
    counts = np.bincount(colors, minlength=len(COLOR_NAMES))
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(colors, assign_colors(25, seed=1))
    assert not np.array_equal(colors, assign_colors(25, seed=2))


@pytest.mark.parametrize("size", [16, 64])
def test_each_colour_is_recognised_on_a_white_background(size):
    gray = np.repeat(gray_shoes(1), len(COLOR_NAMES), axis=0)
    images = colorize(gray, range(len(COLOR_NAMES)), size=size, seed=0, margin=1 / 16)
    assert images.shape == (len(COLOR_NAMES), size, size, 3) and images.dtype == np.uint8
    assert np.all(images[:, 0, 0] == 255)  # white corners
    predicted, _ = classify_batch(images)
    assert [COLOR_NAMES[i] for i in predicted] == list(COLOR_NAMES)


def test_shading_and_texture_survive_the_tint():
    gray = gray_shoes(1)
    image = colorize(gray, ["blue"], size=28, seed=0)[0].astype(np.float32)
    inside = gray[0] > 60
    luminance = image.mean(-1)[inside]
    assert luminance.std() > 5  # not a flat silhouette
    assert np.corrcoef(luminance, gray[0][inside])[0, 1] > 0.5  # brighter input, brighter shoe


def test_soft_edges_and_a_contact_shadow_keep_white_shoes_visible():
    gray = gray_shoes(1)
    image = colorize(gray, ["white"], size=64, seed=0, margin=1 / 16)[0].astype(int)
    rows = np.flatnonzero((upscale(gray, 64, 1 / 16)[0] > 0.5).any(1))
    below_sole = image[rows[-1] + 1 : rows[-1] + 4, 16:48]
    assert below_sole.mean() < 245  # a grey shadow under the sole
    assert image[:6].min() == 255  # far from the shoe the background stays white
    partial = ((image.min(-1) > 40) & (image.min(-1) < 230)).sum()
    assert partial > 20  # anti-aliased rim and shadow, not a hard cut-out


def test_upscale_keeps_a_constant_and_pads_with_black():
    gray = np.full((1, 28, 28), 200, np.uint8)
    out = upscale(gray, 32, margin=2 / 32)
    assert out.shape == (1, 32, 32)
    np.testing.assert_allclose(out[0, 2:30, 2:30], 200 / 255, atol=1e-5)
    assert out[0, :2].max() == 0 and out[0, :, 30:].max() == 0
    np.testing.assert_allclose(resize_matrix(28, 112).sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(resize_matrix(28, 16).sum(1), 1.0, atol=1e-6)


def test_errors_say_what_was_received():
    gray = gray_shoes(2)
    with pytest.raises(ValueError, match="Received: size=4"):
        colorize(gray, ["red", "blue"], size=4)
    with pytest.raises(ValueError, match="Received: 1 colours"):
        colorize(gray, ["red"], size=16)
    with pytest.raises(ValueError, match="Received: 'teal'"):
        colorize(gray, ["red", "teal"], size=16)
    with pytest.raises(ValueError, match="dtype=float32"):
        colorize(gray.astype(np.float32), ["red", "blue"], size=16)
