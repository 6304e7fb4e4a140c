"""`shoes-data to-tfrecords`: shards of every kind, summary, errors."""

import json

import tensorflow as tf

from shoes_generator.data.manifest import write_manifest
from shoes_generator.data.pipeline import PipelineOptions
from shoes_generator.data.tfrecords import SIDECAR, tfrecord_dataset

OPTIONS = PipelineOptions(image_size=16, batch_size=2, shuffle=False, drop_remainder=False)


def _read(folder, **kwargs):
    batches = list(tfrecord_dataset(folder, OPTIONS, **kwargs).as_numpy_iterator())
    return batches, sum(len(next(iter(batch.values()))) for batch in batches)


def test_zappos_tree_with_meta_data(cli, zappos_tree, tmp_path):
    code, summary, _ = cli(["to-tfrecords", zappos_tree, tmp_path / "tfr", "--kind", "zappos", "--shards", "3"])
    assert code == 0
    assert summary["examples"] == 8 and summary["shards"] == 3 and summary["examples_per_shard"] == [3, 3, 2]
    assert summary["skipped"] == 2 and len(summary["skipped_files"]) == 2
    assert summary["labels"] == {"category": 3, "subcategory": 3, "brand": 4, "heel_height": 3}
    assert summary["encoding"] == "original" and summary["joins"]["meta-data.csv"]["matched"] == 8
    assert json.loads((tmp_path / "tfr" / SIDECAR).read_text())["examples"] == 8
    batches, count = _read(tmp_path / "tfr")
    assert count == 8 and set(batches[0]) == {"image", "category", "subcategory", "brand", "heel_height"}


def test_folder_with_its_manifest_resized(cli, zappos_tree, tmp_path):
    rows = [{"path": p.relative_to(zappos_tree).as_posix(), "color": "red"} for p in sorted(zappos_tree.rglob("1*.jpg"))]
    write_manifest(zappos_tree / "manifest.csv", rows, ["path", "color"])
    code, summary, _ = cli(["to-tfrecords", zappos_tree, tmp_path / "tfr", "--size", "8", "--format", "jpg"])
    assert code == 0 and summary["kind"] == "folder" and summary["encoding"] == "jpeg"
    assert summary["labels"] == {"color": 1} and summary["joins"]["manifest.csv"]["unmatched"] == 4
    batches, count = _read(tmp_path / "tfr")
    assert count == 8 and batches[0]["image"].shape == (2, 16, 16, 3)
    raw = next(iter(tf.data.TFRecordDataset(sorted(str(p) for p in (tmp_path / "tfr").glob("*.tfrecord")))))
    stored = tf.io.parse_single_example(raw, {"image": tf.io.FixedLenFeature([], tf.string)})["image"]
    assert tuple(tf.io.decode_jpeg(stored).shape) == (8, 8, 3)  # --size took effect in the shards themselves.
    assert sorted(value for batch in batches for value in batch["color"].tolist()) == [b""] * 4 + [b"red"] * 4


def test_pairs_and_triplets(cli, ab_pairs, triplets, tmp_path):
    code, summary, _ = cli(["to-tfrecords", ab_pairs, tmp_path / "pairs", "--kind", "pairs", "--shards", "2"])
    assert code == 0 and summary["stored_kind"] == "pairs" and summary["examples"] == 4
    batches, count = _read(tmp_path / "pairs", direction="BtoA")
    assert count == 4 and set(batches[0]) == {"input", "target"}
    code, summary, _ = cli(["to-tfrecords", triplets, tmp_path / "triplets", "--kind", "triplets"])
    assert code == 0 and summary["image_keys"] == ["input", "mask", "target"] and summary["examples"] == 3


def test_a_second_run_replaces_the_first(cli, ab_pairs, tmp_path):
    assert cli(["to-tfrecords", ab_pairs, tmp_path / "tfr", "--kind", "pairs", "--shards", "3"])[0] == 0
    code, summary, _ = cli(["to-tfrecords", ab_pairs, tmp_path / "tfr", "--kind", "pairs"])
    assert code == 0 and summary["replaced_shards"] == 3
    assert sorted(path.name for path in (tmp_path / "tfr").iterdir()) == sorted([SIDECAR, "data-00000-of-00001.tfrecord"])
    assert _read(tmp_path / "tfr")[1] == 4


def test_errors_name_the_argument(cli, ab_pairs, tmp_path):
    (tmp_path / "file").write_text("x")
    code, _, err = cli(["to-tfrecords", ab_pairs, tmp_path / "file"])
    assert code == 2 and "DST=" in err and "file" in err
    code, _, err = cli(["to-tfrecords", tmp_path / "missing", tmp_path / "out"])
    assert code == 2 and "missing" in err
    code, _, err = cli(["to-tfrecords", ab_pairs, tmp_path / "out", "--size", "2"])
    assert code == 2 and "--size 2" in err
    code, _, err = cli(["to-tfrecords", ab_pairs, tmp_path / "out", "--kind", "triplets"])
    assert code == 2 and "input" in err
