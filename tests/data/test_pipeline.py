"""The shared pipeline blocks: decoding, fitting, joint augmentation, batching, epoch streams, options."""

import io

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.data.pipeline import (
    PipelineOptions,
    augment_dataset,
    augment_together,
    batch_pipeline,
    decode_image,
    epoch_stream,
    file_dataset,
    fit_image,
    to_float,
    to_uint8,
)


def _ramp(height, width):
    """A float image in [-1, 1] whose value grows with the column (tells left from right)."""
    row = np.linspace(-1.0, 1.0, width, dtype=np.float32)
    return tf.constant(np.repeat(np.tile(row, (height, 1))[..., None], 3, axis=-1))


def _numbers(count, size=8):
    """Unbatched dicts whose image is filled with the example's index (and an asymmetric ramp)."""
    images = np.stack([np.full((size, size, 3), i / count, np.float32) for i in range(count)])
    images[:, :, : size // 2] -= 0.5
    return tf.data.Dataset.from_tensor_slices({"image": images, "id": [str(i) for i in range(count)]})


@pytest.mark.parametrize("fit", ["pad", "resize", "crop"])
def test_fit_modes_give_square_images(fit):
    out = fit_image(_ramp(10, 30), 16, fit)
    assert out.shape == (16, 16, 3)
    assert float(tf.reduce_min(out)) >= -1.0 and float(tf.reduce_max(out)) <= 1.0


def test_pad_keeps_aspect_ratio_with_white_borders():
    black = -tf.ones([10, 20, 3])
    out = fit_image(black, 16, "pad").numpy()
    # 10x20 -> 8x16 centred: 4 white rows above and below, black in between.
    np.testing.assert_allclose(out[:4], 1.0)
    np.testing.assert_allclose(out[-4:], 1.0)
    np.testing.assert_allclose(out[4:12], -1.0, atol=1e-5)
    grey = fit_image(black, 16, "pad", pad_value=0.0).numpy()
    np.testing.assert_allclose(grey[:4], 0.0)


def test_crop_keeps_the_centre_and_resize_stretches():
    wide = _ramp(10, 30)  # columns go from -1 (left) to 1 (right)
    cropped = fit_image(wide, 10, "crop").numpy()
    stretched = fit_image(wide, 10, "resize").numpy()
    assert cropped[:, 0].mean() > -0.5 and cropped[:, -1].mean() < 0.5  # the outer thirds are gone
    assert stretched[:, 0].mean() < -0.8 and stretched[:, -1].mean() > 0.8


def test_uint8_round_trip():
    values = tf.constant(np.arange(256, dtype=np.uint8).reshape(16, 16, 1))
    np.testing.assert_array_equal(to_uint8(to_float(values)).numpy(), values.numpy())


def test_joint_augmentation_keeps_aligned_images_aligned():
    options = PipelineOptions(image_size=16, flip=True, jitter=True)
    image = _ramp(16, 16)
    mask = image[..., :1]
    flipped = 0
    for index in range(8):
        out_image, out_mask = augment_together([image, mask], tf.constant([0, index]), options)
        assert out_image.shape == (16, 16, 3) and out_mask.shape == (16, 16, 1)
        np.testing.assert_array_equal(out_image.numpy()[..., :1], out_mask.numpy())
        flipped += int(out_image.numpy()[0, 0, 0] > out_image.numpy()[0, -1, 0])
    assert 0 < flipped < 8  # both flipped and unflipped outcomes occur


def test_augment_dataset_is_a_no_op_without_augmentation():
    dataset = _numbers(3)
    assert augment_dataset(dataset, PipelineOptions(flip=False, jitter=False)) is dataset


def _ids(dataset):
    return [b"".join(batch["id"]).decode() for batch in dataset.as_numpy_iterator()]


def test_same_seed_same_batches_other_seed_other_order():
    options = PipelineOptions(image_size=8, batch_size=4, seed=3, flip=True)
    first = list(batch_pipeline(_numbers(16), options).as_numpy_iterator())
    second = list(batch_pipeline(_numbers(16), options).as_numpy_iterator())
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a["image"], b["image"])
        np.testing.assert_array_equal(a["id"], b["id"])
    assert _ids(batch_pipeline(_numbers(16), options.replace(seed=4))) != _ids(batch_pipeline(_numbers(16), options))


def test_drop_remainder():
    options = PipelineOptions(image_size=8, batch_size=2, shuffle=False)
    kept = [batch["image"].shape[0] for batch in batch_pipeline(_numbers(5), options.replace(drop_remainder=False))]
    dropped = [batch["image"].shape[0] for batch in batch_pipeline(_numbers(5), options)]
    assert kept == [2, 2, 1]
    assert dropped == [2, 2]
    assert batch_pipeline(_numbers(5), options).element_spec["image"].shape == (2, 8, 8, 3)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"image_size": 2}, "image_size=2"),
        ({"channels": 2}, "channels=2"),
        ({"fit": "stretch"}, "fit='stretch'"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"pad_value": 2.0}, "pad_value=2.0"),
    ],
)
def test_options_errors_name_what_was_received(changes, message):
    with pytest.raises(ValueError, match=f"Received: {message}"):
        PipelineOptions(**changes)
    with pytest.raises(ValueError, match="Received"):
        PipelineOptions().replace(**changes)


@pytest.mark.parametrize("shape", [(1, 300), (300, 1)])
def test_pad_fits_very_elongated_images(shape):
    out = fit_image(-tf.ones([*shape, 3]), 16, "pad").numpy()
    assert out.shape == (16, 16, 3)
    dark = out[..., 0] < 0.0
    # One centred line of 16 dark pixels (the 1 px side stays 1 px), white elsewhere.
    assert dark.sum() == 16
    line = dark[7] if shape[0] == 1 else dark[:, 7]
    assert line.all()
    np.testing.assert_allclose(out[~dark], 1.0)


def test_file_dataset_keeps_very_elongated_files(tmp_path):
    from PIL import Image

    paths = []
    for name, size in (("wide.png", (300, 1)), ("tall.png", (1, 300))):
        Image.new("RGB", size, (0, 0, 0)).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    images = [example["image"] for example in file_dataset(paths, None, PipelineOptions(image_size=16)).as_numpy_iterator()]
    assert len(images) == 2  # none silently dropped by ignore_errors
    assert all(image.shape == (16, 16, 3) and (image < 0).sum() == 16 * 3 for image in images)


# --- epoch_stream -------------------------------------------------------------------------------

STREAM = PipelineOptions(image_size=8, batch_size=4, seed=5, shuffle=True, flip=True)


def _stream(start_step=0, count=10, options=STREAM):
    """`count` batches of a fresh `epoch_stream` over 10 numbered examples (2 full batches per epoch)."""
    return list(epoch_stream(_numbers(10), options, start_step).take(count).as_numpy_iterator())


def _flipped(batch):
    """Per image: whether its darker half is on the right (`_numbers` puts it on the left)."""
    return [bool(image[0, 0, 0] > image[0, -1, 0]) for image in batch["image"]]


def _epoch_ids(batches):
    """The ids of the batches grouped per epoch (2 batches each)."""
    ids = [[int(i) for i in batch["id"]] for batch in batches]
    return [ids[e] + ids[e + 1] for e in range(0, len(ids), 2)]


@pytest.mark.parametrize("start_step", [1, 3, 6])
def test_epoch_stream_resumes_exactly_where_an_uninterrupted_stream_is(start_step):
    uninterrupted = _stream(0, start_step + 4)[start_step:]
    resumed = _stream(start_step, 4)
    assert len(resumed) == len(uninterrupted) == 4
    for a, b in zip(resumed, uninterrupted, strict=True):
        np.testing.assert_array_equal(a["id"], b["id"])
        np.testing.assert_array_equal(a["image"], b["image"])
    # Built from the same pipeline object too (the skip is part of the stream).
    skipped = list(epoch_stream(_numbers(10), STREAM, 0).skip(start_step).take(4).as_numpy_iterator())
    for a, b in zip(resumed, skipped, strict=True):
        np.testing.assert_array_equal(a["image"], b["image"])


def test_epoch_stream_batches_stay_inside_one_epoch_and_reshuffle():
    epochs = _epoch_ids(_stream(0, 8))
    assert len(epochs) == 4
    for ids in epochs:
        assert len(set(ids)) == 8 and set(ids) <= set(range(10))  # each example at most once per epoch
    assert len({tuple(ids) for ids in epochs}) > 1  # a new order in later passes


def test_epoch_stream_flip_pattern_changes_between_epochs():
    batches = _stream(0, 8)
    per_epoch = [_flipped(batches[e]) + _flipped(batches[e + 1]) for e in range(0, 8, 2)]
    assert any(0 < sum(flags) < 8 for flags in per_epoch)
    # Old bug: the seed restarted each epoch, so position n was flipped the same way in every epoch.
    assert len({tuple(flags) for flags in per_epoch}) > 1


def test_epoch_stream_seed_of_each_image_is_its_global_position():
    options = STREAM.replace(shuffle=False, jitter=True)
    batches = _stream(0, 4, options)
    images = list(_numbers(10).as_numpy_iterator())
    for step, batch in enumerate(batches):
        for j, (example_id, image) in enumerate(zip(batch["id"], batch["image"], strict=True)):
            source = images[int(example_id)]["image"]
            seed = tf.constant([options.seed, step * options.batch_size + j], tf.int64)
            (expected,) = augment_together([tf.constant(source)], seed, options)
            np.testing.assert_array_equal(image, expected.numpy())


def test_epoch_stream_without_augmentation_and_errors():
    batches = _stream(0, 2, STREAM.replace(shuffle=False, flip=False))
    assert [[int(i) for i in batch["id"]] for batch in batches] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="Received: seed=None"):
        epoch_stream(_numbers(10), STREAM.replace(seed=None))
    with pytest.raises(ValueError, match="Received: start_step=-1"):
        epoch_stream(_numbers(10), STREAM, -1)


# --- decode_image ------------------------------------------------------------------------------


def _encoded(array, mode, fmt="PNG"):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8), mode).save(buffer, fmt)
    return buffer.getvalue()


def _gray(rgb):
    return np.round(np.asarray(rgb, np.float64) @ [0.2989, 0.5870, 0.1140])


def test_decode_image_composites_transparency_onto_white():
    rgba = np.array([[[200, 20, 40, 255], [200, 20, 40, 0], [0, 0, 0, 128], [10, 250, 90, 64]]], np.uint8)
    alpha = rgba[..., 3:] / 255.0
    expected = np.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha))
    out = decode_image(_encoded(rgba, "RGBA"), channels=3).numpy()
    assert out.dtype == np.uint8 and out.shape == (1, 4, 3)
    np.testing.assert_array_equal(out, expected)
    assert tuple(out[0, 1]) == (255, 255, 255)  # a fully transparent red pixel is white, not red
    np.testing.assert_allclose(decode_image(_encoded(rgba, "RGBA"), channels=1).numpy()[..., 0], _gray(expected), atol=1)

    la = np.array([[[0, 255], [0, 0], [100, 128]]], np.uint8)
    alpha = la[..., 1] / 255.0
    gray = np.round(la[..., 0] * alpha + 255.0 * (1.0 - alpha))
    out = decode_image(_encoded(la, "LA"), channels=3).numpy()
    np.testing.assert_array_equal(out, np.repeat(gray[..., None], 3, axis=-1))
    np.testing.assert_allclose(decode_image(_encoded(la, "LA"), channels=1).numpy()[..., 0], gray, atol=1)


def test_decode_image_keeps_opaque_images():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    gray = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    np.testing.assert_array_equal(decode_image(_encoded(rgb, "RGB"), 3).numpy(), rgb)
    np.testing.assert_allclose(decode_image(_encoded(rgb, "RGB"), 1).numpy()[..., 0], _gray(rgb), atol=1)
    np.testing.assert_array_equal(decode_image(_encoded(gray, "L"), 3).numpy(), np.repeat(gray[..., None], 3, -1))
    np.testing.assert_array_equal(decode_image(_encoded(gray, "L"), 1).numpy()[..., 0], gray)
    jpeg = _encoded(rgb, "RGB", "JPEG")
    np.testing.assert_array_equal(decode_image(jpeg, 3).numpy(), tf.io.decode_jpeg(jpeg, channels=3).numpy())
    assert decode_image(jpeg, 1).shape == (6, 5, 1)


# --- epoch_stream: a worker's rows (issue 19) --------------------------------------------------

AUGMENTED = STREAM.replace(jitter=True)


def _numbered_records(count, size=8):
    """`_numbers`' examples as records ``{"index"}`` and the graph function decoding one (indices in `broken` fail)."""
    table = tf.constant(np.stack([example["image"] for example in _numbers(count, size).as_numpy_iterator()]))

    def decode(record, broken=()):
        for index in broken:
            tf.debugging.assert_none_equal(record["index"], tf.constant(index, tf.int64))
        return {"image": tf.gather(table, record["index"]), "id": tf.strings.as_string(record["index"])}

    return tf.data.Dataset.from_tensor_slices({"index": np.arange(count, dtype=np.int64)}), decode


def _rows(rows, start_step=1, count=4, options=AUGMENTED, **lazy):
    """`count` batches of `epoch_stream` over 10 numbered examples holding `rows` (decoded after the cut with `lazy`)."""
    elements = lazy.pop("records", _numbers(10))
    return list(epoch_stream(elements, options, start_step, rows=rows, **lazy).take(count).as_numpy_iterator())


@pytest.mark.parametrize("lazy", [False, True])
def test_the_workers_rows_together_are_the_one_process_batch_augmentation_included(lazy):
    records, decode = _numbered_records(10)
    source = {"records": records, "decode": decode} if lazy else {}
    whole = _rows(None)  # Batches 1 to 4 of 2 per epoch: across two epoch boundaries.
    shares = [_rows((0, 1), **source), _rows((1, 2), **source), _rows((3, 1), **source)]
    for step, batch in enumerate(whole):
        for key in ("id", "image"):
            np.testing.assert_array_equal(np.concatenate([share[step][key] for share in shares]), batch[key])
    assert len({tuple(_flipped(batch)) for batch in whole}) > 1
    with pytest.raises(ValueError, match=r"inside a batch of 4. Received: rows=\(3, 2\)"):
        epoch_stream(_numbers(10), STREAM, rows=(3, 2))


def test_lazy_records_are_decoded_for_the_kept_rows_only():
    records, decode = _numbered_records(8)
    decoded = []

    def spy(record):
        seen = tf.py_function(lambda index: decoded.append(int(index)) or 0, [record["index"]], tf.int32)
        with tf.control_dependencies([seen]):
            return decode(record)

    options = AUGMENTED.replace(shuffle=False)
    batches = _rows((2, 2), 0, 3, options, records=records, decode=spy)  # Unshuffled: rows 2, 3 of 0-3 and 4-7.
    assert [[int(i) for i in batch["id"]] for batch in batches] == [[2, 3], [6, 7], [2, 3]]
    assert decoded and set(decoded) <= {2, 3, 6, 7}  # Prefetched batches included: rows 0, 1 never decoded.


@pytest.mark.parametrize("rows, filled", [(None, [0, 0, 2, 3]), ((0, 2), [0, 2])])
def test_a_row_failing_to_decode_is_filled_in_place_and_warned(caplog, rows, filled):
    records, decode = _numbered_records(10)
    options = AUGMENTED.replace(shuffle=False)
    expected = _rows(None, 0, 2, options)
    with caplog.at_level("WARNING", logger="shoes_generator.data"):
        first, second = _rows(rows, 0, 2, options, records=records, decode=lambda record: decode(record, broken=(1,)))
    # Row 1 failed: a spare takes its place (the rows after the worker's first, else its own decodable rows).
    assert [int(i) for i in first["id"]] == filled
    for row in range(len(filled)):  # Every row keeps its place and seed.
        if row != 1:
            np.testing.assert_array_equal(first["image"][row], expected[0]["image"][row])
    np.testing.assert_array_equal(second["image"], expected[1]["image"][: len(filled)])
    assert f"1 of the {len(filled)} row(s) of global batch 0 failed to decode" in caplog.text
    assert "global batch 1 " not in caplog.text


@pytest.mark.parametrize("rows, batch", [(None, 4), ((1, 2), 2)])
def test_lazy_decoding_keeps_the_batch_size_static_without_augmentation(rows, batch):
    """Keras traces the step from the stream's spec: an unknown batch size would cost fixed shapes (and fused kernels)."""
    records, decode = _numbered_records(10)
    spec = epoch_stream(records, STREAM.replace(flip=False, jitter=False), rows=rows, decode=decode).element_spec
    assert spec["image"].shape == (batch, 8, 8, 3) and spec["id"].shape == (batch,)
