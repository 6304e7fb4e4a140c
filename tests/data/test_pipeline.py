"""The shared pipeline blocks: fitting, joint augmentation, batching, options."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.data.pipeline import (
    PipelineOptions,
    augment_dataset,
    augment_together,
    batch_pipeline,
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
