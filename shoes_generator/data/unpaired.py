"""Unpaired two-domain data (CycleGAN style): ``{"a", "b"}`` from two label selections.

Each domain is shuffled and augmented on its own, then the two are zipped.
With ``epoch="longer"`` (the default, as in CycleGAN) an epoch has as many
examples as the larger domain and the smaller one restarts, reshuffled, when it
runs out; with ``epoch="shorter"`` the epoch ends with the smaller domain.
Domains are `ImageTable` selections (``brand=Nike`` vs ``brand=adidas``) or any
unbatched dataset of ``{"image": ...}`` dicts, such as `fmnist_domain`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import tensorflow as tf

from shoes_generator.data.folders import EmptySelectionError, ImageTable, table_elements
from shoes_generator.data.pipeline import PipelineOptions, augment_dataset, batch_pipeline, shuffle_buffer

EPOCHS = ("longer", "shorter")
DOMAIN_KEYS = ("a", "b")


def parse_filter(expression: str) -> dict[str, tuple[str, ...]]:
    """Parses ``key=value[,value2][;key2=value]``; a bare ``value`` has the key "".

    Examples: ``"brand=Nike"``, ``"category=sneaker,ankle_boot"``,
    ``"category=Shoes;brand=adidas"``, ``"sneaker"``.

    Args:
        expression: the filter.
    """
    conditions: dict[str, tuple[str, ...]] = {}
    for part in filter(None, (part.strip() for part in str(expression).split(";"))):
        key, _, values = part.partition("=") if "=" in part else ("", "", part)
        key = key.strip()
        values = tuple(value.strip() for value in values.split(",") if value.strip())
        if not values or key in conditions or ("=" in part and not key):
            raise ValueError(
                f"A label filter reads key=value[,value2][;key2=value] with each key once. Received: expression={expression!r}"
            )
        conditions[key] = values
    if not conditions:
        raise ValueError(f"The label filter is empty. Received: expression={expression!r}")
    return conditions


def select_domain(table: ImageTable, expression: str) -> ImageTable:
    """The rows of `table` matching a `parse_filter` expression.

    A bare value (``"sneaker"``) applies to the one label column that has it.

    Args:
        table: the images.
        expression: the filter, e.g. ``"brand=Nike"``.
    """
    conditions = parse_filter(expression)
    if "" in conditions:
        values = set(conditions.pop(""))
        owners = [name for name in table.label_names if values <= set(table.vocabulary(name))]
        if len(owners) != 1:
            where = "several label columns" if owners else "no label column"
            raise EmptySelectionError(
                f"The bare value(s) {sorted(values)} of the filter occur in {where} ({owners}) of {table.root!r}; "
                f"write label=value. Labels: {table.vocabularies()}. Received: expression={expression!r}"
            )
        conditions[owners[0]] = tuple(values)
    return table.filter(**conditions)


def _domain(
    source: ImageTable | tf.data.Dataset, options: PipelineOptions, offset: int, repeat: bool, image_key: str
) -> tuple[tf.data.Dataset, int]:
    """One domain's images, shuffled and augmented with its own seed, and its size."""
    if isinstance(source, ImageTable):
        size, elements = len(source), table_elements(source, options, columns=())
    else:
        size, elements = int(source.cardinality()), source
    seed = None if options.seed is None else options.seed + offset
    images = elements.map(lambda example: {"image": example[image_key]})
    if options.cache:
        images = images.cache("" if options.cache is True else f"{options.cache}_{DOMAIN_KEYS[offset]}")
    if options.shuffle:
        buffer = shuffle_buffer(options) if size < 0 else max(1, min(shuffle_buffer(options), size))
        images = images.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    # Augmenting before the repeat keeps parallel read-ahead inside one pass, so the
    # reshuffle seeds each new pass draws (and thus the order) stay deterministic.
    images = augment_dataset(images, options.replace(seed=seed))
    return (images.repeat() if repeat else images), size


def unpaired_dataset(
    a: ImageTable | tf.data.Dataset,
    b: ImageTable | tf.data.Dataset,
    options: PipelineOptions,
    epoch: str = "longer",
    image_key: str = "image",
) -> tf.data.Dataset:
    """Batches of ``{"a": [B, S, S, C], "b": [B, S, S, C]}`` from two unpaired domains.

    Args:
        a: domain A: an `ImageTable` or an unbatched dataset of dicts holding `image_key`.
        b: domain B, likewise.
        options: the pipeline options; domain B shuffles and augments with ``seed + 1``.
        epoch: "longer" (epoch = the larger domain, the smaller repeats) or
            "shorter" (epoch = the smaller domain).
        image_key: the image key of dataset domains.
    """
    if epoch not in EPOCHS:
        raise ValueError(f"epoch must be one of {EPOCHS}. Received: epoch={epoch!r}")
    (a, size_a), (b, size_b) = (
        _domain(source, options, offset, epoch == "longer", image_key) for offset, source in enumerate((a, b))
    )
    zipped = tf.data.Dataset.zip(a, b).map(lambda x, y: {"a": x["image"], "b": y["image"]})
    if epoch == "longer":
        if min(size_a, size_b) < 0:
            raise ValueError(
                "epoch='longer' needs domains of known size (tables, or datasets with a known cardinality). "
                f"Received: sizes a={size_a}, b={size_b} (negative = unknown); use epoch='shorter'."
            )
        zipped = zipped.take(max(size_a, size_b))
    done = options.replace(cache=False, shuffle=False, flip=False, jitter=False)
    return batch_pipeline(zipped, done, DOMAIN_KEYS)


def table_unpaired_dataset(table: ImageTable, a: str, b: str, options: PipelineOptions, epoch: str = "longer") -> tf.data.Dataset:
    """`unpaired_dataset` of two filters of one table, e.g. ``"brand=Nike"`` vs ``"brand=adidas"``.

    Args:
        table: the images.
        a: domain A's filter (see `parse_filter`).
        b: domain B's filter.
        options: the pipeline options.
        epoch: "longer" or "shorter".
    """
    return unpaired_dataset(select_domain(table, a), select_domain(table, b), options, epoch)


def fmnist_domain(
    categories: str | Sequence[str],
    options: PipelineOptions,
    split: str = "train",
    colored: bool = False,
    limit: int | None = None,
    download: bool = True,
) -> tf.data.Dataset:
    """Unbatched Fashion-MNIST shoes of the given categories, framed as `fmnist.fmnist_shoes` does.

    Args:
        categories: "sandal", "sneaker", "ankle_boot", or several.
        options: output size, channels and fit mode.
        split: "train" or "test".
        colored: the coloured variant (adds a ``color`` label).
        limit: at most this many shoes of the split (before choosing categories).
        download: let Keras download the files when no folder has them.
    """
    from shoes_generator.data import fmnist

    wanted = [categories] if isinstance(categories, str) else list(categories)
    _, names = fmnist.load_shoe_arrays(split, download=download, limit=limit)
    count = int(np.isin(names, wanted).sum())
    if not count:
        raise EmptySelectionError(
            f"No Fashion-MNIST {split} shoe is in {wanted}; categories are {sorted(set(names.tolist()))}. "
            f"Received: categories={categories!r}"
        )
    single = options.replace(batch_size=1, drop_remainder=False, shuffle=False, repeat=False, flip=False, jitter=False, cache=False)
    shoes = fmnist.fmnist_shoes(split, single, colored=colored, limit=limit, download=download).unbatch()
    shoes = shoes.filter(lambda shoe: tf.reduce_any(tf.equal(shoe["category"], wanted)))
    return shoes.apply(tf.data.experimental.assert_cardinality(count))
