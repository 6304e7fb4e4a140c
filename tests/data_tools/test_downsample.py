"""`shoes-data downsample`: a small, deterministic, labelled copy."""

import csv

from PIL import Image

from data_tools.downsample import choose
from shoes_generator.data.manifest import read_manifest, write_manifest
from tests.harness import shoe_image, write_image

EXPECTED = [  # every other readable file of the sorted tree
    "Boots/Ankle/Timberland/200.1",
    "Sandals/Flat/Teva/300.1",
    "Shoes/Sneakers and Athletic Shoes/Nike/100.1",
    "Shoes/Sneakers and Athletic Shoes/adidas/102.3",
]


def written(folder, ext):
    return sorted(p.relative_to(folder).with_suffix("").as_posix() for p in folder.rglob(f"*{ext}"))


def test_n_files_spread_over_the_tree_with_labels_kept(cli, zappos_tree, tmp_path):
    rows = [{"path": p.relative_to(zappos_tree).as_posix(), "color": "red"} for p in sorted(zappos_tree.rglob("*.jpg"))]
    write_manifest(zappos_tree / "manifest.csv", rows, ["path", "color"])
    dst = tmp_path / "dev"
    code, summary, _ = cli(["downsample", zappos_tree, dst, "-f", "4", "-s", "16", "--format", "png"])
    assert code == 0
    assert summary["written"] == 4 and summary["chosen"] == 4 and summary["found"] == 10
    assert summary["skipped"] == 2  # the corrupt files are screened out before choosing
    assert written(dst, ".png") == sorted(EXPECTED)
    with Image.open(dst / (EXPECTED[0] + ".png")) as image:
        assert image.size == (16, 16)
    assert sorted(row["path"] for row in read_manifest(dst)) == sorted(p + ".png" for p in EXPECTED)
    assert summary["manifest_rows"] == 4
    with open(dst / "meta-data.csv", newline="") as handle:
        meta = list(csv.DictReader(handle))
    assert sorted(row["CID"] for row in meta) == ["100-1", "102-3", "200-1", "300-1"]
    assert set(meta[0]) == {"CID", "Category", "SubCategory", "HeelHeight"}


def test_all_files_by_default_and_no_label_files_needed(cli, tmp_path):
    for index in range(3):
        write_image(tmp_path / "src" / f"{index}.jpg", shoe_image(20))
    code, summary, _ = cli(["downsample", tmp_path / "src", tmp_path / "dev", "-s", "8"])
    assert code == 0 and summary["written"] == 3 and summary["requested"] == "all"
    assert summary["manifest_rows"] is None and summary["meta_data_rows"] is None
    assert not (tmp_path / "dev" / "manifest.csv").exists()


def test_seeded_sample_is_repeatable(cli, zappos_tree, tmp_path):
    cli(["downsample", zappos_tree, tmp_path / "a", "-f", "3", "-s", "8", "--seed", "7"])
    cli(["downsample", zappos_tree, tmp_path / "b", "-f", "3", "-s", "8", "--seed", "7"])
    assert written(tmp_path / "a", ".jpg") == written(tmp_path / "b", ".jpg")
    assert len(written(tmp_path / "a", ".jpg")) == 3


def test_choose():
    items = list(range(10))
    assert choose(items, 5) == [0, 2, 4, 6, 8]
    assert choose(items, 3) == [0, 3, 6]
    assert choose(items, None) == items and choose(items, 50) == items
    sample = choose(items, 4, seed=1)
    assert sample == choose(items, 4, seed=1) and sample == sorted(sample) and len(set(sample)) == 4
    assert any(choose(items, 4, seed=seed) != sample for seed in range(2, 6))
