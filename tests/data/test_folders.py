"""Image folders: UT-Zappos labels, CSV joins, filters, bad files, empty selections."""

import csv
import logging

import numpy as np
import pytest

from shoes_generator.data.folders import (
    EmptySelectionError,
    folder_dataset,
    folder_table,
    join_manifest,
    zappos_cid,
    zappos_table,
)
from shoes_generator.data.manifest import write_manifest
from shoes_generator.data.pipeline import PipelineOptions
from shoes_generator.imaging.io import check_image
from tests.harness import shoe_image, write_corrupt, write_image

OPTIONS = PipelineOptions(image_size=16, batch_size=2, shuffle=False, drop_remainder=False)
NIKE = "Shoes/Sneakers and Athletic Shoes/Nike"


def _row(table, suffix):
    [index] = [i for i, path in enumerate(table.paths) if path.endswith(suffix)]
    return {name: table.labels[name][index] for name in table.label_names}


def _count(dataset):
    return sum(int(batch["image"].shape[0]) for batch in dataset)


def test_zappos_labels_come_from_the_path(zappos_tree):
    table = zappos_table(zappos_tree, meta_data=None)
    assert len(table) == 8 and table.label_names == ("category", "subcategory", "brand")
    assert _row(table, "200.1.jpg") == {"category": "Boots", "subcategory": "Ankle", "brand": "Timberland"}
    assert table.vocabulary("brand") == ["Nike", "Teva", "Timberland", "adidas"]
    assert len(zappos_table(zappos_tree.parent, meta_data=None)) == 8  # the parent folder works too


def test_meta_data_join_accepts_both_cid_forms_and_counts_misses(zappos_tree):
    meta = zappos_tree.parent / "ut-zap50k-data" / "meta-data.csv"
    rows = list(csv.DictReader(meta.open()))
    rows[4]["CID"] = "200.1"  # dotted form of 200-1
    rows[4]["HeelHeight"] = "1in - 1 3/4in"
    with meta.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    write_image(zappos_tree / NIKE / "555.5.jpg", shoe_image(24))  # no meta row

    table = zappos_table(zappos_tree)  # meta-data.csv found next to the images
    assert "heel_height" in table.labels and "sub_category" not in table.labels
    assert _row(table, "200.1.jpg")["heel_height"] == "1in - 1 3/4in"
    assert _row(table, "100.1.jpg")["heel_height"] == "Flat"
    assert _row(table, "555.5.jpg")["heel_height"] == ""
    assert table.joins["meta-data.csv"]["unmatched"] == 1 and table.joins["meta-data.csv"]["matched"] == 8
    assert table.vocabulary("heel_height") == ["1in - 1 3/4in", "2in - 2 3/4in", "Flat"]
    assert zappos_cid("7965307.5291.jpg") == zappos_cid("7965307-5291") == "7965307-5291"


def test_manifest_join_by_relative_path(zappos_tree):
    root = zappos_tree.parent  # the manifest's paths are relative to its own folder
    write_manifest(root / "labels.csv", [{"path": f"ut-zap50k-images-square/{NIKE}/100.1.jpg", "color": "red"}], ["path", "color"])
    table = zappos_table(zappos_tree, meta_data=None, manifest=root / "labels.csv")
    assert _row(table, "100.1.jpg")["color"] == "red"
    assert _row(table, "101.2.jpg")["color"] == ""
    assert table.joins["labels.csv"]["matched"] == 1 and table.joins["labels.csv"]["unmatched"] == 7
    with pytest.raises(ValueError, match=r"no column\(s\) \['colour'\].*'color'"):
        join_manifest(table, root / "labels.csv", columns=["colour"])


def test_filters_and_their_errors(zappos_tree):
    table = zappos_table(zappos_tree, meta_data=None)
    assert len(table.filter(brand="Nike")) == 2
    both = table.filter(brand=["Nike", "adidas"], category="Shoes")
    assert sorted(set(both.labels["brand"])) == ["Nike", "adidas"] and len(both) == 4
    with pytest.raises(EmptySelectionError) as error:
        table.filter(brand="Puma")
    assert "brand=Puma" in str(error.value) and "'Nike', 'Teva', 'Timberland', 'adidas'" in str(error.value)
    with pytest.raises(KeyError, match="color"):
        table.filter(color="red")


def test_folder_dataset_yields_images_and_string_labels(zappos_tree):
    table = zappos_table(zappos_tree).filter(category="Boots")
    batch = next(iter(folder_dataset(table, OPTIONS)))
    assert batch["image"].shape == (2, 16, 16, 3)
    assert -1.0 <= float(np.min(batch["image"])) and float(np.max(batch["image"])) <= 1.0
    assert sorted(batch["brand"].numpy().tolist()) == [b"Timberland", b"Timberland"]
    assert set(batch) == {"image", "category", "subcategory", "brand", "heel_height"}
    only = next(iter(folder_dataset(table, OPTIONS, columns=["brand"])))
    assert set(only) == {"image", "brand"}


def test_corrupt_files_are_skipped_counted_and_reported_once(zappos_tree, caplog):
    with caplog.at_level(logging.WARNING, logger="shoes_generator.data"):
        table = zappos_table(zappos_tree)
        assert _count(folder_dataset(table, OPTIONS)) == 8
        assert _count(folder_dataset(table, OPTIONS)) == 8
    assert table.report.count == 2
    assert sorted(path.rsplit("/", 1)[-1] for path, _ in table.report.skipped) == ["998.8.jpg", "999.9.jpg"]
    warnings = [record.getMessage() for record in caplog.records if "unreadable" in record.getMessage()]
    assert len(warnings) == 1 and "Skipped 2 unreadable" in warnings[0]
    assert table.summary()["skipped"] == 2


def test_truncated_jpeg_passing_the_header_check_does_not_stop_the_epoch(tmp_path):
    for index in range(3):
        write_image(tmp_path / f"{index}.jpg", shoe_image(64, (40 * index, 90, 200)))
    data = (tmp_path / "1.jpg").read_bytes()
    (tmp_path / "1.jpg").write_bytes(data[: int(len(data) * 0.6)])
    assert check_image(tmp_path / "1.jpg", full=False) is None  # the listing cannot see it
    table = folder_table(tmp_path)
    assert len(table) == 3
    assert _count(folder_dataset(table, OPTIONS.replace(repeat=False))) == 2
    assert len(folder_table(tmp_path, full_check=True)) == 2  # a full check catches it up front


def test_plain_folder_with_first_level_labels(tmp_path):
    for name in ("boots/a.png", "boots/deep/b.jpg", "sandals/c.jpg", "loose.png"):
        write_image(tmp_path / name, shoe_image(20))
    assert folder_table(tmp_path).label_names == ()
    table = folder_table(tmp_path, folder_label="type")
    assert dict(zip([p.rsplit("/", 1)[-1] for p in table.paths], table.labels["type"])) == {
        "a.png": "boots",
        "b.jpg": "boots",
        "c.jpg": "sandals",
        "loose.png": "",
    }
    assert table.vocabulary("type") == ["boots", "sandals"]


def test_empty_selection_says_what_was_searched(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptySelectionError, match="empty"):
        folder_table(tmp_path / "empty")
    write_corrupt(tmp_path / "bad" / "x.jpg")
    with pytest.raises(EmptySelectionError, match=r"bad.*1 image file\(s\) found, 1 unreadable"):
        folder_table(tmp_path / "bad")
    with pytest.raises(FileNotFoundError, match="missing"):
        folder_table(tmp_path / "missing")
