"""`shoes-data edges`: sketch PNGs and pix2pix A|B pairs."""

import numpy as np
from PIL import Image

from shoes_generator.imaging.edges import edge_map
from shoes_generator.imaging.geometry import pad_to_square
from tests.harness import shoe_image, write_image

NIKE = "Shoes/Sneakers and Athletic Shoes/Nike/100.1"


def load(path):
    with Image.open(path) as image:
        return image.mode, np.asarray(image)


def test_sketches_mirror_the_tree_without_pairs_by_default(cli, zappos_tree, tmp_path):
    dst = tmp_path / "edges2zappos"
    code, summary, _ = cli(["edges", zappos_tree, dst])
    assert code == 0
    assert summary["edge_maps"] == 8 and summary["pairs"] == 0 and summary["skipped"] == 2
    assert summary["blank_edge_maps"] == 0
    mode, sketch = load(dst / "edges" / f"{NIKE}.png")
    assert mode == "L" and sketch.shape == (24, 24)
    assert (sketch == 0).any() and (sketch == 255).mean() > 0.6  # dark lines on white
    assert not (dst / "pairs").exists()


def test_pairs_are_sketch_left_photo_right_at_the_requested_size(cli, tmp_path):
    photo = shoe_image(40, (30, 120, 200), width=60)  # not square
    write_image(tmp_path / "src" / "sneakers" / "blue.png", photo)
    dst = tmp_path / "out"
    code, summary, _ = cli(["edges", tmp_path / "src", dst, "--pairs", "--size", "32"])
    assert code == 0 and summary["pairs"] == 1 and summary["written"] == 2 and summary["size"] == 32
    mode, pair = load(dst / "pairs" / "sneakers" / "blue.png")
    assert mode == "RGB" and pair.shape == (32, 64, 3)
    expected_photo = pad_to_square(np.asarray(photo), 32)
    np.testing.assert_array_equal(pair[:, 32:], expected_photo)
    np.testing.assert_array_equal(pair[:, :32, 1], edge_map(expected_photo))
    _, sketch = load(dst / "edges" / "sneakers" / "blue.png")
    np.testing.assert_array_equal(sketch, pair[:, :32, 0])


def test_blank_photos_are_counted(cli, tmp_path):
    write_image(tmp_path / "src" / "white.jpg", Image.new("RGB", (16, 16), "white"))
    code, summary, _ = cli(["edges", tmp_path / "src", tmp_path / "out"])
    assert code == 0 and summary["blank_edge_maps"] == 1
