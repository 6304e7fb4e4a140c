"""The tf.data building blocks every source shares.

Pipelines yield dicts. Images are ``float32`` in ``[-1, 1]`` (``tanh`` range),
shape ``[H, W, C]``; labels are string scalars (``"red"``, ``"ankle_boot"``),
as they travel to the served models. Batches are dicts of the same keys.
"""

from __future__ import annotations

import dataclasses
import logging
import numbers
from typing import Any, Callable, Literal, Sequence

import tensorflow as tf

from shoes_generator.data.names import FIT_MODES  # noqa: F401  (TensorFlow-free; named here too)

AUTOTUNE = tf.data.AUTOTUNE
logger = logging.getLogger("shoes_generator.data")


@dataclasses.dataclass(frozen=True)
class PipelineOptions:
    """How a source becomes batches.

    Attributes:
        image_size: side of the square output images, in pixels.
        channels: 3 (RGB) or 1 (grayscale).
        fit: "pad" keeps the aspect ratio and pads with `pad_value` (white for
            product photos), "resize" stretches, "crop" centre-crops.
        pad_value: fill of the padding in ``[-1, 1]`` (1.0 is white).
        batch_size: examples per batch; the last partial batch is dropped
            unless `drop_remainder` is False.
        drop_remainder: drop the last partial batch (fixed batch shapes).
        shuffle: shuffle the examples (deterministic for a given `seed`).
        shuffle_buffer: size of the shuffle buffer.
        cache: False, True (in memory) or a file path prefix for ``Dataset.cache``.
        repeat: repeat forever.
        seed: seed of shuffling and augmentation; None for nondeterministic.
        flip: random horizontal flips.
        jitter: pix2pix jitter: resize to ``image_size * 286 / 256`` then
            random-crop back to `image_size`.
        num_parallel_calls: parallelism of decoding and augmentation.
    """

    image_size: int = 64
    channels: int = 3
    fit: Literal["pad", "resize", "crop"] = "pad"
    pad_value: float = 1.0
    batch_size: int = 64
    drop_remainder: bool = True
    shuffle: bool = True
    shuffle_buffer: int = 10_000
    cache: bool | str = False
    repeat: bool = False
    seed: int | None = 0
    flip: bool = False
    jitter: bool = False
    num_parallel_calls: int = AUTOTUNE

    def __post_init__(self):
        if not isinstance(self.image_size, int) or self.image_size < 4:
            raise ValueError(f"image_size must be an int >= 4. Received: image_size={self.image_size!r}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3. Received: channels={self.channels!r}")
        if self.fit not in FIT_MODES:
            raise ValueError(f"fit must be one of {FIT_MODES}. Received: fit={self.fit!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int. Received: batch_size={self.batch_size!r}")
        if not -1.0 <= self.pad_value <= 1.0:
            raise ValueError(f"pad_value must lie in [-1, 1]. Received: pad_value={self.pad_value!r}")

    def replace(self, **changes) -> "PipelineOptions":
        """A copy with `changes` applied."""
        return dataclasses.replace(self, **changes)


def decode_image(data: tf.Tensor, channels: int = 3) -> tf.Tensor:
    """Decodes PNG/JPEG bytes (graph op) to ``uint8`` ``[H, W, channels]``.

    Transparent pixels are composited onto white, the background of product
    photos (dropping the alpha channel would leave whatever colour they hold).
    """
    image = tf.io.decode_image(data, expand_animations=False)
    native = tf.shape(image)[-1]
    rgba = tf.switch_case(
        tf.clip_by_value(native, 1, 4) - 1,
        [
            lambda: tf.concat([tf.repeat(image[..., :1], 3, axis=-1), tf.fill(tf.shape(image[..., :1]), tf.constant(255, image.dtype))], -1),
            lambda: tf.concat([tf.repeat(image[..., :1], 3, axis=-1), image[..., 1:2]], -1),
            lambda: tf.concat([image[..., :3], tf.fill(tf.shape(image[..., :1]), tf.constant(255, image.dtype))], -1),
            lambda: image[..., :4],
        ],
    )
    alpha = tf.cast(rgba[..., 3:], tf.float32) / 255.0
    rgb = tf.cast(rgba[..., :3], tf.float32) * alpha + 255.0 * (1.0 - alpha)
    if channels == 1:
        rgb = tf.image.rgb_to_grayscale(rgb)
    image = tf.cast(tf.round(tf.clip_by_value(rgb, 0.0, 255.0)), tf.uint8)
    image.set_shape([None, None, channels])
    return image


def shuffle_buffer(options: "PipelineOptions", bytes_budget: float = 1.5e9) -> int:
    """`options.shuffle_buffer`, capped so the buffer of decoded float images stays under `bytes_budget`."""
    per_image = options.image_size * options.image_size * options.channels * 4
    return max(64, min(options.shuffle_buffer, int(bytes_budget // per_image)))


def to_float(image: tf.Tensor) -> tf.Tensor:
    """``uint8`` ``[0, 255]`` -> ``float32`` ``[-1, 1]``."""
    return tf.cast(image, tf.float32) / 127.5 - 1.0


def to_uint8(image: tf.Tensor) -> tf.Tensor:
    """``float`` ``[-1, 1]`` -> ``uint8`` ``[0, 255]`` (rounded and clipped)."""
    image = tf.clip_by_value((tf.cast(image, tf.float32) + 1.0) * 127.5, 0.0, 255.0)
    return tf.cast(tf.round(image), tf.uint8)


def _pad_geometry(shape: tf.Tensor, size: int) -> tuple[tf.Tensor, list]:
    """The resized ``[height, width]`` and the paddings that fit an image of `shape` into ``size x size``, aspect kept.

    Sides are computed here: resize(preserve_aspect_ratio=True) rounds a very
    thin side (1x300) down to 0 and fails.
    """
    scale = size / tf.cast(tf.maximum(shape[0], shape[1]), tf.float64)

    def _side(length):
        return tf.clip_by_value(tf.cast(tf.round(tf.cast(length, tf.float64) * scale), tf.int32), 1, size)

    height, width = _side(shape[0]), _side(shape[1])
    dh, dw = size - height, size - width
    return tf.stack([height, width]), [[dh // 2, dh - dh // 2], [dw // 2, dw - dw // 2], [0, 0]]


def fit_label(label: tf.Tensor, size: int) -> tf.Tensor:
    """Brings a class map ``[H, W, 1]`` to ``[size, size, 1]`` exactly as `fit_image`'s "pad" moves its image:
    nearest-neighbour resizing (no invented classes), padded with 0 (background)."""
    sides, paddings = _pad_geometry(tf.shape(label), size)
    return tf.ensure_shape(tf.pad(tf.image.resize(label, sides, method="nearest"), paddings), [size, size, 1])


def fit_image(image: tf.Tensor, size: int, fit: str = "pad", pad_value: float = 1.0) -> tf.Tensor:
    """Brings a ``float32`` ``[H, W, C]`` image to ``[size, size, C]``.

    Args:
        image: the image in ``[-1, 1]``.
        size: output side.
        fit: "pad" (keep aspect ratio, pad), "resize" (stretch) or "crop" (centre crop).
        pad_value: padding fill in ``[-1, 1]``.
    """
    if fit == "resize":
        out = tf.image.resize(image, [size, size], method="area", antialias=True)
    elif fit == "crop":
        shape = tf.shape(image)
        side = tf.minimum(shape[0], shape[1])
        top, left = (shape[0] - side) // 2, (shape[1] - side) // 2
        out = tf.image.resize(image[top : top + side, left : left + side], [size, size], antialias=True)
    elif fit == "pad":
        sides, paddings = _pad_geometry(tf.shape(image), size)
        out = tf.image.resize(image, sides, antialias=True)
        out = tf.pad(out - pad_value, paddings) + pad_value
    else:
        raise ValueError(f"fit must be one of {FIT_MODES}. Received: fit={fit!r}")
    return tf.ensure_shape(tf.clip_by_value(out, -1.0, 1.0), [size, size, image.shape[-1]])


def augment_together(images: Sequence[tf.Tensor], seed: tf.Tensor, options: PipelineOptions) -> list[tf.Tensor]:
    """Applies the same random jitter and flip to aligned images (input, mask, target).

    Stateless ops only, so the result depends on `seed` alone and the ops are
    XLA-safe.

    Args:
        images: ``[S, S, C_i]`` tensors of the same spatial size.
        seed: int32/int64 ``[2]`` stateless seed.
        options: which augmentations to apply and the output size.
    """
    channels = [int(image.shape[-1]) for image in images]
    stacked = tf.concat(list(images), axis=-1)
    size = options.image_size
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
    if options.jitter:
        load = int(round(size * 286 / 256))
        stacked = tf.image.resize(stacked, [load, load], method="nearest")
        stacked = tf.image.stateless_random_crop(stacked, [size, size, sum(channels)], seed=seeds[0])
    if options.flip:
        stacked = tf.image.stateless_random_flip_left_right(stacked, seed=seeds[1])
    return tf.split(stacked, channels, axis=-1)


def batch_pipeline(
    dataset: tf.data.Dataset,
    options: PipelineOptions,
    image_keys: Sequence[str] = ("image",),
    num_examples: int | None = None,
) -> tf.data.Dataset:
    """Cache, shuffle, repeat, augment, batch and prefetch a dataset of dicts.

    Args:
        dataset: unbatched dicts whose `image_keys` hold fitted ``[S, S, C]`` images.
        options: the pipeline options.
        image_keys: keys augmented together (same crop and flip).
        num_examples: dataset size, used to cap the shuffle buffer.
    """
    if options.cache:
        dataset = dataset.cache("" if options.cache is True else str(options.cache))
    if options.shuffle:
        buffer = shuffle_buffer(options) if num_examples is None else max(1, min(shuffle_buffer(options), num_examples))
        dataset = dataset.shuffle(buffer, seed=options.seed, reshuffle_each_iteration=True)
    if options.repeat:
        dataset = dataset.repeat()
    dataset = augment_dataset(dataset, options, image_keys)
    dataset = dataset.batch(options.batch_size, drop_remainder=options.drop_remainder)
    return dataset.prefetch(AUTOTUNE)


def augment_dataset(dataset: tf.data.Dataset, options: PipelineOptions, image_keys: Sequence[str] = ("image",)) -> tf.data.Dataset:
    """Jitters and flips the `image_keys` of each example together (no-op when both are off).

    The n-th example gets the stateless seed ``[options.seed, n]``.

    Args:
        dataset: unbatched dicts whose `image_keys` hold fitted ``[S, S, C]`` images.
        options: the pipeline options (`flip`, `jitter`, `seed`, `num_parallel_calls`).
        image_keys: keys augmented together (same crop and flip).
    """
    if not (options.flip or options.jitter):
        return dataset
    base_seed = 0 if options.seed is None else options.seed
    counter = tf.data.Dataset.counter()
    if options.seed is None:
        counter = tf.data.Dataset.random().map(lambda x: tf.math.abs(x))

    def _augment(index, example):
        example = dict(example)
        seed = tf.stack([tf.constant(base_seed, tf.int64), tf.cast(index, tf.int64)])
        outputs = augment_together([example[key] for key in image_keys], seed, options)
        example.update(zip(image_keys, outputs))
        return example

    return tf.data.Dataset.zip(counter, dataset).map(
        _augment, num_parallel_calls=options.num_parallel_calls, deterministic=options.seed is not None
    )


def epoch_stream(
    elements: tf.data.Dataset,
    options: PipelineOptions,
    start_step: int = 0,
    image_keys: Sequence[str] = ("image",),
    rows: tuple[int, int] | None = None,
    decode: Callable[[Any], dict] | None = None,
) -> tf.data.Dataset:
    """Endless batches, epoch after epoch, starting at global step `start_step`.

    Every call builds new dataset ops, so the stream depends only on
    `options.seed` and the position in it, not on how often some dataset object
    was iterated before: ``epoch_stream(e, o, k)`` yields exactly what
    ``epoch_stream(e, o, 0).skip(k)`` yields, so a new process started at step
    N sees the batches an uninterrupted run saw from step N on.

    Each pass is shuffled (``reshuffle_each_iteration``: a new order every
    epoch) and batched with ``drop_remainder`` before the repeat, so batches
    never straddle two epochs. Augmentation runs per batch after the repeat:
    image ``j`` of global batch ``i`` gets the stateless seed
    ``[options.seed, i * batch_size + j]``, so flips and crops change from
    epoch to epoch. Skipped batches are shuffled but not augmented.

    With `rows` (a worker's share), rows ``[first, first + count)`` of every
    global batch are kept right after batching, before decoding and
    augmentation; a kept row keeps its seed (``j`` is its row in the global
    batch), so the workers' rows together are the one-process batch. With
    `decode`, `elements` are undecoded records (file paths, serialized
    examples): shuffling does not look at values, so they are shuffled and
    batched as the decoded elements would be, and only the kept rows are
    decoded (see `_row_decoder`). With ``options.cache`` they are decoded
    first instead, once, and cached.

    Args:
        elements: unbatched, fitted dicts (one epoch, in a fixed order); the
            undecoded records when `decode` is given.
        options: batch size, shuffling, caching, augmentation and `seed`
            (required: a deterministic stream needs one).
        start_step: batches already consumed (they are produced and dropped).
        image_keys: keys augmented together (same crop and flip).
        rows: ``(first, count)``, the rows of every global batch to yield;
            None for all of them.
        decode: graph function of one record -> its fitted dict; None when
            `elements` are decoded already.
    """
    if options.seed is None:
        raise ValueError("epoch_stream needs options.seed to be an int. Received: seed=None")
    if isinstance(start_step, bool) or not isinstance(start_step, numbers.Integral) or start_step < 0:
        raise ValueError(f"start_step must be a non-negative int. Received: start_step={start_step!r}")
    first, count = batch_rows(rows, options.batch_size)
    dataset = elements
    if decode is not None and options.cache:
        dataset, decode = map_decoded(dataset, decode, options), None
    if options.cache:
        dataset = dataset.cache("" if options.cache is True else str(options.cache))
    if options.shuffle:
        dataset = dataset.shuffle(shuffle_buffer(options), seed=options.seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(options.batch_size, drop_remainder=True).repeat()
    dataset = dataset.enumerate().skip(start_step)
    if decode is not None:
        dataset = dataset.map(_row_decoder(decode, first, count, options), num_parallel_calls=options.num_parallel_calls, deterministic=True)
    elif count < options.batch_size:
        dataset = dataset.map(lambda index, batch: (index, tf.nest.map_structure(lambda rows: rows[first : first + count], batch)))
    if options.flip or options.jitter:
        dataset = dataset.map(
            _batch_augmenter(options, image_keys, first, count), num_parallel_calls=options.num_parallel_calls, deterministic=True
        )
    else:
        dataset = dataset.map(lambda index, batch: batch)
    return dataset.prefetch(AUTOTUNE)


def batch_rows(rows: tuple[int, int] | None, batch_size: int) -> tuple[int, int]:
    """`rows` as ``(first, count)`` checked to lie inside a batch of `batch_size`; all rows when None.

    Args:
        rows: ``(first, count)`` or None.
        batch_size: rows of a global batch.
    """
    if rows is None:
        return 0, batch_size
    first, count = (int(value) for value in rows)
    if first < 0 or count < 1 or first + count > batch_size:
        raise ValueError(f"rows must be (first, count) inside a batch of {batch_size}. Received: rows={rows!r}")
    return first, count


def _row_decoder(decode: Callable[[Any], dict], first: int, count: int, options: PipelineOptions):
    """``(i, records of global batch i) -> (i, rows [first, first + count) decoded)``, always `count` rows.

    The kept rows are decoded in parallel; a row that fails (a file that became
    unreadable after the listing) is dropped with TensorFlow's warning and its
    place taken by one of the global batch's other rows (decoded only then, one
    by one, the rows after the kept ones first), with a warning naming the
    count, so every replica's batch stays full and the other rows keep their
    place (and augmentation seed). A global batch with fewer than `count`
    decodable rows stops the stream with an error.

    Args:
        decode: graph function of one record -> its fitted dict.
        first: the first kept row of every global batch.
        count: the kept rows.
        options: `num_parallel_calls` and `batch_size`.
    """
    batch_size = options.batch_size
    spare_rows = [*range(first + count, batch_size), *range(first + count)]

    def _decoded(records, rows, slots, parallel):
        """The `rows` of `records` decoded with their slot in the output (-1: a spare); failures dropped."""
        picked = tf.nest.map_structure(lambda column: tf.gather(column, rows), records)
        return tf.data.Dataset.from_tensor_slices((picked, slots)).map(
            lambda record, slot: (decode(record), slot), num_parallel_calls=parallel, deterministic=None if parallel is None else True
        ).ignore_errors(log_warning=True)

    def _decode(index, records):
        kept = _decoded(records, list(range(first, first + count)), list(range(count)), options.num_parallel_calls)
        spares = _decoded(records, spare_rows, [-1] * len(spare_rows), None)
        batch, slots = kept.concatenate(spares).take(count).batch(count).get_single_element()
        slots = tf.ensure_shape(slots, [count])
        free = tf.cast(tf.where(tf.reduce_all(tf.not_equal(tf.range(count)[:, None], slots[None, :]), axis=1))[:, 0], tf.int32)
        order = tf.argsort(tf.concat([slots[: count - tf.size(free)], free], axis=0))  # Spares take the free slots.
        # A py_function for the Python log: this runs in the training input pipeline only, never in an export
        # (every family's export is checked free of PyFunc ops, which TF Serving cannot run).
        warned = tf.cond(
            tf.size(free) > 0, lambda: tf.py_function(_warn_filled, [index, tf.size(free), count], tf.int32), lambda: tf.constant(0)
        )
        with tf.control_dependencies([warned]):
            # Static `count` rows again (the argsort leaves the size unknown): the step traces fixed batch shapes.
            return index, tf.nest.map_structure(lambda rows: tf.ensure_shape(tf.gather(rows, order), [count, *rows.shape[1:]]), batch)

    return _decode


def _warn_filled(index: tf.Tensor, missing: tf.Tensor, count: int) -> int:
    """Logs that `missing` of the `count` rows of global batch `index` failed to decode (py_function body).

    Args:
        index: the global batch's index.
        missing: the rows that failed.
        count: the rows this worker decodes per batch.
    """
    logger.warning(
        "%d of the %d row(s) of global batch %d failed to decode; filled with other rows of the batch.",
        int(missing), int(count), int(index),
    )
    return 0


def _batch_augmenter(options: PipelineOptions, image_keys: Sequence[str], first: int = 0, count: int | None = None):
    """``(batch index i, batch) -> batch`` with image ``j`` augmented by seed ``[options.seed, i * batch_size + j]``.

    Args:
        options: `flip`, `jitter`, `seed` and the (static) `batch_size`.
        image_keys: keys augmented together (same crop and flip).
        first: the global row ``j`` of the batch's first row (a worker's share starts there).
        count: rows of the batch; `batch_size` when None.
    """
    batch_size = options.batch_size
    count = batch_size if count is None else count

    def _augment(index, batch):
        batch = dict(batch)
        positions = tf.cast(index, tf.int64) * batch_size + first + tf.range(count, dtype=tf.int64)
        seeds = tf.stack([tf.fill([count], tf.constant(options.seed, tf.int64)), positions], axis=1)
        images = [batch[key] for key in image_keys]
        signature = [tf.TensorSpec(image.shape[1:], image.dtype) for image in images]
        outputs = tf.map_fn(
            lambda args: augment_together(list(args[1]), args[0], options),
            (seeds, images),
            fn_output_signature=signature,
        )
        batch.update(zip(image_keys, outputs))
        return batch

    return _augment


def decode_fitted(data: tf.Tensor, options: PipelineOptions, channels: int | None = None, pad_value: float | None = None) -> tf.Tensor:
    """Encoded PNG/JPEG bytes (graph op) -> fitted ``float32`` ``[S, S, C]`` in ``[-1, 1]``.

    Args:
        data: the encoded image, a string scalar.
        options: output size, fit mode and (default) channels and padding.
        channels: overrides ``options.channels`` (1 for masks).
        pad_value: overrides ``options.pad_value`` (-1 for masks).
    """
    image = to_float(decode_image(data, channels or options.channels))
    pad = options.pad_value if pad_value is None else pad_value
    return fit_image(image, options.image_size, options.fit, pad)


def load_image_file(path: tf.Tensor, options: PipelineOptions) -> tf.Tensor:
    """Reads, decodes and fits one image file (graph op) to ``float32`` ``[S, S, C]``."""
    return decode_fitted(tf.io.read_file(path), options)


def map_decoded(dataset: tf.data.Dataset, decode, options: PipelineOptions) -> tf.data.Dataset:
    """Maps `decode` in parallel and drops (with a logged warning) the examples it fails on.

    The listing screens most bad files; this is the safety net for the rest
    (a truncated JPEG whose header reads fine), so an epoch never stops midway.

    Args:
        dataset: the undecoded examples.
        decode: graph function of one example.
        options: `num_parallel_calls` and `seed` (deterministic order when set).
    """
    dataset = dataset.map(decode, num_parallel_calls=options.num_parallel_calls, deterministic=options.seed is not None)
    return dataset.ignore_errors(log_warning=True)


def file_records(
    paths: Sequence[str],
    labels: dict[str, Sequence[str]] | None,
    options: PipelineOptions,
) -> tuple[tf.data.Dataset, Callable[[dict], dict]]:
    """Undecoded ``{"path", **labels}`` records of image files and the graph function that decodes one.

    Args:
        paths: image files.
        labels: string label columns aligned with `paths`.
        options: decoding and fitting options.

    Returns:
        The records, in order, and ``record -> {"image", **labels}``.
    """
    columns = {"path": list(map(str, paths))}
    for name, values in (labels or {}).items():
        if len(values) != len(paths):
            raise ValueError(f"Label column {name!r} has {len(values)} values for {len(paths)} files.")
        columns[name] = [str(value) for value in values]

    def _load(example):
        example = dict(example)
        example["image"] = load_image_file(example.pop("path"), options)
        return example

    return tf.data.Dataset.from_tensor_slices(columns), _load


def file_dataset(
    paths: Sequence[str],
    labels: dict[str, Sequence[str]] | None,
    options: PipelineOptions,
) -> tf.data.Dataset:
    """Unbatched dicts ``{"image", **labels}`` from image files, decoded in parallel.

    Files that still fail to decode (the listing screens most bad files) are
    dropped with a logged warning instead of stopping the epoch.

    Args:
        paths: image files.
        labels: string label columns aligned with `paths`.
        options: decoding and fitting options.
    """
    return map_decoded(*file_records(paths, labels, options), options)
