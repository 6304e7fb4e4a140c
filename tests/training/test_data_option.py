"""`shoes-train --data PATH`: each preset is pointed at a folder of its own layout."""

import pytest

from training.train import data_overrides


@pytest.mark.parametrize(
    "source, expected",
    [
        ("pairs", ["data.path=/d"]),
        ("segments", ["data.path=/d"]),
        ("patterns", ["data.path=/d"]),
        ("fmnist_parts", ["data.source=segments", "data.path=/d"]),  # spade_fmnist_parts on a part-labelled folder
        ("fmnist_masks", ["data.source=segments", "data.path=/d"]),
        ("fmnist_patterns", ["data.source=patterns", "data.path=/d"]),
        ("fmnist_color", ["data.source=folder", "data.path=/d"]),
    ],
)
def test_data_points_each_preset_at_a_folder_of_its_layout(source, expected):
    assert data_overrides("/d", source) == expected


def test_a_csv_is_a_manifest_and_a_folder_of_shards_is_tfrecords(tmp_path):
    (tmp_path / "m.csv").write_text("path\n")
    assert data_overrides(str(tmp_path / "m.csv"), "fmnist") == ["data.source=manifest", f"data.path={tmp_path / 'm.csv'}"]
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "train-00000.tfrecord").write_bytes(b"")
    assert data_overrides(str(tmp_path / "shards"), "fmnist")[0] == "data.source=tfrecords"
