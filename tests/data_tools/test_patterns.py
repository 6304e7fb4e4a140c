"""`shoes-data patterns`: four folders of PNGs with shared names, manifest.csv, summary counts, clear errors."""

import csv

import numpy as np
from PIL import Image

from tests.data.test_pattern_pairs import fmnist_dir  # noqa: F401  (the fixture: 12 fake shoes per split)


def read_rows(path):
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        return reader.fieldnames, list(reader)


def test_writes_the_triples_manifest_and_summary(cli, fmnist_dir, tmp_path):  # noqa: F811
    dst = tmp_path / "patterns"
    code, summary, err = cli(["patterns", dst, "--fmnist-dir", fmnist_dir, "--count", 12, "--size", 16, "--split", "test", "--seed", 2])
    assert code == 0, err
    columns, rows = read_rows(dst / "manifest.csv")
    assert columns == ["path", "file", "pattern_id", "kind", "object", "category", "split", "held_out"]
    assert len(rows) == summary["images"] == 12 and summary["patterns"] == 12 and summary["held_out"] is True
    for row in rows:
        assert row["path"] == f"shoe/{row['file']}" and row["split"] == "test" and row["held_out"] == "1"
        assert int(row["pattern_id"]) >= 1_000_000_000
        for folder in ("exemplar", "shoe", "sketch", "print"):
            with Image.open(dst / folder / row["file"]) as image:
                assert image.size == (16, 16) and image.mode == "RGB"
    assert summary["folders"] == ["exemplar", "shoe", "sketch", "print"]
    assert sum(summary["kinds"].values()) == sum(summary["objects"].values()) == 12
    assert summary["categories"] == {"sandal": 4, "sneaker": 4, "ankle_boot": 4}
    assert summary["kinds"] == {kind: sum(row["kind"] == kind for row in rows) for kind in summary["kinds"]}
    assert max(summary["objects"].values()) - min(summary["objects"].values()) <= 1


def test_same_seed_same_files(cli, fmnist_dir, tmp_path):  # noqa: F811
    for name in ("a", "b"):
        code, _, _ = cli(["patterns", tmp_path / name, "--fmnist-dir", fmnist_dir, "--count", 3, "--size", 16])
        assert code == 0
    assert read_rows(tmp_path / "a" / "manifest.csv") == read_rows(tmp_path / "b" / "manifest.csv")
    first = np.asarray(Image.open(tmp_path / "a" / "exemplar" / "00000.png"))
    np.testing.assert_array_equal(first, np.asarray(Image.open(tmp_path / "b" / "exemplar" / "00000.png")))
    assert all(row["held_out"] == "0" for row in read_rows(tmp_path / "a" / "manifest.csv")[1])


def test_errors_name_the_argument(cli, fmnist_dir, tmp_path):  # noqa: F811
    code, _, err = cli(["patterns", tmp_path / "o", "--fmnist-dir", fmnist_dir, "--size", 4])
    assert code == 2 and "Received: --size=4" in err
    code, _, err = cli(["patterns", tmp_path / "o", "--fmnist-dir", tmp_path / "nowhere"])
    assert code == 2 and "nowhere" in err
    (tmp_path / "file").write_text("x")
    code, _, err = cli(["patterns", tmp_path / "file", "--fmnist-dir", fmnist_dir])
    assert code == 2 and "Received: DST=" in err
