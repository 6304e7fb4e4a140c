"""`shoes-data masks`: mask PNGs for photos on white and black backgrounds."""

import numpy as np
import pytest
from PIL import Image

from tests.harness import write_corrupt, write_image
from tests.imaging.test_masks import BLACK, WHITE, iou, shoe_with_hole


def load(path):
    with Image.open(path) as image:
        return image.mode, np.asarray(image)


def test_masks_fill_holes_on_white_and_black_backgrounds(cli, tmp_path):
    truths = {}
    for name, background, ext in (("white", WHITE, "jpg"), ("black", BLACK, "png")):
        image, silhouette = shoe_with_hole(64, (60, 140, 210), background)
        write_image(tmp_path / "src" / name / f"shoe.{ext}", Image.fromarray(image))
        truths[name] = (image, silhouette)
    write_corrupt(tmp_path / "src" / "white" / "broken.jpg", "truncated")
    dst = tmp_path / "masks"
    code, summary, _ = cli(["masks", tmp_path / "src", dst])
    assert code == 0
    assert summary["written"] == 2 and summary["skipped"] == 1 and summary["empty_masks"] == 0
    fractions = []
    for name, (image, silhouette) in truths.items():
        mode, mask = load(dst / name / "shoe.png")
        assert mode == "L" and set(np.unique(mask)) == {0, 255}
        assert iou(mask, silhouette) > 0.9
        hole = (image == image[0, 0]).all(axis=-1) & silhouette
        assert hole.any() and (mask[hole] == 255).all()
        fractions.append(silhouette.mean())
    assert summary["mean_foreground_fraction"] == pytest.approx(np.mean(fractions), abs=0.02)


def test_empty_masks_are_counted_and_threshold_is_checked(cli, tmp_path):
    write_image(tmp_path / "src" / "blank.png", Image.new("RGB", (16, 16), "white"))
    code, summary, _ = cli(["masks", tmp_path / "src", tmp_path / "out"])
    assert code == 0 and summary["empty_masks"] == 1 and summary["mean_foreground_fraction"] == 0
    code, _, err = cli(["masks", tmp_path / "src", tmp_path / "out", "--threshold", "300"])
    assert code == 2 and "Received: --threshold=300" in err
