"""`training_data`: a `DataConfig` -> vocabularies, epoch size and the resumable stream of encoded batches."""

import dataclasses

import numpy as np
import pytest

from shoes_generator.configs import DataConfig
from shoes_generator.data import fmnist
from shoes_generator.data.pipeline import epoch_stream
from shoes_generator.data.training_data import training_data
from tests.harness import write_corrupt


def real_fmnist_dirs():
    """The search folders holding all four real Fashion-MNIST idx files (as in test_fmnist.py)."""
    return [d for d in fmnist.default_search_dirs() if all((d / name).is_file() for names in fmnist.FILES.values() for name in names)]


def _batches(dataset, count):
    return list(dataset.take(count).as_numpy_iterator())


def _assert_same(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])


@pytest.mark.fmnist
@pytest.mark.skipif(not real_fmnist_dirs(), reason="the real Fashion-MNIST files are not installed")
def test_fmnist_color_stream_resumes_and_encodes_labels():
    config = DataConfig(source="fmnist_color", image_size=16, labels=("color", "category"), limit=40)
    data = training_data(config, batch_size=4, seed=0)
    assert data.num_examples == 40 and data.steps_per_epoch == 10
    assert not (data.options.jitter or data.options.flip)  # DataConfig.flip defaults to False
    _assert_same(_batches(data.stream(3), 9), _batches(data.stream(0).skip(3), 9))  # crosses the epoch boundary
    assert data.vocabularies.sizes == {"category": 3, "color": 11}
    seen = {"category": set(), "color": set()}
    for batch in _batches(data.stream(0), 10):
        assert batch["image"].shape == (4, 16, 16, 3) and batch["image"].dtype == np.float32
        assert -1.0 <= batch["image"].min() and batch["image"].max() <= 1.0
        for name, size in data.vocabularies.sizes.items():
            assert batch[name].dtype == np.int32, f"{name}: {batch[name].dtype}"
            assert ((0 <= batch[name]) & (batch[name] < size)).all(), f"{name}: {batch[name]}"
            seen[name].update(batch[name].tolist())
    assert len(seen["category"]) > 1 and len(seen["color"]) > 1  # real ids, not one default


@pytest.mark.fmnist
@pytest.mark.skipif(not real_fmnist_dirs(), reason="the real Fashion-MNIST files are not installed")
def test_fmnist_elements_are_not_augmented_before_the_stream():
    config = DataConfig(source="fmnist_color", image_size=16, labels=("category",), limit=8, flip=True)
    data = training_data(config, batch_size=4, seed=0)
    plain = training_data(DataConfig(source="fmnist_color", image_size=16, labels=("category",), limit=8), batch_size=4, seed=0)
    assert data.options.flip
    # The unbatched elements are the same with and without flip: only `epoch_stream` flips.
    _assert_same(list(data.elements.as_numpy_iterator()), list(plain.elements.as_numpy_iterator()))


def test_folder_source_vocabulary_and_corrupt_files(zappos_tree):
    config = DataConfig(source="folder", path=str(zappos_tree.parent), image_size=16, labels=("category",))
    data = training_data(config, batch_size=4, seed=0)
    assert list(data.vocabularies.values("category")) == ["Boots", "Sandals", "Shoes"]
    elements = list(data.elements.as_numpy_iterator())
    assert len(elements) == 8 and data.num_examples == 8 and data.steps_per_epoch == 2
    assert sorted(e["category"].decode() for e in elements) == ["Boots"] * 2 + ["Sandals"] * 2 + ["Shoes"] * 4
    batches = _batches(data.stream(0), 4)
    assert all(b["category"].dtype == np.int32 and set(b["category"]) <= {0, 1, 2} for b in batches)
    for epoch in (batches[:2], batches[2:]):
        assert sorted(np.concatenate([b["category"] for b in epoch])) == [0, 0, 1, 1, 2, 2, 2, 2]
    _assert_same(_batches(data.stream(1), 3), batches[1:])


def test_too_few_examples_for_one_batch(zappos_tree):
    config = DataConfig(source="folder", path=str(zappos_tree.parent), image_size=16, labels=("category",))
    with pytest.raises(ValueError, match=r"holds 8 example\(s\), less than one batch of 16"):
        training_data(config, batch_size=16, seed=0)


# --- a worker's rows, decoded after the cut (issue 19) -----------------------------------------


def _folder_data(zappos_tree, cache):
    config = DataConfig(source="folder", path=str(zappos_tree.parent), image_size=16, labels=("category",), flip=True,
                        jitter=True, cache=cache)
    return training_data(config, batch_size=4, seed=0)


def _joined(shares):
    """The per-step batches of several workers' rows, concatenated in row order."""
    return [{key: np.concatenate([share[step][key] for share in shares]) for key in shares[0][0]} for step in range(len(shares[0]))]


def test_uncached_files_decoded_after_the_cut_give_the_cached_batches(zappos_tree):
    cached, lazy = _folder_data(zappos_tree, True), _folder_data(zappos_tree, False)
    whole = _batches(cached.stream(1), 4)  # Steps 1 to 4 of 2 per epoch: across two epoch boundaries.
    # Shuffling does not look at values: the paths shuffle as the decoded images do.
    _assert_same(_batches(lazy.stream(1), 4), whole)
    for data in (cached, lazy):
        _assert_same(_joined([_batches(data.stream(1, rows), 4) for rows in ((0, 1), (1, 3))]), whole)
    # Whoever reads the elements (samples, metrics, shoes-eval) gets them decoded.
    _assert_same(list(lazy.elements.as_numpy_iterator()), list(cached.elements.as_numpy_iterator()))


def _position(data, path):
    """(global batch, row) of `path` in the first epoch of `data`'s stream."""
    plain = data.options.replace(flip=False, jitter=False)
    for step, batch in enumerate(_batches(epoch_stream(data.records, plain), data.steps_per_epoch)):
        rows = [value.decode() for value in batch["path"]]
        if str(path) in rows:
            return step, rows.index(str(path))
    raise AssertionError(f"{path} is not in the first epoch")


def test_a_file_unreadable_at_step_time_keeps_the_batch_full_is_warned_and_concerns_its_worker_alone(zappos_tree, caplog):
    data = _folder_data(zappos_tree, False)
    victim = zappos_tree / "Sandals" / "Flat" / "Teva" / "300.1.jpg"
    step, row = _position(data, victim)
    write_corrupt(victim)  # After the listing: only decoding finds it.
    mine, other = ((0, 2), (2, 2)) if row < 2 else ((2, 2), (0, 2))
    with caplog.at_level("WARNING", logger="shoes_generator.data"):
        assert all(batch["image"].shape == (2, 16, 16, 3) for batch in _batches(data.stream(0, other), 2))
    assert f"global batch {step} failed" not in caplog.text  # Not among its rows: never decoded there.
    with caplog.at_level("WARNING", logger="shoes_generator.data"):
        batches = _batches(data.stream(0), 2)  # One process: one epoch.
        assert all(batch["image"].shape == (2, 16, 16, 3) for batch in _batches(data.stream(0, mine), 2))
    assert all(batch["image"].shape == (4, 16, 16, 3) for batch in batches)
    assert f"1 of the 4 row(s) of global batch {step} failed" in caplog.text
    assert f"1 of the 2 row(s) of global batch {step} failed" in caplog.text


def _file_source(kind, request, tmp_path) -> DataConfig:
    """A tiny augmented `DataConfig` of each other file-backed source."""
    augmented = {"image_size": 16, "flip": True, "jitter": True}
    if kind in ("pairs", "triplets"):
        fixture = {"pairs": "ab_pairs", "triplets": "triplets"}[kind]
        return DataConfig(source=kind, path=str(request.getfixturevalue(fixture)), **augmented)
    zappos = request.getfixturevalue("zappos_tree")
    if kind == "unpaired":
        return DataConfig(source="folder", path=str(zappos), domain_a="category=Shoes", domain_b="category=Boots", **augmented)
    from shoes_generator.data.folders import zappos_table
    from shoes_generator.data.tfrecords import write_tfrecords

    write_tfrecords(zappos_table(zappos), tmp_path / "tfr", shards=2)
    return DataConfig(source="tfrecords", path=str(tmp_path / "tfr"), labels=("brand",), **augmented)


@pytest.mark.parametrize("kind", ["pairs", "triplets", "tfrecords", "unpaired"])
def test_every_file_source_decodes_after_the_cut_when_uncached(kind, request, tmp_path):
    config = _file_source(kind, request, tmp_path)
    cached, lazy = (training_data(dataclasses.replace(config, cache=cache), batch_size=2, seed=0) for cache in (True, False))
    assert lazy.decode is not None
    whole = _batches(cached.stream(1), 3)
    _assert_same(_batches(lazy.stream(1), 3), whole)
    _assert_same(_joined([_batches(lazy.stream(1, rows), 3) for rows in ((0, 1), (1, 1))]), whole)
