"""`AdaptiveAugment` (ADA): the identity at p = 0, seeded determinism, what each transform does on
constructed images, exact gradients (finite differences), the p controller and its checkpoint."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.gans.ada import ADA_TRANSFORMS, GEOMETRIC, AdaptiveAugment

RNG = np.random.default_rng(0)
IMAGES = RNG.uniform(-1, 1, (16, 8, 8, 3)).astype("float32")
SEED = tf.constant([3, 7], tf.int32)


def augment(transforms=ADA_TRANSFORMS, p=1.0, images=IMAGES, seed=SEED):
    return AdaptiveAugment(initial_p=p, transforms=transforms)(images, seed).numpy()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_p_zero_is_the_identity(dtype):
    images = tf.cast(IMAGES, dtype)
    out = AdaptiveAugment()(images, SEED)
    assert out.dtype == images.dtype
    np.testing.assert_array_equal(out.numpy(), images.numpy())


def test_p_one_is_seeded():
    out = augment()
    assert out.shape == IMAGES.shape and np.all(np.isfinite(out))
    assert not np.allclose(out, IMAGES)
    np.testing.assert_array_equal(augment(), out)
    assert not np.allclose(augment(seed=tf.constant([3, 8], tf.int64)), out)


def test_low_precision_inputs_keep_their_dtype():
    out = AdaptiveAugment(initial_p=1.0)(tf.cast(IMAGES, tf.bfloat16), SEED)
    assert out.dtype == tf.bfloat16 and out.shape == IMAGES.shape
    np.testing.assert_allclose(tf.cast(out, tf.float32).numpy(), augment(), atol=0.1, rtol=0.05)


def test_xflip_mirrors_half_of_the_chosen_images():
    out = augment(("xflip",))
    flipped = [np.array_equal(o, x[:, ::-1]) for o, x in zip(out, IMAGES)]
    kept = [np.array_equal(o, x) for o, x in zip(out, IMAGES)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_rotate90_gives_quarter_turns():
    out = augment(("rotate90",))
    turns = [[k for k in range(4) if np.array_equal(o, np.rot90(x, k))] for o, x in zip(out, IMAGES)]
    assert all(len(t) == 1 for t in turns), turns
    assert len({t[0] for t in turns}) >= 3


def test_xint_is_an_integer_shift_with_reflected_borders():
    images = RNG.uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
    out = augment(("xint",), images=images)
    padded = np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)], mode="symmetric")  # 0.125 * 16 = 2 pixels.
    shifts = []
    for o, pad in zip(out, padded):
        shifts += [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if np.array_equal(o, pad[2 - dy : 18 - dy, 2 - dx : 18 - dx])]
    assert len(shifts) == len(images) and len(set(shifts)) > 1, shifts


@pytest.mark.parametrize("name", GEOMETRIC)
def test_geometric_transforms_keep_a_flat_image_flat(name):
    out = augment((name,), images=np.full((4, 8, 8, 3), 0.25, "float32"))
    np.testing.assert_allclose(out, 0.25, atol=1e-6)


def test_brightness_adds_a_constant_per_image():
    shift = augment(("brightness",)) - IMAGES
    np.testing.assert_allclose(shift, np.broadcast_to(shift[:, :1, :1, :1], shift.shape), atol=1e-6)
    assert np.abs(shift[:, 0, 0, 0]).max() > 0.01


def test_contrast_scales_about_mid_grey():
    images = IMAGES - IMAGES.mean(axis=(1, 2, 3), keepdims=True)  # Mean 0: also scaled about the mean.
    out = augment(("contrast",), images=images)
    factor = (out * images).sum(axis=(1, 2, 3)) / (images * images).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(out, images * factor[:, None, None, None], atol=1e-5)
    assert np.all(factor > 0) and np.abs(np.log(factor)).max() > 0.05
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)


def test_saturation_keeps_grey_grey():
    grey = np.repeat(IMAGES[..., :1], 3, axis=-1)
    out = augment(("saturation", "hue", "contrast"), images=grey)
    np.testing.assert_allclose(out, np.broadcast_to(out[..., :1], out.shape), atol=1e-5)
    assert not np.allclose(augment(("saturation",)), IMAGES)


def test_hue_keeps_luma_and_changes_colour():
    out = augment(("hue",))
    np.testing.assert_allclose(out.mean(axis=-1), IMAGES.mean(axis=-1), atol=1e-5)
    assert np.abs(out - IMAGES).max() > 0.1


def test_lumaflip_negates_grey_or_keeps_it():
    grey = np.repeat(IMAGES[..., :1], 3, axis=-1)
    out = augment(("lumaflip",), images=grey)
    negated = [np.allclose(o, -x, atol=1e-5) for o, x in zip(out, grey)]
    kept = [np.allclose(o, x, atol=1e-5) for o, x in zip(out, grey)]
    assert all(n or k for n, k in zip(negated, kept)) and any(negated) and any(kept)


def test_one_channel_images_take_the_grey_part_of_the_colour_pipeline():
    grey = IMAGES[..., :1]
    one = augment(images=grey)
    three = augment(images=np.repeat(grey, 3, axis=-1))
    assert one.shape == grey.shape
    np.testing.assert_allclose(one[..., 0], three[..., 0], atol=1e-4)


def test_gradient_is_finite_and_nonzero():
    x = tf.constant(IMAGES)
    weights = tf.constant(RNG.normal(size=IMAGES.shape).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(AdaptiveAugment(initial_p=1.0)(x, SEED) * weights)
    grad = tape.gradient(loss, x)
    assert grad is not None and np.all(np.isfinite(grad)) and np.abs(grad.numpy()).max() > 0


@pytest.mark.parametrize("transforms", [("scale", "rotate", "aniso", "xfrac"), ADA_TRANSFORMS], ids=["geometric", "all"])
def test_gradient_matches_finite_differences(transforms):
    # For a fixed seed the augmentation is affine in the images, so unit steps give the exact Jacobian.
    layer = AdaptiveAugment(initial_p=1.0, transforms=transforms)
    images = tf.constant(RNG.uniform(-1, 1, (2, 5, 5, 3)).astype("float32"))
    weights = tf.constant(RNG.normal(size=images.shape).astype("float32"))
    loss = tf.function(lambda x: tf.reduce_sum(layer(x, SEED) * weights))
    with tf.GradientTape() as tape:
        tape.watch(images)
        value = loss(images)
    grad = tape.gradient(value, images).numpy().ravel()
    basis = np.eye(images.shape.num_elements(), dtype="float32").reshape(-1, *images.shape)
    numeric = np.array([loss(images + e) - value for e in basis])
    np.testing.assert_allclose(grad, numeric, atol=2e-4 * np.abs(numeric).max())


def test_symbolic_batch_in_tf_function():
    layer = AdaptiveAugment(initial_p=0.0)
    step = tf.function(
        lambda x, seed: layer(x, seed),
        input_signature=[tf.TensorSpec([None, 8, 8, 3]), tf.TensorSpec([2], tf.int64)],
    )
    seed = tf.constant([3, 7], tf.int64)
    np.testing.assert_array_equal(step(IMAGES[:5], seed), IMAGES[:5])  # Traced at p = 0 ...
    layer.p.assign(1.0)  # ... p is read when the graph runs.
    out = step(IMAGES[:3], seed).numpy()
    assert out.shape == (3, 8, 8, 3) and not np.allclose(out, IMAGES[:3])


def test_statistics_stay_finite_at_p_one():
    images = RNG.uniform(-1, 1, (64, 16, 16, 3)).astype("float32")
    out = augment(images=images)
    assert np.all(np.isfinite(out))
    assert abs(out.mean()) < 0.5 and 0.2 < out.std() < 3.0


def run_controller(layer, logit, steps, batch_size=8):
    update = tf.function(lambda step: (layer.accumulate(tf.fill([batch_size, 1], logit)), layer.maybe_update(step, batch_size)))
    history = []
    for step in range(1, steps + 1):
        update(tf.constant(step, tf.int64))
        history.append(float(layer.p.numpy()))
    return history


def test_overfitting_raises_p_by_the_expected_amount():
    layer = AdaptiveAugment(interval=4, speed_images=320)  # 8 * 4 / 320 = 0.1 per update.
    history = run_controller(layer, 2.0, 12)
    np.testing.assert_allclose(history, [0, 0, 0, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2, 0.3], atol=1e-6)
    assert layer.rt.numpy() == 1.0 and layer.acc_count.numpy() == 0 and layer.acc_sum.numpy() == 0


def test_underfitting_lowers_p_down_to_zero():
    layer = AdaptiveAugment(interval=2, speed_images=160, initial_p=0.15)
    history = run_controller(layer, -1.0, 8)
    np.testing.assert_allclose(history[1::2], [0.05, 0.0, 0.0, 0.0], atol=1e-6)
    assert layer.rt.numpy() == -1.0


def test_fixed_p_never_moves():
    layer = AdaptiveAugment(interval=1, speed_images=8, fixed_p=0.3, initial_p=0.9)
    assert run_controller(layer, 1.0, 4) == [pytest.approx(0.3)] * 4
    assert layer.rt.numpy() == 1.0


def test_checkpoint_restores_p_and_accumulators(tmp_path):
    layer = AdaptiveAugment(interval=4, speed_images=320)
    run_controller(layer, 1.0, 6)  # One update, then two steps accumulated.
    saved = {name: v.numpy() for name, v in layer.checkpoint_objects().items()}
    path = tf.train.Checkpoint(**layer.checkpoint_objects()).save(str(tmp_path / "ada"))
    fresh = AdaptiveAugment(interval=4, speed_images=320)
    tf.train.Checkpoint(**fresh.checkpoint_objects()).restore(path).assert_consumed()
    assert saved == {name: v.numpy() for name, v in fresh.checkpoint_objects().items()}
    assert saved["ada_p"] == pytest.approx(0.1) and saved["ada_count"] == 16


def test_config_round_trip_and_bad_arguments():
    layer = AdaptiveAugment(target=0.5, interval=2, speed_images=1000, transforms=("xflip", "hue"), fixed_p=0.2)
    config = layer.get_config()
    assert config == AdaptiveAugment.from_config(config).get_config()
    assert config["transforms"] == ["xflip", "hue"] and config["fixed_p"] == 0.2
    for kwargs in ({"transforms": ("cutout",)}, {"interval": 0}, {"fixed_p": 1.5}):
        with pytest.raises(ValueError, match="Received"):
            AdaptiveAugment(**kwargs)
    with pytest.raises(ValueError, match="Received"):
        AdaptiveAugment()(IMAGES[..., :2], SEED)
