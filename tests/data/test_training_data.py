"""`training_data`: a `DataConfig` -> vocabularies, epoch size and the resumable stream of encoded batches."""

import numpy as np
import pytest

from shoes_generator.configs import DataConfig
from shoes_generator.data import fmnist
from shoes_generator.data.training_data import training_data


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
