"""A `DataConfig` -> the resumable, endless stream of batches `GAN.fit` consumes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Callable

import tensorflow as tf

from shoes_generator.configs import SKETCH_SOURCES, DataConfig
from shoes_generator.data.manifest import MANIFEST_NAME
from shoes_generator.data.pipeline import PipelineOptions, epoch_stream, map_decoded
from shoes_generator.labels import Vocabularies


@dataclasses.dataclass
class TrainingData:
    """The examples of a run and how they become batches.

    Attributes:
        records: unbatched dicts in a fixed order: the elements themselves, or
            (with `decode`) their undecoded records (file paths, serialized
            examples), decoded in `stream` after each worker kept its rows.
        num_examples: how many elements one epoch holds.
        options: batching, shuffling and augmentation options (seeded).
        vocabularies: label vocabularies (None for unlabelled data).
        labels: the conditioning labels, encoded to int32 ids in `stream`.
        image_keys: the image entries of an element (augmented together).
        decode: graph function of one record -> its element; None when
            `records` are the elements.
    """

    records: tf.data.Dataset
    num_examples: int
    options: PipelineOptions
    vocabularies: Vocabularies | None
    labels: tuple[str, ...]
    image_keys: tuple[str, ...] = ("image",)
    decode: Callable[[Any], dict] | None = None

    @property
    def elements(self) -> tf.data.Dataset:
        """Unbatched ``{"image", <label>...}`` dicts in a fixed order, decoded
        (``{"input", "target"[, "mask"]}`` for pix2pix, ``{"a", "b"}`` for CycleGAN,
        ``{"image", "mask"}`` for segmentation); records that fail to decode are dropped."""
        return self.records if self.decode is None else map_decoded(self.records, self.decode, self.options)

    @property
    def steps_per_epoch(self) -> int:
        """Full batches in one epoch."""
        return self.num_examples // self.options.batch_size

    def stream(self, start_step: int = 0, rows: tuple[int, int] | None = None) -> tf.data.Dataset:
        """Endless batches from global step `start_step` on, labels as int ids.

        The stream depends only on the seed, so a resumed run sees exactly the
        batches the uninterrupted run would have seen (see `epoch_stream`).

        Args:
            start_step: batches already consumed by earlier (killed) runs.
            rows: ``(first, count)``: only these rows of every global batch (a
                worker's share), decoded (uncached records) and augmented
                alone; None for whole batches.
        """
        keep = [*self.image_keys, *self.labels]
        select = lambda example: {key: example[key] for key in keep}
        if self.decode is None:
            records, decode = self.records.map(select), None
        else:
            records, decode = self.records, lambda record: select(self.decode(record))
        stream = epoch_stream(records, self.options, start_step, self.image_keys, rows, decode)
        if self.vocabularies is not None and self.labels:
            stream = stream.map(self.vocabularies.encoder())
        return stream


def pipeline_options(config: DataConfig, batch_size: int, seed: int) -> PipelineOptions:
    """The pipeline options of a training run (decoding unshuffled; `epoch_stream` shuffles)."""
    return PipelineOptions(
        image_size=config.image_size,
        channels=config.channels,
        batch_size=batch_size,
        shuffle=True,
        cache=config.cache,
        seed=seed,
        flip=config.flip,
        jitter=config.jitter,
    )


def _file_table(config: DataConfig):
    """The image table of a folder / manifest source, rows lacking a conditioning label dropped."""
    from shoes_generator.data import folders

    path = Path(config.path)
    if config.source == "manifest":
        table = folders.join_manifest(folders.folder_table(path.parent), path)
    elif folders.find_zappos_images(path) != path or path.name == folders.ZAPPOS_IMAGES:
        table = folders.zappos_table(path)
    else:
        table = folders.folder_table(path, folder_label="category")
        if (path / MANIFEST_NAME).is_file():
            table = folders.join_manifest(table, path / MANIFEST_NAME)
    missing = sorted(set(config.labels) - set(table.label_names))
    if missing:
        raise ValueError(f"data.labels {missing} are not in {str(path)!r}. Available labels: {list(table.label_names)}")
    labelled = [i for i in range(len(table)) if all(table.column(name)[i] for name in config.labels)]
    return table.subset(labelled) if len(labelled) < len(table) else table


def training_data(config: DataConfig, batch_size: int, seed: int, split: str = "train") -> TrainingData:
    """Builds the training data of `config`.

    Args:
        config: the data section of the experiment.
        batch_size: examples per batch.
        seed: shuffling and augmentation seed.
        split: "train" or "test" (Fashion-MNIST sources).

    Raises:
        ValueError: the data cannot give the requested labels, or holds less
            than one batch.
    """
    options = pipeline_options(config, batch_size, seed)
    unshuffled = options.replace(shuffle=False)
    if config.domain_a and config.domain_b:
        return _unpaired_data(config, options, split)
    if config.source in ("pairs", "triplets", *SKETCH_SOURCES):
        return _paired_data(config, options, split)
    if config.source in ("fmnist_masks", "fmnist_parts", "segments"):
        return _segmentation_data(config, options, split)
    if config.source in ("fmnist", "fmnist_color"):
        from shoes_generator.data import fmnist

        colored = config.source == "fmnist_color"
        # No augmentation here: `epoch_stream` augments (flipping twice would undo flips).
        one_by_one = unshuffled.replace(batch_size=1, drop_remainder=False, cache=False, flip=False, jitter=False)
        batches = fmnist.fmnist_shoes(split, one_by_one, colored=colored, seed=config.seed, limit=config.limit)
        elements, decode, count = batches.unbatch(), None, int(batches.cardinality())
        vocabularies = fmnist.vocabularies(colored)
    elif config.source == "tfrecords":
        from shoes_generator.data.tfrecords import read_info, tfrecord_records

        info, _ = read_info(config.path)
        (elements, decode), count = tfrecord_records(config.path, unshuffled), sum(s["examples"] for s in info.shards)
        vocabularies = info.vocabularies
    else:
        from shoes_generator.data.folders import table_records

        table = _file_table(config)
        (elements, decode), count = table_records(table, unshuffled, columns=config.labels), len(table)
        vocabularies = {name: table.vocabulary(name) for name in config.labels}
    unknown = sorted(set(config.labels) - set(vocabularies))
    if unknown:
        raise ValueError(f"data.labels {unknown} are not in the data. Available labels: {sorted(vocabularies)}")
    if config.limit:
        elements, count = elements.take(config.limit), min(count, config.limit)
    check_one_batch(count, batch_size, config)
    used = {name: vocabularies[name] for name in config.labels}
    return TrainingData(elements, count, options, Vocabularies(used) if used else None, tuple(config.labels), decode=decode)


def check_one_batch(count: int, batch_size: int, config: DataConfig) -> None:
    """Raises ValueError (naming the source and path) when `count` examples do not fill one batch."""
    if count < batch_size:
        raise ValueError(
            f"The training data holds {count} example(s), less than one batch of {batch_size} "
            f"(source={config.source!r}, path={config.path!r})."
        )


def _paired_data(config: DataConfig, options: PipelineOptions, split: str) -> TrainingData:
    """pix2pix data: ``{"input", "target"}`` (+ ``"mask"`` for triplets) in a fixed order."""
    unshuffled = options.replace(shuffle=False, flip=False, jitter=False)
    if config.source in SKETCH_SOURCES:
        if config.source == "fmnist_edges":
            from shoes_generator.data.fmnist_edges import sketch_pair_elements

            elements, count = sketch_pair_elements(split, unshuffled, config.limit)
        else:
            from shoes_generator.data.fmnist_sketches import styled_pair_elements

            elements, count = styled_pair_elements(split, unshuffled, config.limit, config.seed)
        keys, decode = ("input", "target"), None
        if config.direction == "BtoA":
            elements = elements.map(lambda e: {**e, "input": e["target"], "target": e["input"]})
    elif config.source == "pairs":
        from shoes_generator.data.paired import PAIR_KEYS, pair_records, pair_table

        table = pair_table(config.path)
        (elements, decode), count, keys = pair_records(table, unshuffled, config.direction), len(table), PAIR_KEYS
    else:
        from shoes_generator.data.paired import TRIPLET_KEYS, triplet_records, triplet_table

        table = triplet_table(config.path)
        (elements, decode), count, keys = triplet_records(table, unshuffled), len(table), TRIPLET_KEYS
    if config.limit:
        elements, count = elements.take(config.limit), min(count, config.limit)
    check_one_batch(count, options.batch_size, config)
    return TrainingData(elements, count, options, None, (), tuple(keys), decode)


def _segmentation_data(config: DataConfig, options: PipelineOptions, split: str) -> TrainingData:
    """Segmentation data: ``{"image": [S, S, 3] in [-1, 1], "mask": float32 [S, S, 1] class indices}``.

    The mask rides along as an image channel so flips and jitter (nearest-neighbour
    resizing, see `augment_together`) move it with the image and keep its indices whole.
    """
    from shoes_generator.data.pipeline import to_float
    from shoes_generator.segmentation.data import segmentation_arrays

    images, masks = segmentation_arrays(config, split, config.limit)
    check_one_batch(len(images), options.batch_size, config)
    elements = tf.data.Dataset.from_tensor_slices({"image": images, "mask": masks[..., None]}).map(
        lambda example: {"image": to_float(example["image"]), "mask": tf.cast(example["mask"], tf.float32)}
    )
    return TrainingData(elements, len(images), options, None, (), ("image", "mask"))


def _domain_records(config: DataConfig, expression: str, options: PipelineOptions, split: str) -> tuple[tf.data.Dataset, Callable, int]:
    """One CycleGAN domain (a label filter such as "category=sneaker"): its records, the graph function turning
    one into its image, and its size (Fashion-MNIST's records are the decoded ``{"image"}`` dicts)."""
    from shoes_generator.data.unpaired import fmnist_domain, parse_filter, select_domain

    if config.source in ("fmnist", "fmnist_color"):
        conditions = parse_filter(expression)
        categories = conditions.get("category") or conditions.get("", ())
        if set(conditions) - {"category", ""}:
            raise ValueError(f"Fashion-MNIST domains filter by category only. Received: {expression!r}")
        shoes = fmnist_domain(categories, options, split, colored=config.source == "fmnist_color", limit=config.limit)
        return shoes.map(lambda shoe: shoe["image"]), None, int(shoes.cardinality())
    from shoes_generator.data.folders import table_records

    table = _file_table(config)
    if config.limit and config.limit < len(table):  # As for Fashion-MNIST: the limit cuts the data before the filter.
        table = table.subset(list(range(config.limit)))
    table = select_domain(table, expression)
    records, decode = table_records(table, options, columns=())
    return records, lambda record: decode(record)["image"], len(table)


def _unpaired_data(config: DataConfig, options: PipelineOptions, split: str) -> TrainingData:
    """CycleGAN data: ``{"a", "b"}`` pairs of the two domains; the smaller domain repeats (epoch = the larger).

    Domain B is put in a fixed seeded order first, so A and B images meet in other
    pairings than their file order; `epoch_stream` then reshuffles the pairs each epoch.
    Folder domains pair their undecoded records (decoded after each worker kept its rows).
    """
    unshuffled = options.replace(shuffle=False, flip=False, jitter=False)
    (a, decode_a, size_a), (b, decode_b, size_b) = (
        _domain_records(config, side, unshuffled, split) for side in (config.domain_a, config.domain_b)
    )
    for side, size in ((config.domain_a, size_a), (config.domain_b, size_b)):
        check_one_batch(size, options.batch_size, dataclasses.replace(config, source=f"{config.source} [{side}]"))
    b = b.shuffle(size_b, seed=options.seed + 1, reshuffle_each_iteration=False)
    count = max(size_a, size_b)
    pairs = tf.data.Dataset.zip(a.repeat(), b.repeat()).take(count).map(lambda x, y: {"a": x, "b": y})
    decode = None if decode_a is None else lambda pair: {"a": decode_a(pair["a"]), "b": decode_b(pair["b"])}
    return TrainingData(pairs, count, options, None, (), ("a", "b"), decode)
