"""TFRecord shards: round trips equal the source pipelines, deterministic output, sidecar."""

import hashlib
import json

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.data.folders import folder_dataset, folder_table, zappos_table
from shoes_generator.data.paired import pair_dataset, pair_table, triplet_dataset, triplet_table
from shoes_generator.data.pipeline import PipelineOptions, to_float, to_uint8
from shoes_generator.data.tfrecords import SIDECAR, read_info, tfrecord_dataset, write_tfrecords
from tests.harness import shoe_image, write_image

OPTIONS = PipelineOptions(image_size=16, batch_size=2, shuffle=False, drop_remainder=False)


def _batches(dataset):
    return list(dataset.as_numpy_iterator())


def _assert_same(expected, received, atol=0.0):
    assert len(expected) == len(received)
    for want, got in zip(expected, received):
        assert sorted(want) == sorted(got)
        for key in want:
            if want[key].dtype == object:
                np.testing.assert_array_equal(want[key], got[key])
            else:
                np.testing.assert_allclose(want[key], got[key], atol=atol)


def test_zappos_round_trip_equals_the_folder_pipeline(zappos_tree, tmp_path):
    table = zappos_table(zappos_tree)
    info = write_tfrecords(table, tmp_path / "tfr", shards=3)
    assert info.kind == "images" and info.encoding == "original" and info.examples == 8
    assert [shard["examples"] for shard in info.shards] == [3, 3, 2]
    _assert_same(_batches(folder_dataset(table, OPTIONS)), _batches(tfrecord_dataset(tmp_path / "tfr", OPTIONS)))
    sidecar = json.loads((tmp_path / "tfr" / SIDECAR).read_text())
    assert sidecar["vocabularies"]["brand"] == ["Nike", "Teva", "Timberland", "adidas"]
    assert sidecar["skipped"] == 2 and sidecar["image_keys"] == ["image"]
    assert sidecar["feature_keys"]["heel_height"] == "bytes"
    augmented = OPTIONS.replace(flip=True, jitter=True, seed=1)
    _assert_same(_batches(folder_dataset(table, augmented)), _batches(tfrecord_dataset(tmp_path / "tfr", augmented)))


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_pairs_round_trip_in_both_directions(ab_pairs, tmp_path, direction):
    table = pair_table(ab_pairs)
    info = write_tfrecords(table, tmp_path / "tfr", shards=2)
    assert info.kind == "pairs" and info.image_keys == ("ab",)
    expected = _batches(pair_dataset(table, OPTIONS, direction))
    _assert_same(expected, _batches(tfrecord_dataset(tmp_path / "tfr", OPTIONS, direction)))


def test_triplets_round_trip_through_a_glob_pattern(triplets, tmp_path):
    table = triplet_table(triplets)
    write_tfrecords(table, tmp_path / "tfr", shards=2)
    received = _batches(tfrecord_dataset(str(tmp_path / "tfr" / "data-*.tfrecord"), OPTIONS))
    _assert_same(_batches(triplet_dataset(table, OPTIONS)), received)
    assert received[0]["mask"].shape == (2, 16, 16, 1)


def test_output_is_deterministic(zappos_tree, tmp_path):
    def digest(folder):
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}

    table = zappos_table(zappos_tree)
    write_tfrecords(table, tmp_path / "one", shards=2, options=OPTIONS)
    write_tfrecords(table, tmp_path / "two", shards=2, options=OPTIONS)
    assert digest(tmp_path / "one") == digest(tmp_path / "two")
    assert len(digest(tmp_path / "one")) == 3


def test_resized_tables_are_re_encoded(zappos_tree, triplets, ab_pairs, tmp_path):
    small = OPTIONS.replace(image_size=8)
    table = zappos_table(zappos_tree)
    info = write_tfrecords(table, tmp_path / "z", shards=2, options=small)
    assert info.encoding == "png"
    _assert_same(_batches(folder_dataset(table, small)), _batches(tfrecord_dataset(tmp_path / "z", small)), atol=0.5 / 127.5 + 1e-6)
    info = write_tfrecords(pair_table(ab_pairs), tmp_path / "p", options=small, image_format="jpeg")
    assert info.kind == "pairs" and info.encoding == "jpeg"
    assert _batches(tfrecord_dataset(tmp_path / "p", small))[0]["input"].shape == (2, 8, 8, 3)
    info = write_tfrecords(triplet_table(triplets), tmp_path / "t", options=small)
    assert info.mask_keys == ("mask",)
    _assert_same(_batches(triplet_dataset(triplets, small)), _batches(tfrecord_dataset(tmp_path / "t", small)), atol=0.5 / 127.5 + 1e-6)


def test_element_datasets_round_trip_quantized_to_8_bits(tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, [5, 16, 16, 3]).astype(np.float32)
    masks = np.where(images[..., :1] > 0, 1.0, -1.0).astype(np.float32)
    labels = ["red", "blue", "red", "", "green"]
    source = tf.data.Dataset.from_tensor_slices({"image": images, "mask": masks, "color": labels})
    info = write_tfrecords(source, tmp_path / "tfr", shards=2)
    assert info.kind == "elements" and info.mask_keys == ("mask",) and info.vocabularies == {"color": ["blue", "green", "red"]}
    [batch] = _batches(tfrecord_dataset(tmp_path / "tfr", OPTIONS.replace(batch_size=5)))
    np.testing.assert_allclose(batch["image"], to_float(to_uint8(images)).numpy(), atol=1e-6)
    np.testing.assert_array_equal(batch["mask"], masks)
    assert batch["color"].tolist() == [label.encode() for label in labels]
    with pytest.raises(ValueError, match="unbatched dicts"):
        write_tfrecords(source.batch(2), tmp_path / "batched")
    assert not (tmp_path / "batched").exists()


def test_a_truncated_file_in_the_shards_is_dropped_at_read_time(tmp_path):
    for index in range(3):
        write_image(tmp_path / "src" / f"{index}.jpg", shoe_image(64, (60 * index, 90, 200)))
    data = (tmp_path / "src" / "1.jpg").read_bytes()
    (tmp_path / "src" / "1.jpg").write_bytes(data[: int(len(data) * 0.6)])
    info = write_tfrecords(folder_table(tmp_path / "src"), tmp_path / "tfr")
    assert info.examples == 3
    assert sum(len(batch["image"]) for batch in _batches(tfrecord_dataset(tmp_path / "tfr", OPTIONS))) == 2


def test_shuffled_reads_are_deterministic_for_a_seed(zappos_tree, tmp_path):
    write_tfrecords(zappos_table(zappos_tree), tmp_path / "tfr", shards=4)
    options = OPTIONS.replace(shuffle=True, seed=7, flip=True)
    first, second = (_batches(tfrecord_dataset(tmp_path / "tfr", options)) for _ in range(2))
    _assert_same(first, second)
    unshuffled = _batches(tfrecord_dataset(tmp_path / "tfr", OPTIONS))
    assert [b["brand"].tolist() for b in first] != [b["brand"].tolist() for b in unshuffled]


def test_errors(zappos_tree, tmp_path):
    table = zappos_table(zappos_tree)
    write_tfrecords(table, tmp_path / "tfr")
    with pytest.raises(FileExistsError, match="overwrite"):
        write_tfrecords(table, tmp_path / "tfr")
    write_tfrecords(table, tmp_path / "tfr", shards=2, overwrite=True)
    info, files = read_info(tmp_path / "tfr")
    assert [path.rsplit("/", 1)[-1] for path in files] == ["data-00000-of-00002.tfrecord", "data-00001-of-00002.tfrecord"]
    assert sorted(path.name for path in (tmp_path / "tfr").iterdir()) == sorted([SIDECAR, *(p.rsplit("/", 1)[-1] for p in files)])
    with pytest.raises(ValueError, match="Received: shards=0"):
        write_tfrecords(table, tmp_path / "zero", shards=0)
    with pytest.raises(FileNotFoundError, match="No TFRecord shard matches"):
        read_info(tmp_path / "nothing-*.tfrecord")
    (tmp_path / "tfr" / SIDECAR).unlink()
    with pytest.raises(FileNotFoundError, match="sidecar"):
        tfrecord_dataset(tmp_path / "tfr", OPTIONS)
