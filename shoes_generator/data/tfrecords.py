"""TFRecord shards of any source, and the pipeline that reads them back.

A shard holds one ``tf.train.Example`` per example: every image as encoded
PNG/JPEG bytes (the original file bytes when written from a table, so nothing
is re-encoded) and every label as a bytes feature. ``dataset.json`` beside the
shards says how to read them: the kind ("images", "pairs", "triplets",
"elements"), the image, mask and label keys, the label vocabularies and the
examples per shard. Example i goes to shard ``i % shards``, so reading with
shuffling off gives the written order back (up to `MAX_OPEN_SHARDS` shards).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import itertools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

import tensorflow as tf

from shoes_generator.data.folders import EmptySelectionError, table_elements
from shoes_generator.data.paired import MASK_KEYS, PAIR_KEYS, decode_images, decode_pair, pair_elements, triplet_elements
from shoes_generator.data.names import SHARD_GLOB, SIDECAR  # noqa: F401  (TensorFlow-free; named here too)
from shoes_generator.data.pipeline import AUTOTUNE, PipelineOptions, batch_pipeline, map_decoded, to_uint8

SHARD_NAME = "data-{index:05d}-of-{count:05d}.tfrecord"
IMAGE_FORMATS = ("png", "jpeg")
MAX_OPEN_SHARDS = 64
FORMAT_VERSION = 1

Record = tuple[dict[str, bytes], dict[str, str]]


@dataclasses.dataclass(frozen=True)
class ShardInfo:
    """The sidecar of a set of shards (``dataset.json``).

    Attributes:
        kind: "images", "pairs" (image key ``ab`` holds ``A|B``), "triplets" or "elements".
        image_keys: features holding encoded images.
        label_keys: features holding string labels.
        mask_keys: image keys decoded as 1-channel masks.
        vocabularies: label -> sorted distinct non-empty values.
        shards: ``{"file": name, "examples": count}`` per shard, in order.
        encoding: "original" (the source files' bytes), "png" or "jpeg".
        skipped: unreadable source files left out.
    """

    kind: str
    image_keys: tuple[str, ...]
    label_keys: tuple[str, ...]
    mask_keys: tuple[str, ...]
    vocabularies: dict[str, list[str]]
    shards: tuple[dict, ...]
    encoding: str
    skipped: int = 0

    @property
    def examples(self) -> int:
        """Examples in all shards."""
        return sum(shard["examples"] for shard in self.shards)

    @property
    def element_image_keys(self) -> tuple[str, ...]:
        """The image keys of the elements read back (``input``/``target`` for pairs)."""
        return PAIR_KEYS if self.kind == "pairs" else self.image_keys

    def to_json(self) -> dict:
        """The sidecar content."""
        fields = dataclasses.asdict(self)
        feature_keys = {key: "bytes" for key in self.image_keys + self.label_keys}
        return {"format_version": FORMAT_VERSION, **fields, "feature_keys": feature_keys, "examples": self.examples}

    @classmethod
    def from_json(cls, data: dict) -> "ShardInfo":
        """Reads a sidecar written by `to_json`."""
        names = [field.name for field in dataclasses.fields(cls)]
        missing = [name for name in names if name not in data and name != "skipped"]
        if missing:
            raise ValueError(f"TFRecord sidecar lacks the field(s) {missing}. Received keys: {sorted(data)}")
        values = {name: data[name] for name in names if name in data}
        return cls(**{**values, **{key: tuple(values[key]) for key in ("image_keys", "label_keys", "mask_keys", "shards")}})


def _example(images: dict[str, bytes], labels: dict[str, str]) -> bytes:
    def feature(value: bytes) -> tf.train.Feature:
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))

    features = {key: feature(value) for key, value in images.items()}
    features.update((key, feature(value.encode("utf-8"))) for key, value in labels.items())
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString(deterministic=True)


def _file_records(table, workers: int = 4, chunk: int = 64) -> Iterator[Record]:
    """The original file bytes of each table row (read ahead in threads, in order)."""
    rows = iter(table.records())
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while batch := list(itertools.islice(rows, chunk)):
            contents = pool.map(lambda row: {key: Path(path).read_bytes() for key, path in row[0].items()}, batch)
            yield from zip(contents, (labels for _, labels in batch))


def _element_keys(dataset: tf.data.Dataset) -> tuple[list[str], list[str]]:
    """Splits an unbatched dict dataset's keys into image keys and string label keys."""
    spec = dataset.element_spec
    if not isinstance(spec, dict):
        raise ValueError(f"write_tfrecords needs a dataset of dicts. Received: element_spec={spec}")
    images = [key for key, value in spec.items() if value.dtype.is_floating and value.shape.rank == 3]
    labels = [key for key, value in spec.items() if value.dtype == tf.string and value.shape.rank == 0]
    other = {key: value for key, value in spec.items() if key not in images + labels}
    if other or not images:
        raise ValueError(
            "write_tfrecords needs unbatched dicts of float [H, W, C] images in [-1, 1] and string scalar labels. "
            f"Received: element_spec={spec}"
        )
    return images, labels


def _encoded_records(dataset: tf.data.Dataset, image_format: str) -> Iterator[Record]:
    """The records of an unbatched element dataset, its images encoded by graph ops (checked up front)."""
    image_keys, label_keys = _element_keys(dataset)

    def _encode(example):
        encoded = {}
        for key in image_keys:
            image = to_uint8(example[key])
            jpeg = image_format == "jpeg" and key not in MASK_KEYS
            encoded[key] = tf.io.encode_jpeg(image, quality=95) if jpeg else tf.io.encode_png(image)
        return encoded, {key: example[key] for key in label_keys}

    encoded = dataset.map(_encode, num_parallel_calls=AUTOTUNE, deterministic=True).as_numpy_iterator()
    return ((images, {key: value.decode("utf-8") for key, value in labels.items()}) for images, labels in encoded)


def _table_elements(table, options: PipelineOptions) -> tf.data.Dataset:
    """A table's unbatched elements, with pairs joined back side by side as ``ab``."""
    if table.kind == "pairs":
        return pair_elements(table, options).map(lambda pair: {"ab": tf.concat([pair[key] for key in PAIR_KEYS], axis=1)})
    if table.kind == "triplets":
        return triplet_elements(table, options)
    return table_elements(table, options)


def _records(source, options: PipelineOptions | None, image_format: str) -> tuple[Iterator[Record], str, str, int | None]:
    """The records of a table or dataset, with its kind, image encoding and size (None: unknown)."""
    if isinstance(source, tf.data.Dataset):
        size = int(source.cardinality())
        return _encoded_records(source, image_format), "elements", image_format, size if size >= 0 else None
    if not hasattr(source, "records"):
        raise TypeError(f"write_tfrecords takes an image, pair or triplet table or a tf.data.Dataset. Received: {type(source).__name__}")
    if options is None:
        return _file_records(source), source.kind, "original", len(source)
    options = options.replace(seed=0 if options.seed is None else options.seed)  # deterministic order
    return _encoded_records(_table_elements(source, options), image_format), source.kind, image_format, len(source)


def _prepare_destination(dst: Path, overwrite: bool) -> None:
    existing = sorted(dst.glob(SHARD_GLOB)) + ([dst / SIDECAR] if (dst / SIDECAR).exists() else [])
    if existing and not overwrite:
        raise FileExistsError(
            f"{str(dst)!r} already holds TFRecord shards ({len(existing)} file(s), e.g. {existing[0].name!r}); "
            "pass overwrite=True to replace them."
        )
    for path in existing:
        path.unlink()
    dst.mkdir(parents=True, exist_ok=True)


def write_tfrecords(
    source,
    dst: str | os.PathLike,
    shards: int = 1,
    options: PipelineOptions | None = None,
    image_format: str = "png",
    overwrite: bool = False,
    progress: Callable[[Iterable, int | None], Iterable] | None = None,
) -> ShardInfo:
    """Writes `source` as ``dst/data-0000i-of-0000n.tfrecord`` plus ``dst/dataset.json``.

    The output is deterministic: the same source gives the same bytes.

    Args:
        source: an `ImageTable`, `PairTable` or `TripletTable` (their files'
            bytes are stored as they are), or an unbatched dataset of dicts with
            float ``[H, W, C]`` images in ``[-1, 1]`` and string labels (encoded).
        dst: the output folder.
        shards: number of shard files (some are empty when there are fewer examples).
        options: with a table, decode and fit its images with these options
            (e.g. a smaller `image_size`) and store the result re-encoded.
        image_format: "png" or "jpeg" for re-encoded images (masks are always PNG).
        overwrite: replace shards and sidecar already in `dst`.
        progress: wraps the record iterable, ``progress(records, total)``, e.g. a tqdm bar.

    Returns:
        The sidecar written.
    """
    if not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards must be a positive int. Received: shards={shards!r}")
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}. Received: image_format={image_format!r}")
    records, kind, encoding, total = _records(source, options, image_format)
    if progress is not None:
        records = progress(records, total)

    dst = Path(dst)
    _prepare_destination(dst, overwrite)
    names = [SHARD_NAME.format(index=index, count=shards) for index in range(shards)]
    counts = [0] * shards
    vocabularies = collections.defaultdict(set)
    keys = None
    with contextlib.ExitStack() as stack:
        writers = [stack.enter_context(tf.io.TFRecordWriter(str(dst / name))) for name in names]
        for index, (images, labels) in enumerate(records):
            keys = keys or (tuple(images), tuple(labels))
            writers[index % shards].write(_example(images, labels))
            counts[index % shards] += 1
            for key, value in labels.items():
                vocabularies[key].add(value)
    image_keys, label_keys = keys or (tuple(getattr(source, "image_keys", ())), ())
    info = ShardInfo(
        kind=kind,
        image_keys=image_keys,
        label_keys=label_keys,
        mask_keys=tuple(key for key in MASK_KEYS if key in image_keys),
        vocabularies={key: sorted(vocabularies[key] - {""}) for key in label_keys},
        shards=tuple({"file": name, "examples": count} for name, count in zip(names, counts)),
        encoding=encoding,
        skipped=source.report.count if hasattr(source, "report") else 0,
    )
    (dst / SIDECAR).write_text(json.dumps(info.to_json(), indent=2, sort_keys=True) + "\n")
    return info


def read_info(source: str | os.PathLike) -> tuple[ShardInfo, list[str]]:
    """The sidecar and the shard files of a shard folder or glob pattern.

    Args:
        source: a folder written by `write_tfrecords` (its sidecar lists the
            shards) or a glob pattern of shards (the sidecar sits beside them).
    """
    source = str(source)
    if tf.io.gfile.isdir(source):
        folder, files = source, None
    else:
        files = sorted(tf.io.gfile.glob(source))
        if not files:
            raise FileNotFoundError(f"No TFRecord shard matches {source!r} (neither a folder nor a matching glob pattern).")
        folder = os.path.dirname(files[0])
    sidecar = os.path.join(folder, SIDECAR)
    if not tf.io.gfile.exists(sidecar):
        raise FileNotFoundError(f"TFRecord sidecar {sidecar!r} not found; shards need the {SIDECAR} written with them. Received: {source!r}")
    with tf.io.gfile.GFile(sidecar) as handle:
        info = ShardInfo.from_json(json.load(handle))
    if files is None:
        files = [os.path.join(folder, shard["file"]) for shard in info.shards]
    return info, files


def _serialized(info: ShardInfo, files: list[str], options: PipelineOptions, direction: str) -> tuple[tf.data.Dataset, Callable]:
    """The serialized examples of the shards (interleaved) and the graph function parsing and decoding one.

    Args:
        info: the shards' description (image, mask and label keys; the kind).
        files: the shard files.
        options: decoding and fitting options (`shuffle` shuffles the shard order).
        direction: for pairs, "AtoB" or "BtoA".
    """
    if not info.examples:
        raise EmptySelectionError(f"The TFRecord shards {files[:3]} hold no example.")
    features = {key: tf.io.FixedLenFeature([], tf.string) for key in info.image_keys}
    features.update({key: tf.io.FixedLenFeature([], tf.string, default_value="") for key in info.label_keys})
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if options.shuffle:
        dataset = dataset.shuffle(len(files), seed=options.seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(len(files), MAX_OPEN_SHARDS),
        block_length=1,
        num_parallel_calls=AUTOTUNE,
        deterministic=options.seed is not None,
    )

    def _decode(record):
        example = tf.io.parse_single_example(record, features)
        encoded = {key: example.pop(key) for key in info.image_keys}
        if info.kind == "pairs":
            return {**decode_pair(encoded["ab"], options, direction), **example}
        return {**decode_images(encoded, options, info.mask_keys), **example}

    return dataset, _decode


def tfrecord_records(source: str | os.PathLike, options: PipelineOptions, direction: str = "AtoB") -> tuple[tf.data.Dataset, Callable]:
    """The serialized examples of shards (not shuffled within shards) and the graph function decoding one.

    Decoded, an example is an element of `tfrecord_elements`.

    Args:
        source: a shard folder or glob pattern.
        options: decoding and fitting options (`shuffle` shuffles the shard order).
        direction: for pairs, "AtoB" or "BtoA".
    """
    info, files = read_info(source)
    return _serialized(info, files, options, direction)


def tfrecord_elements(source: str | os.PathLike, options: PipelineOptions, direction: str = "AtoB") -> tf.data.Dataset:
    """Unbatched elements of shards, in the source pipelines' format (not shuffled within shards).

    Args:
        source: a shard folder or glob pattern.
        options: decoding and fitting options (`shuffle` shuffles the shard order).
        direction: for pairs, "AtoB" or "BtoA".
    """
    return map_decoded(*tfrecord_records(source, options, direction), options)


def tfrecord_dataset(source: str | os.PathLike, options: PipelineOptions, direction: str = "AtoB") -> tf.data.Dataset:
    """Batches read from shards: the same dicts as the pipeline of the source written.

    Shards are read in parallel (interleaved), decoded with AUTOTUNE and go
    through `batch_pipeline` (shuffle, augmentation of all image keys together,
    batching, prefetch).

    Args:
        source: a shard folder or glob pattern.
        options: the pipeline options.
        direction: for pairs, "AtoB" or "BtoA".
    """
    info, files = read_info(source)
    elements = map_decoded(*_serialized(info, files, options, direction), options)
    return batch_pipeline(elements, options, info.element_image_keys, num_examples=info.examples)
