"""Sketch styles: each draws a plausible sketch of the shoe, the same from the same seed, and the held-out ones stay apart."""

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from shoes_generator.imaging.edges import edge_map
from shoes_generator.imaging.sketch_styles import (
    HELD_OUT_STYLES, STYLES, TRAIN_STYLES, draw_polylines, draw_sketch, jitter, shape_contours, silhouette,
)
from tests.harness import shoe_image

SEEDS = (0, 1, 2, 3)


def gray_shoe() -> np.ndarray:
    """A Fashion-MNIST-like shoe: light grey upper, darker sole, on black, 32 px."""
    return np.asarray(shoe_image(32, color=(220, 220, 220), background=(0, 0, 0)).convert("L"))


def near_silhouette(shoe: np.ndarray, size: int, margin: float) -> np.ndarray:
    """The shoe's silhouette on a `size` canvas, grown by `margin` shoe pixels (shrunk for a negative one)."""
    mask = np.asarray(Image.fromarray(silhouette(shoe / 255.0).astype(np.uint8) * 255).resize((size, size), Image.NEAREST)) > 0
    if margin < 0:
        return ndimage.distance_transform_edt(mask) > -margin * size / 32
    return ndimage.distance_transform_edt(~mask) <= margin * size / 32


@pytest.mark.parametrize("style", sorted(STYLES))
def test_each_style_draws_dark_lines_on_white_around_the_shoe(style):
    shoe = gray_shoe()
    for seed in SEEDS:
        sketch = draw_sketch(shoe, style, seed)
        size = sketch.shape[0]
        assert sketch.dtype == np.uint8 and sketch.shape == (size, size) and 32 <= size <= 96
        ink = sketch < 160
        assert 0.01 < ink.mean() < 0.35, f"{style} seed {seed}: {ink.mean():.3f} of the canvas inked"
        assert (sketch[~near_silhouette(shoe, size, 3)] >= 200).mean() > 0.98  # white paper away from the shoe
        assert ink[near_silhouette(shoe, size, 2.5)].sum() > 0.9 * ink.sum(), f"{style} seed {seed}: ink far from the shoe"
        assert ink[near_silhouette(shoe, size, -2)].mean() < 0.5  # lines, not a filled shoe


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_seed_fixes_the_sketch_and_other_seeds_change_it(style):
    shoe = gray_shoe()
    first = draw_sketch(shoe, style, (7, 3))
    assert np.array_equal(first, draw_sketch(shoe, style, (7, 3)))
    others = [draw_sketch(shoe, style, seed) for seed in SEEDS]
    if style == "project":  # The project's own sketch has no settings to draw.
        assert all(np.array_equal(other, edge_map(np.repeat(shoe[..., None], 3, -1))) for other in others)
    else:
        assert any(other.shape != first.shape or not np.array_equal(other, first) for other in others)


def test_held_out_styles_are_apart_from_training_styles():
    assert not set(TRAIN_STYLES) & set(HELD_OUT_STYLES)
    assert {"canny64", "mouse"} <= set(HELD_OUT_STYLES) and "project" in TRAIN_STYLES
    assert draw_sketch(gray_shoe(), "canny64", 0).shape == (64, 64)  # The "Canny at another scale, 64 px".


def test_a_blank_image_gives_blank_paper_in_every_style():
    blank = np.zeros((32, 32), np.uint8)
    for style in STYLES:
        assert (draw_sketch(blank, style, 0) == 255).all(), style


def test_bad_input_says_what_was_received():
    with pytest.raises(ValueError, match="Unknown sketch style.*Received: style='pencil'"):
        draw_sketch(gray_shoe(), "pencil")
    with pytest.raises(ValueError, match=r"Received: dtype=float64, shape=\(28, 28\)"):
        draw_sketch(np.zeros((28, 28)), "canny")


def test_contours_start_with_the_outline_and_polylines_land_where_they_were_put():
    shoe = gray_shoe()
    contours = shape_contours(shoe / 255.0, (0.7,))
    outline = contours[0]
    assert np.allclose(outline[0], outline[-1]) and len(outline) > 40  # a closed loop around the shoe
    assert any(20 < c[:, 0].mean() < 26 for c in contours[1:])  # the sole's border, at rows 22-24
    ink = draw_polylines([np.array([[4.0, 4.0], [4.0, 27.0]])], 64, 1)
    assert ink[8:10, 9:55].any(axis=0).all() and ink.sum() < 60  # row 4 of 32 is row 8.5 of 64


def test_jitter_bends_lines_by_at_most_about_its_amplitude():
    lines = np.zeros((32, 32), bool)
    lines[16, 4:28] = True
    moved = jitter(lines, np.random.default_rng(0), 1.0)
    assert moved.sum() > 10 and not np.array_equal(moved, lines)
    assert (ndimage.distance_transform_edt(~lines)[moved] <= 2.5).all()
