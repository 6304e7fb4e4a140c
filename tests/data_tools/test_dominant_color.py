"""`shoes-data dominant-color`: manifest, renaming (collisions, idempotence), plot, corrupt files."""

import csv

import pytest

from shoes_generator.imaging.colors import REFERENCE_RGB
from tests.harness import shoe_image, write_corrupt, write_image

SHOES = {"boots/a.jpg": "brown", "boots/b.png": "black", "c.png": "red", "sneakers/deep/d.png": "blue", "e.png": "red"}


@pytest.fixture
def src(tmp_path):
    root = tmp_path / "shoes"
    for path, color in SHOES.items():
        write_image(root / path, shoe_image(32, REFERENCE_RGB[color]))
    write_corrupt(root / "boots" / "broken.jpg", "garbage")
    write_corrupt(root / "empty.png", "empty")
    return root


def manifest(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, {row["path"]: row for row in reader}


def test_labels_every_image_and_skips_corrupt_files(cli, src):
    code, summary, err = cli(["dominant-color", src])
    assert code == 0, err
    columns, rows = manifest(src / "manifest.csv")
    assert columns == ["path", "color"]
    assert {path: row["color"] for path, row in rows.items()} == SHOES
    assert summary["labelled"] == 5 and summary["counts"]["red"] == 2 and summary["counts"]["white"] == 0
    assert summary["skipped"] == 2
    assert sorted(item["path"] for item in summary["skipped_files"]) == ["boots/broken.jpg", "empty.png"]
    assert summary["renamed"] == 0 and (src / "c.png").exists()


def test_rename_with_collisions_is_idempotent(cli, src):
    write_image(src / "red_c_0.png", shoe_image(32, REFERENCE_RGB["red"]))  # an earlier run's output
    write_corrupt(src / "red_e_0.png", "garbage")  # unreadable, but its name stays taken
    code, summary, _ = cli(["dominant-color", src, "--rename"])
    assert code == 0
    names = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.*") if p.name != "manifest.csv")
    labelled = {"boots/black_b_0.png", "boots/brown_a_0.jpg", "red_c_0.png", "red_c_1.png", "red_e_1.png", "sneakers/deep/blue_d_0.png"}
    assert names == sorted(labelled | {"boots/broken.jpg", "empty.png", "red_e_0.png"})
    assert not (src / "c.png").exists() and summary["renamed"] == 5
    _, rows = manifest(src / "manifest.csv")
    assert set(rows) == labelled
    code, again, _ = cli(["dominant-color", src, "--rename"])
    assert code == 0 and again["renamed"] == 0
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*.*") if p.name != "manifest.csv") == names
    assert set(manifest(src / "manifest.csv")[1]) == set(rows)


def test_existing_manifest_columns_and_rows_are_kept(cli, src):
    with open(src / "manifest.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerows([["path", "brand", "color"], ["c.png", "Nike", "green"], ["boots/broken.jpg", "Teva", ""], ["e.png", "Vans", "red"]])
    code, _, _ = cli(["dominant-color", src, "--rename"])
    assert code == 0
    columns, rows = manifest(src / "manifest.csv")
    assert columns == ["path", "brand", "color"]
    assert rows["red_c_0.png"]["brand"] == "Nike" and rows["red_c_0.png"]["color"] == "red"  # overwritten, moved
    assert rows["red_e_0.png"]["brand"] == "Vans"
    assert rows["boots/broken.jpg"]["brand"] == "Teva"  # unreadable file: its row is left alone
    assert rows["boots/brown_a_0.jpg"]["brand"] == ""  # new row, empty cell


def test_manifest_elsewhere_and_plot(cli, src, tmp_path):
    target = tmp_path / "meta" / "colors.csv"
    code, summary, _ = cli(["dominant-color", src, "--manifest", target, "--plot"])
    assert code == 0
    _, rows = manifest(target)
    assert set(rows) == {f"../shoes/{path}" for path in SHOES}  # relative to the manifest's folder
    plot = tmp_path / "shoes_stats" / "color_distribution.png"
    assert summary["plot"] == str(plot) and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    inside = src / "plot.png"
    code, summary, _ = cli(["dominant-color", src, "--plot", inside])
    assert code == 0 and inside.exists()
    code, summary, _ = cli(["dominant-color", src, "--plot", inside])
    assert summary["labelled"] == 5  # its own plot is not labelled as a shoe


def test_errors(cli, tmp_path):
    code, _, err = cli(["dominant-color", tmp_path / "missing"])
    assert code == 2 and "missing" in err
    write_corrupt(tmp_path / "bad" / "x.jpg")
    code, _, err = cli(["dominant-color", tmp_path / "bad"])
    assert code == 2 and "all 1 files were skipped" in err
