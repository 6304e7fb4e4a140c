"""`shoes-data resize-pad`: squares with white borders, tree mirrored."""

import numpy as np
import pytest
from PIL import Image

from tests.harness import shoe_image, write_image


def load(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(int)


def test_wide_and_tall_images_keep_their_aspect_ratio_on_white(cli, tmp_path):
    write_image(tmp_path / "src" / "a" / "wide.png", Image.new("RGB", (40, 20), (10, 200, 10)))
    write_image(tmp_path / "src" / "b" / "tall.png", Image.new("RGB", (12, 48), (10, 10, 200)))
    code, summary, _ = cli(["resize-pad", tmp_path / "src", tmp_path / "out", "--size", "24"])
    assert code == 0 and summary["written"] == 2 and summary["size"] == 24
    wide = load(tmp_path / "out" / "a" / "wide.png")
    assert wide.shape == (24, 24, 3)
    green_rows = np.flatnonzero((np.abs(wide - (10, 200, 10)).max(axis=-1) < 12).all(axis=1))
    assert green_rows.tolist() == list(range(6, 18))  # 2:1 -> 12 rows centred
    assert (wide[:5] == 255).all() and (wide[19:] == 255).all()
    tall = load(tmp_path / "out" / "b" / "tall.png")
    blue_cols = np.flatnonzero((np.abs(tall - (10, 10, 200)).max(axis=-1) < 12).all(axis=0))
    assert blue_cols.tolist() == list(range(9, 15))  # 1:4 -> 6 columns centred
    assert (tall[:, :8] == 255).all() and (tall[:, 16:] == 255).all()


def test_tree_is_mirrored_and_corrupt_files_are_skipped(cli, zappos_tree, tmp_path):
    code, summary, _ = cli(["resize-pad", zappos_tree, tmp_path / "out", "-s", "16"])
    assert code == 0
    assert summary["found"] == 10 and summary["written"] == 8 and summary["skipped"] == 2
    assert {entry["path"] for entry in summary["skipped_files"]} == {
        "Shoes/Sneakers and Athletic Shoes/Nike/999.9.jpg",
        "Boots/Ankle/Timberland/998.8.jpg",
    }
    out = tmp_path / "out" / "Boots" / "Ankle" / "Timberland" / "200.1.jpg"
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (16, 16)


def test_format_png_keeps_both_files_that_would_share_a_name(cli, tmp_path):
    write_image(tmp_path / "src" / "a.jpg", shoe_image(20, (200, 30, 30)))
    write_image(tmp_path / "src" / "a.png", shoe_image(20, (30, 30, 200)))
    code, summary, _ = cli(["resize-pad", tmp_path / "src", tmp_path / "out", "--size", "8", "--format", "png"])
    assert code == 0 and summary["written"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "a_1.png"]
    assert load(tmp_path / "out" / "a.png")[4, 3, 0] > 150  # a.jpg (red) came first
    assert load(tmp_path / "out" / "a_1.png")[4, 3, 2] > 150  # a.png (blue)


def test_output_is_deterministic(cli, zappos_tree, tmp_path):
    cli(["resize-pad", zappos_tree, tmp_path / "one", "-s", "12", "--format", "jpg"])
    cli(["resize-pad", zappos_tree, tmp_path / "two", "-s", "12", "--format", "jpg"])
    one = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.jpg"))
    assert len(one) == 8
    assert all((tmp_path / "one" / p).read_bytes() == (tmp_path / "two" / p).read_bytes() for p in one)


@pytest.mark.parametrize("size", ["0", "-4", "big"])
def test_bad_size_is_rejected_with_what_was_received(cli, capsys, zappos_tree, tmp_path, size):
    with pytest.raises(SystemExit) as exit_info:
        cli(["resize-pad", zappos_tree, tmp_path / "out", "--size", size])
    assert exit_info.value.code == 2
    assert f"received {size!r}" in capsys.readouterr().err
