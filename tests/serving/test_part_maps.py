"""serving.part_maps: grow and shrink parts along a disk, edit by name, read painted maps, encode and colour them
(NumPy and Pillow only; checked against brute-force distance computations on small maps)."""

import io
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from serving import part_maps
from shoes_generator.imaging.palette import CLASS_PALETTE, class_colors

NAMES = ("background", "sole", "heel", "upper", "shaft", "opening")
BACKGROUND, SOLE, HEEL, UPPER, SHAFT = range(5)
ROOT = Path(__file__).resolve().parents[2]


def boot(size: int = 32) -> np.ndarray:
    """A side-view boot: shaft on an upper, a sole under both, a heel block at the back."""
    parts = np.zeros((size, size), np.uint8)
    parts[4:16, 6:14] = SHAFT
    parts[16:24, 6:26] = UPPER
    parts[24:27, 6:28] = SOLE
    parts[21:24, 6:10] = HEEL
    return parts


def distances_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance of every pixel to the nearest True pixel of `mask` (brute force)."""
    ys, xs = np.nonzero(mask)
    grid_y, grid_x = np.indices(mask.shape)
    return np.sqrt((grid_y[..., None] - ys) ** 2 + (grid_x[..., None] - xs) ** 2).min(-1)


@pytest.mark.parametrize("pixels", [1, 2, 3])
def test_grow_takes_every_pixel_within_n_of_the_part_and_nothing_else(pixels):
    parts = boot()
    grown = part_maps.grow(parts, HEEL, pixels)
    reach = distances_to(parts == HEEL) <= pixels
    assert np.array_equal(grown == HEEL, reach)  # The part's area and reach grow: exactly the disk around it.
    assert (grown == HEEL).sum() > (parts == HEEL).sum()
    assert np.array_equal(grown[~reach], parts[~reach])  # Other parts untouched except where taken.
    taken = parts[reach & (parts != HEEL)]
    assert {BACKGROUND, UPPER, SOLE} <= set(taken.tolist())  # Background grown into, neighbours too.
    rows, cols = np.nonzero(grown == HEEL)
    assert cols.min() == 6 - pixels and rows.min() == 21 - pixels  # It reaches N pixels further.
    assert np.array_equal(parts, boot())  # The input is not changed.


@pytest.mark.parametrize("pixels", [1, 2, 4])
def test_shrink_frees_a_border_n_deep_to_the_nearest_other_class(pixels):
    parts = boot()
    shrunk = part_maps.shrink(parts, UPPER, pixels)
    others = parts != UPPER
    depth = distances_to(others)
    freed = (parts == UPPER) & (depth <= pixels)
    assert np.array_equal(shrunk == UPPER, (parts == UPPER) & ~freed)  # A border exactly N deep is gone.
    assert np.array_equal(shrunk[~freed], parts[~freed])
    ys, xs = np.nonzero(others)
    for y, x in zip(*np.nonzero(freed)):  # Each freed pixel: the class of a nearest remaining pixel of another class.
        d = (ys - y) ** 2 + (xs - x) ** 2
        assert shrunk[y, x] in set(parts[ys[d == d.min()], xs[d == d.min()]].tolist())
    assert {BACKGROUND, SHAFT, SOLE, HEEL} <= set(shrunk[freed].tolist())
    assert shrunk[15 + 1, 14 - 1] == SHAFT and shrunk[16, 25] == BACKGROUND and shrunk[23, 20] == SOLE


def test_a_part_does_not_recede_from_the_frame_and_zero_changes_nothing():
    parts = np.full((8, 8), UPPER, np.uint8)
    parts[:, :2] = SOLE
    shrunk = part_maps.shrink(parts, UPPER, 2)
    assert np.array_equal(shrunk[:, 4:], parts[:, 4:]) and (shrunk[:, 2:4] == SOLE).all()  # Only the border with the sole.
    assert np.array_equal(part_maps.grow(parts, UPPER, 0), parts) and np.array_equal(part_maps.shrink(parts, UPPER, 0), parts)
    assert np.array_equal(part_maps.grow(parts, HEEL, 3), parts)  # An absent part stays absent.


def test_ties_go_to_the_first_offset_nearest_first_then_by_row_then_column():
    parts = np.array([[0, 1, 2]], np.uint8)  # The sole's pixel is as near the background as the heel.
    assert part_maps.shrink(parts, SOLE, 1).tolist() == [[0, 0, 2]]  # (0, -1) comes before (0, 1).
    parts = np.array([[3], [1], [2]], np.uint8)
    assert part_maps.shrink(parts, SOLE, 1).tolist() == [[3], [3], [2]]  # (-1, 0) before (1, 0).


def test_edits_run_shrinks_first_then_grows_each_in_the_given_order():
    parts = boot()
    edited = part_maps.edit(parts, NAMES, grow={"heel": 2, "sole": 1}, shrink={"upper": 1, "shaft": 1})
    expected = part_maps.shrink(part_maps.shrink(parts, UPPER, 1), SHAFT, 1)
    expected = part_maps.grow(part_maps.grow(expected, HEEL, 2), SOLE, 1)
    np.testing.assert_array_equal(edited, expected)
    grow_first = part_maps.shrink(part_maps.grow(parts, HEEL, 2), UPPER, 1)  # Not what edit does:
    assert not np.array_equal(part_maps.edit(parts, NAMES, grow={"heel": 2}, shrink={"upper": 1}), grow_first)
    assert np.array_equal(part_maps.edit(parts, NAMES), parts) and part_maps.edit(parts, NAMES) is not parts
    assert part_maps.check_edits(NAMES, grow={"heel": 2}, shrink={"shaft": 1}) == [(part_maps.shrink, SHAFT, 1), (part_maps.grow, HEEL, 2)]


@pytest.mark.parametrize(
    ("grow", "shrink", "error", "message"),
    [
        ({"toe": 2}, None, part_maps.UnknownPartError, "Unknown part 'toe'. The model's parts: background, sole, heel, upper, shaft, opening"),
        (None, {"Heel": 1}, part_maps.UnknownPartError, "Unknown part 'Heel'"),
        ({"heel": -1}, None, ValueError, r"pixels to grow 'heel' by must be a whole number of pixels >= 0. Received: -1"),
        (None, {"sole": 1.5}, ValueError, r"pixels to shrink 'sole' by .* Received: 1.5"),
        ({"sole": True}, None, ValueError, "Received: True"),
    ],
)
def test_edit_refuses_unknown_parts_and_bad_counts_before_changing_anything(grow, shrink, error, message):
    with pytest.raises(error, match=message):
        part_maps.edit(boot(), NAMES, grow={"upper": 1, **(grow or {})}, shrink=shrink)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: part_maps.grow(np.zeros((2, 2, 3), np.uint8), 1, 1), r"\[H, W\] array of class indices. Received: shape \(2, 2, 3\)"),
        (lambda: part_maps.grow(np.zeros((2, 2), np.float32), 1, 1), "integer class indices. Received: dtype float32"),
        (lambda: part_maps.shrink(np.full((2, 2), 300), 1, 1), r"in \[0, 255\]. Received: values in \[300, 300\]"),
        (lambda: part_maps.grow(boot(), 256, 1), "class_id must be an integer in .* Received: class_id=256"),
        (lambda: part_maps.grow(boot(), 1, -2), "Received: -2"),
    ],
)
def test_map_edits_say_what_they_received(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_encode_and_read_round_trip_through_paths_bytes_images_and_arrays(tmp_path):
    parts = boot(20)[:, :17]  # Not square.
    data = part_maps.encode_part_map(parts)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "L" and image.size == (17, 20)
    (tmp_path / "map.png").write_bytes(data)
    for source in (data, tmp_path / "map.png", str(tmp_path / "map.png"), Image.open(io.BytesIO(data)), parts):
        read = part_maps.read_part_map(source, len(NAMES))
        assert read.dtype == np.uint8 and np.array_equal(read, parts)
    palette = Image.fromarray(parts).convert("P")  # Indexed PNG: its palette indices are the classes.
    palette.putpalette(CLASS_PALETTE.ravel().tolist())
    palette.putdata(parts.ravel().tolist())
    assert np.array_equal(part_maps.read_part_map(png(palette), len(NAMES)), parts)
    wide = Image.fromarray(parts.astype(np.uint16))
    assert np.array_equal(part_maps.read_part_map(wide, None), parts)


def test_read_refuses_colour_images_and_indices_beyond_the_classes(tmp_path):
    rgb = Image.fromarray(class_colors(boot()))
    rgb.save(tmp_path / "coloured.png")
    with pytest.raises(ValueError, match=r"single-channel image whose pixel values are class indices .* Received: an image of mode 'RGB'"):
        part_maps.read_part_map(tmp_path / "coloured.png", len(NAMES))
    with pytest.raises(ValueError, match="coloured.png"):  # The file is named.
        part_maps.read_part_map(str(tmp_path / "coloured.png"), len(NAMES))
    with pytest.raises(ValueError, match="mode 'RGBA'"):
        part_maps.read_part_map(png(rgb.convert("RGBA")), len(NAMES))
    painted = boot()
    painted[0, 0], painted[1, 1] = 6, 9
    with pytest.raises(ValueError, match=r"holds class indices \[6, 9\], but the model has 6 classes \(indices 0 to 5\)"):
        part_maps.read_part_map(part_maps.encode_part_map(painted), len(NAMES))
    assert part_maps.read_part_map(part_maps.encode_part_map(painted), None).max() == 9  # None: no class count to check.
    with pytest.raises(TypeError, match="Received: list"):
        part_maps.read_part_map([[0, 1]], 2)


def test_colorize_paints_each_class_in_the_palette_of_the_grids():
    parts = boot()
    image = part_maps.colorize(parts)
    assert image.mode == "RGB" and image.size == (32, 32)
    pixels = np.asarray(image)
    assert (pixels[parts == BACKGROUND] == 255).all()
    for index in (SOLE, HEEL, UPPER, SHAFT):
        assert (pixels[parts == index] == CLASS_PALETTE[index]).all()


def test_edits_of_a_256_px_map_take_milliseconds():
    parts = np.kron(boot(32), np.ones((8, 8), np.uint8))  # 256 x 256
    start = time.perf_counter()
    edited = part_maps.edit(parts, NAMES, grow={"heel": 10}, shrink={"upper": 10, "shaft": 6})
    assert time.perf_counter() - start < 1.0
    assert (edited == HEEL).sum() > (parts == HEEL).sum() and (edited == UPPER).sum() < (parts == UPPER).sum()


def test_part_maps_import_without_tensorflow_or_scipy():
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['scipy'] = None; sys.modules['keras'] = None\n"
        "from serving import part_maps\n"
        "print(part_maps.edit(part_maps.np.ones((3, 3), 'uint8'), ['background', 'sole'], shrink={'sole': 1}).sum())"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "9"  # Nothing else in the map: the sole has no border to lose.
