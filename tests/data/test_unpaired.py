"""Unpaired two-domain data: filters, zipping, epoch length, Fashion-MNIST domains."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.data.folders import EmptySelectionError, folder_table
from shoes_generator.data.pipeline import PipelineOptions
from shoes_generator.data.unpaired import (
    fmnist_domain,
    parse_filter,
    select_domain,
    table_unpaired_dataset,
    unpaired_dataset,
)
from tests.harness import shoe_image, write_image

OPTIONS = PipelineOptions(image_size=16, batch_size=1, drop_remainder=False, shuffle_buffer=8)
COLORS = {"red": (220, 20, 20), "blue": (20, 20, 220)}


@pytest.fixture
def two_colors(tmp_path):
    """3 red shoes and 1 blue shoe, labelled by folder."""
    for color, count in (("red", 3), ("blue", 1)):
        for index in range(count):
            write_image(tmp_path / color / f"{index}.png", shoe_image(16, COLORS[color], width=16 + 4 * index))
    return folder_table(tmp_path, folder_label="color")


def _redness(image):
    """Mean red minus blue over the shoe's pixels (white background left out)."""
    shoe = image.min(axis=-1) < 0.8
    return float((image[..., 0] - image[..., 2])[shoe].mean())


def _pairs(dataset):
    return [(a, b) for batch in dataset.as_numpy_iterator() for a, b in zip(batch["a"], batch["b"])]


def test_parse_filter():
    assert parse_filter("brand=Nike") == {"brand": ("Nike",)}
    assert parse_filter(" category = sneaker , ankle_boot ;brand=adidas") == {
        "category": ("sneaker", "ankle_boot"),
        "brand": ("adidas",),
    }
    assert parse_filter("sneaker") == {"": ("sneaker",)}
    for bad in ("", "brand=", "=Nike", "brand=a;brand=b"):
        with pytest.raises(ValueError, match="Received: expression="):
            parse_filter(bad)


def test_select_with_keys_and_bare_values(zappos_tree):
    from shoes_generator.data.folders import zappos_table

    table = zappos_table(zappos_tree, meta_data=None)
    assert set(select_domain(table, "brand=Nike,adidas").labels["brand"]) == {"Nike", "adidas"}
    assert len(select_domain(table, "Timberland")) == 2  # the one column holding that value
    with pytest.raises(EmptySelectionError, match="no label column"):
        select_domain(table, "Puma")
    with pytest.raises(EmptySelectionError, match="brand=Puma"):
        select_domain(table, "brand=Puma")


def test_domains_stay_apart_and_the_longer_one_sets_the_epoch(two_colors):
    pairs = _pairs(table_unpaired_dataset(two_colors, "color=red", "color=blue", OPTIONS))
    assert len(pairs) == 3  # the single blue shoe repeats
    assert all(_redness(a) > 1.0 and _redness(b) < -1.0 for a, b in pairs)
    reds = {a.tobytes() for a, _ in pairs}
    assert len(reds) == 3  # every red shoe once
    shorter = _pairs(table_unpaired_dataset(two_colors, "color=red", "color=blue", OPTIONS, epoch="shorter"))
    assert len(shorter) == 1
    with pytest.raises(ValueError, match="epoch='both'"):
        table_unpaired_dataset(two_colors, "color=red", "color=blue", OPTIONS, epoch="both")


def test_same_seed_same_stream_and_domains_augmented_independently(two_colors):
    options = OPTIONS.replace(flip=True, repeat=True, seed=5)
    a, b = select_domain(two_colors, "color=red"), select_domain(two_colors, "color=red")
    first = _pairs(unpaired_dataset(a, b, options).take(12))
    again = _pairs(unpaired_dataset(a, b, options).take(12))
    for (a1, b1), (a2, b2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(b1, b2)
    # Same images on both sides, but their own shuffles and flips: the sides differ.
    assert sum(not np.array_equal(x, y) for x, y in first) >= 4


def test_datasets_as_domains():
    ones = tf.data.Dataset.from_tensor_slices({"image": np.ones([5, 16, 16, 3], np.float32)})
    zeros = tf.data.Dataset.from_tensor_slices({"image": np.zeros([2, 16, 16, 3], np.float32)})
    pairs = _pairs(unpaired_dataset(ones, zeros, OPTIONS))
    assert len(pairs) == 5 and all(a.min() == 1.0 and b.max() == 0.0 for a, b in pairs)
    unknown = zeros.filter(lambda example: True)
    with pytest.raises(ValueError, match="known size"):
        unpaired_dataset(ones, unknown, OPTIONS)
    assert len(_pairs(unpaired_dataset(ones, unknown, OPTIONS, epoch="shorter"))) == 2


@pytest.mark.fmnist
def test_fmnist_sneakers_versus_ankle_boots():
    from shoes_generator.data.fmnist import FashionMNISTNotFoundError

    try:
        sneakers = fmnist_domain("sneaker", OPTIONS.replace(image_size=32), split="test", limit=60, download=False)
    except FashionMNISTNotFoundError:
        pytest.skip("Fashion-MNIST files not found")
    boots = fmnist_domain("ankle_boot", OPTIONS.replace(image_size=32), split="test", limit=60, download=False)
    assert 0 < int(sneakers.cardinality()) < 60
    from shoes_generator.data.fmnist import load_shoe_arrays

    _, categories = load_shoe_arrays("test", download=False, limit=60)
    assert sum(1 for _ in sneakers) == int((categories == "sneaker").sum())  # Counted, not just declared.
    batches = list(unpaired_dataset(sneakers, boots, OPTIONS.replace(image_size=32, batch_size=4)))
    assert batches[0]["a"].shape == (4, 32, 32, 3)
    assert sum(int(batch["a"].shape[0]) for batch in batches) == max(int(sneakers.cardinality()), int(boots.cardinality()))
    with pytest.raises(EmptySelectionError, match="ankle_boot"):
        fmnist_domain("boot", OPTIONS, split="test", limit=60, download=False)


def test_data_limit_cuts_a_folder_before_its_domains_are_chosen(zappos_tree):
    import dataclasses

    from shoes_generator.configs import DataConfig
    from shoes_generator.data.training_data import training_data

    config = DataConfig(source="folder", path=str(zappos_tree), image_size=16, domain_a="category=Shoes", domain_b="category=Boots")
    assert training_data(config, batch_size=1, seed=0).num_examples == 4  # 4 shoes vs 2 boots: the longer domain.
    # The first 5 files in tree order: 2 boots, 2 sandals, 1 shoe -> domains of 1 and 2.
    assert training_data(dataclasses.replace(config, limit=5), batch_size=1, seed=0).num_examples == 2
