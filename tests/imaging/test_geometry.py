"""Aspect-preserving resize and white padding."""

import numpy as np
import pytest

from shoes_generator.imaging.geometry import center_on_canvas, downscale, fit_shape, pad_to_square

RED = (200, 30, 30)


def solid(height, width, color=RED):
    return np.broadcast_to(np.array(color, dtype=np.uint8), (height, width, 3)).copy()


def test_pad_to_square_keeps_aspect_ratio_with_white_bands_top_and_bottom():
    out = pad_to_square(solid(20, 40), 16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    red_rows = np.flatnonzero((np.abs(out.astype(int) - RED).max(axis=(1, 2)) < 10))
    assert red_rows.tolist() == list(range(4, 12))  # 2:1 image -> 8 rows, centred
    assert (out[:3] == 255).all() and (out[13:] == 255).all()


def test_pad_to_square_tall_image_gets_side_bands():
    out = pad_to_square(solid(30, 10), 30)
    assert (out[:, :10] == 255).all() and (out[:, 20:] == 255).all()
    assert (out[:, 10:20] == RED).all()


def test_pad_to_square_enlarges_small_images_and_takes_grayscale_and_fill():
    gray = np.zeros((4, 2), dtype=np.uint8)
    out = pad_to_square(gray, 8, fill=(255, 255, 255))
    assert out.shape == (8, 8)
    assert (out[:, 2:6] == 0).all() and (out[:, :2] == 255).all()
    black = pad_to_square(solid(4, 8), 8, fill=0)
    assert (black[:2] == 0).all() and (black[6:] == 0).all()


def test_fit_shape_and_downscale_never_enlarge():
    assert fit_shape(100, 50, 20) == (20, 10)
    assert fit_shape(1, 1000, 10) == (1, 10)
    assert downscale(solid(100, 50), 20).shape == (20, 10, 3)
    small = solid(8, 6)
    assert downscale(small, 64).shape == (8, 6, 3)


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_bad_size_names_what_was_received(size):
    with pytest.raises(ValueError, match=f"Received: size={size!r}"):
        pad_to_square(solid(4, 4), size)


def test_bad_image_and_canvas_errors():
    with pytest.raises(ValueError, match="dtype=float32"):
        pad_to_square(np.zeros((4, 4, 3), dtype=np.float32), 8)
    with pytest.raises(ValueError, match="does not fit"):
        center_on_canvas(solid(10, 10), 8, 8)
    with pytest.raises(ValueError, match="fill needs 1 or 3 values"):
        center_on_canvas(solid(2, 2), 4, 4, fill=(1, 2))
