"""`shoes-data colorize-fmnist`: PNGs, manifest.csv, preview table, determinism, clear errors."""

import csv
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from shoes_generator.data.fmnist import write_split
from tests.harness import shoe_image


@pytest.fixture
def fmnist_dir(tmp_path):
    """Idx files with 4 images per class 0-9 (12 shoes) in each split."""
    labels = np.tile(np.arange(10, dtype=np.uint8), 4)
    shoes = np.stack([np.asarray(shoe_image(28, (100 + 4 * i,) * 3, background=(0, 0, 0)).convert("L")) for i in range(40)])
    for split in ("train", "test"):
        write_split(tmp_path / "fmnist", split, shoes, labels)
    return tmp_path / "fmnist"


def read_rows(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def test_writes_pngs_manifest_and_preview(cli, fmnist_dir, tmp_path):
    dst = tmp_path / "color"
    code, summary, err = cli(["colorize-fmnist", dst, "--fmnist-dir", fmnist_dir, "--size", 16, "--seed", 3])
    assert code == 0, err
    columns, rows = read_rows(dst / "manifest.csv")
    assert columns == ["path", "color", "category", "split"]
    assert len(rows) == summary["images"] == 24 and summary["splits"] == {"train": 12, "test": 12}
    for row in rows:
        image = Image.open(dst / row["path"])
        assert image.size == (16, 16) and image.mode == "RGB"
        assert row["path"].startswith(row["split"] + "/") and row["color"] in row["path"]
    assert summary["categories"] == {"sandal": 8, "sneaker": 8, "ankle_boot": 8}
    assert sum(summary["colors"].values()) == 24
    for split in ("train", "test"):  # colours balanced within each split: 12 shoes, 11 colours
        counts = Counter(row["color"] for row in rows if row["split"] == split)
        assert len(counts) == 11 and max(counts.values()) == 2
    preview = Image.open(summary["preview"])
    assert preview.width > 6 * 16 and preview.height > 11 * 16  # 11 colour rows x 3 types
    assert "preview.png" not in {row["path"] for row in rows}


def test_same_seed_same_files(cli, fmnist_dir, tmp_path):
    outputs = []
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        code, _, _ = cli(["colorize-fmnist", tmp_path / name, "--fmnist-dir", fmnist_dir, "--size", 16, "--seed", seed, "--split", "test"])
        assert code == 0
        outputs.append(read_rows(tmp_path / name / "manifest.csv")[1])
    assert outputs[0] == outputs[1]
    first = outputs[0][0]["path"]
    assert (tmp_path / "a" / first).read_bytes() == (tmp_path / "b" / first).read_bytes()
    assert [row["color"] for row in outputs[0]] != [row["color"] for row in outputs[2]]


def test_split_limit_and_per_class(cli, fmnist_dir, tmp_path):
    code, summary, _ = cli(["colorize-fmnist", tmp_path / "o", "--fmnist-dir", fmnist_dir, "--split", "train", "--size", 16, "--per-class", 1])
    assert code == 0 and summary["splits"] == {"train": 3}
    assert summary["categories"] == {"sandal": 1, "sneaker": 1, "ankle_boot": 1}
    code, summary, _ = cli(["colorize-fmnist", tmp_path / "p", "--fmnist-dir", fmnist_dir, "--split", "test", "--size", 16, "--limit", 5])
    assert code == 0 and summary["images"] == 5 and not (tmp_path / "p" / "train").exists()


def test_errors_name_the_argument(cli, fmnist_dir, tmp_path):
    code, _, err = cli(["colorize-fmnist", tmp_path / "o", "--fmnist-dir", fmnist_dir, "--size", 4])
    assert code == 2 and "Received: --size=4" in err
    missing = tmp_path / "nowhere"
    code, _, err = cli(["colorize-fmnist", tmp_path / "o", "--fmnist-dir", missing])
    assert code == 2 and str(missing) in err and "apt-get install dataset-fashion-mnist" in err
    (tmp_path / "file").write_text("x")
    code, _, err = cli(["colorize-fmnist", tmp_path / "file", "--fmnist-dir", fmnist_dir])
    assert code == 2 and "Received: DST=" in err
