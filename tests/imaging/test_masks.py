"""Foreground masks of product photos on white and black backgrounds."""

import numpy as np
import pytest
from PIL import ImageDraw

from shoes_generator.imaging.masks import background_color, foreground_fraction, foreground_mask, keep_largest
from tests.harness import WHITE, shoe_image

BLACK = (0, 0, 0)


def shoe_with_hole(size=64, color=(200, 30, 30), background=WHITE):
    """A shoe photo with a background-coloured hole in its upper, and its true (filled) silhouette."""
    image = shoe_image(size, color, background)
    silhouette = (np.asarray(image) != background).any(axis=-1)
    s = size / 32
    ImageDraw.Draw(image).ellipse([8 * s, 16 * s, 14 * s, 21 * s], fill=background)
    return np.asarray(image), silhouette


def iou(mask, truth):
    mask = np.asarray(mask) > 0
    return (mask & truth).sum() / (mask | truth).sum()


@pytest.mark.parametrize("background", [WHITE, BLACK])
def test_mask_matches_silhouette_and_fills_the_hole(background):
    image, silhouette = shoe_with_hole(64, (90, 160, 220), background)
    hole = (image == background).all(axis=-1) & silhouette
    assert hole.sum() > 20  # the test image really has a hole
    mask = foreground_mask(image)
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    assert iou(mask, silhouette) > 0.95
    assert (mask[hole] == 255).all()


def test_specks_and_small_blobs_are_dropped_but_large_parts_kept():
    image, silhouette = shoe_with_hole(64)
    noisy = image.copy()
    noisy[2, 60] = noisy[60, 2] = (0, 0, 0)  # single-pixel specks
    noisy[2:5, 2:5] = (0, 0, 255)  # a small blob, far smaller than the shoe
    mask = foreground_mask(noisy) > 0
    assert not mask[:8, :8].any() and not mask[2, 60] and not mask[60, 2]
    assert iou(mask, silhouette) > 0.95


def test_keep_largest_keeps_parts_above_the_fraction():
    mask = np.zeros((20, 20), dtype=bool)
    mask[1:9, 1:9] = True  # 64 px
    mask[12:16, 12:16] = True  # 16 px = 25% of the largest
    assert keep_largest(mask, 0.2).sum() == 80
    assert keep_largest(mask, 0.5).sum() == 64


def test_background_and_fraction_helpers():
    image, _ = shoe_with_hole(32, background=BLACK)
    assert background_color(image).tolist() == [0, 0, 0]
    assert foreground_fraction(np.array([[0, 255], [255, 255]], dtype=np.uint8)) == 0.75


def test_blank_photo_gives_an_empty_mask_and_bad_input_is_named():
    assert not foreground_mask(np.full((16, 16, 3), 255, np.uint8)).any()
    with pytest.raises(ValueError, match="dtype=float64"):
        foreground_mask(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError, match="keep_fraction=2"):
        foreground_mask(np.zeros((8, 8, 3), np.uint8), keep_fraction=2)
