"""Sketch-like edge maps and A|B pairs."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.segmentation import find_boundaries

from shoes_generator.imaging.edges import edge_lines, edge_map, join_ab, make_ab_pair
from tests.harness import shoe_image


def photo(size=64, color=(200, 30, 30)):
    image = np.asarray(shoe_image(size, color))
    return image, (image != 255).any(axis=-1)


def test_edge_map_is_dark_lines_on_white_along_the_true_edges():
    image, silhouette = photo()
    sketch = edge_map(image)
    assert sketch.shape == (64, 64) and sketch.dtype == np.uint8
    assert set(np.unique(sketch)) == {0, 255}
    lines = sketch == 0
    assert 0.02 < lines.mean() < 0.2  # mostly white paper
    colors = np.unique(image.reshape(-1, 3), axis=0, return_inverse=True)[1].reshape(64, 64)
    true_edges = find_boundaries(colors, mode="inner")  # outline and upper/sole seam
    outline = silhouette & find_boundaries(silhouette, mode="inner")
    assert (ndimage.distance_transform_edt(~lines)[outline] <= 2).mean() > 0.95  # the outline is drawn
    assert (ndimage.distance_transform_edt(~true_edges)[lines] <= 2).all()  # and nothing else


def test_outline_is_closed_and_lines_are_thin():
    image, silhouette = photo()
    lines = edge_lines(image)
    filled = ndimage.binary_fill_holes(lines)
    assert (filled & silhouette).sum() / (filled | silhouette).sum() > 0.9  # the outline encloses the shoe
    assert ndimage.label(lines, structure=np.ones((3, 3)))[1] <= 2  # a few connected strokes, no specks
    assert not ndimage.binary_erosion(lines, structure=np.ones((2, 2))).any()  # one pixel wide


def test_inner_edges_follow_the_sole():
    image, _ = photo(64, (200, 200, 60))  # yellow upper, darker sole
    lines = edge_lines(image)
    assert lines[47:49, 10:54].any(axis=0).mean() > 0.8  # the upper/sole seam at y = 48


def test_blank_and_noisy_backgrounds_give_no_lines():
    assert (edge_map(np.full((32, 32, 3), 255, np.uint8)) == 255).all()
    rng = np.random.default_rng(0)
    noisy, _ = photo()
    noisy = noisy.copy()
    specks = rng.integers(0, 64, size=(12, 2))
    specks = specks[(specks[:, 0] < 8) | (specks[:, 1] > 58)]  # only in background corners
    noisy[specks[:, 0], specks[:, 1]] = 0
    assert (edge_map(noisy)[:6, :] == 255).all()


def test_line_width_thickens_strokes():
    image, _ = photo()
    thin = (edge_map(image, line_width=1) == 0).sum()
    thick = (edge_map(image, line_width=3) == 0).sum()
    assert thick > 2 * thin
    with pytest.raises(ValueError, match="line_width=0"):
        edge_map(image, line_width=0)


def test_make_ab_pair_puts_sketch_left_and_photo_right():
    image, _ = photo(32)
    pair = make_ab_pair(image)
    assert pair.shape == (32, 64, 3) and pair.dtype == np.uint8
    np.testing.assert_array_equal(pair[:, 32:], image)
    np.testing.assert_array_equal(pair[:, :32, 0], edge_map(image))
    assert (pair[:, :32, 0] == pair[:, :32, 2]).all()


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"shape=\(8, 8\)"):
        edge_map(np.zeros((8, 8), np.uint8))
    with pytest.raises(ValueError, match="same size"):
        join_ab(np.zeros((8, 8), np.uint8), np.zeros((8, 9, 3), np.uint8))
