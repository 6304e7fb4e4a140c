"""StyleGAN2 networks: modulation against a per-sample reference, FIR resampling, noise, w layout,
the projection discriminator, equalized lr, gradients for R1 and a SavedModel round trip."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.models.stylegan2 import (
    build_mapping_network,
    build_stylegan_discriminator,
    build_synthesis_network,
    num_ws,
)
from shoes_generator.models.stylegan2_layers import (
    EqualizedConv2D,
    EqualizedDense,
    GroupedMinibatchStdDev,
    ModulatedConv2D,
    NoiseInjection,
    ToRGB,
    downsample_2x,
    upsample_2x,
)

TINY = {"w_dim": 8, "channel_base": 64, "channel_max": 16}
VOCAB = {"color": 5, "category": 3}


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def synthesis(image_size=16):
    keras.utils.set_random_seed(0)
    return build_synthesis_network(image_size, **TINY)


def set_noise_strength(model, value):
    for layer in model.layers:
        if isinstance(layer, NoiseInjection):
            layer.strength.assign(value)


def test_num_ws():
    assert [num_ws(s) for s in (8, 16, 32, 64, 256)] == [4, 6, 8, 10, 14]
    with pytest.raises(ValueError, match="Received: image_size=48"):
        num_ws(48)


# --------------------------------------------------------------- resampling
F1 = np.array([1, 3, 3, 1], "float64") / 8


def upfirdn_reference(x, up, down, pad, gain):
    """stylegan2's upfirdn2d on one [H, W] map: zeros inserted, padded, [1,3,3,1] filter (times gain), subsampled."""
    h, w = x.shape
    u = np.zeros((h * up, w * up))
    u[::up, ::up] = x
    p = np.pad(u, [pad, pad])
    f = np.outer(F1, F1) * gain
    out = np.array([[(p[i : i + 4, j : j + 4] * f).sum() for j in range(p.shape[1] - 3)] for i in range(p.shape[0] - 3)])
    return out[::down, ::down]


def test_fir_resampling_matches_upfirdn2d():
    x = normal(1, 6, 6, 1)
    np.testing.assert_allclose(
        np.asarray(upsample_2x(tf.constant(x)))[0, ..., 0], upfirdn_reference(x[0, ..., 0], 2, 1, (2, 1), 4), atol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(downsample_2x(tf.constant(x)))[0, ..., 0], upfirdn_reference(x[0, ..., 0], 1, 2, (1, 1), 1), atol=1e-5
    )


# ------------------------------------------------------------- modulation
@pytest.mark.parametrize("demodulate,up", [(True, False), (True, True), (False, False)])
def test_modulated_conv_equals_per_sample_weights(demodulate, up):
    x, w = normal(3, 5, 5, 4, seed=1), normal(3, 6, seed=2)
    layer = ModulatedConv2D(7, 3, demodulate=demodulate, up=up)
    out = np.asarray(layer([x, w]))
    styles = np.asarray(layer.styles(w))
    kernel = np.asarray(layer.scaled_kernel())
    for b in range(3):
        weight = kernel * styles[b][None, None, :, None]  # The paper's per-sample weight.
        if demodulate:
            weight = weight / np.sqrt((weight**2).sum(axis=(0, 1, 2), keepdims=True) + 1e-8)
        xb = upsample_2x(tf.constant(x[b : b + 1])) if up else x[b : b + 1]
        expected = tf.nn.conv2d(xb, weight, strides=1, padding="SAME").numpy()[0]
        np.testing.assert_allclose(out[b], expected, rtol=1e-4, atol=1e-4)
    assert out.shape == (3, 10 if up else 5, 10 if up else 5, 7)


def test_demodulation_gives_unit_std():
    x, w = normal(4, 16, 16, 32, seed=3), 3 * normal(4, 8, seed=4)
    out = np.asarray(ModulatedConv2D(32, 3)([x, w]))
    interior = out[:, 1:-1, 1:-1]
    assert 0.85 < interior.std() < 1.15
    assert 0.7 < interior.std(axis=(1, 2)).min() and interior.std(axis=(1, 2)).max() < 1.4  # Per sample and channel.


def test_modulation_under_mixed_float16_matches_float32():
    x, w = normal(2, 6, 6, 8, seed=5), 50 * normal(2, 8, seed=6)  # Large styles: normalized before the cast.
    exact = ModulatedConv2D(4, 3)
    reference = np.asarray(exact([x, w]))
    half = ModulatedConv2D(4, 3, dtype="mixed_float16")
    half([x, w])
    half.set_weights(exact.get_weights())
    out = half([x.astype("float16"), w])
    assert out.dtype == "float16"
    np.testing.assert_allclose(np.asarray(out, "float32"), reference, atol=2e-2, rtol=2e-2)


def test_to_rgb_has_no_demodulation_and_a_bias():
    layer = ToRGB(3)
    x, w = normal(2, 4, 4, 5), normal(2, 8, seed=1)
    out = np.asarray(layer([x, w]))
    expected = np.einsum("bhwi,io->bhwo", x * np.asarray(layer.styles(w))[:, None, None], np.asarray(layer.scaled_kernel())[0, 0])
    np.testing.assert_allclose(out, expected + np.asarray(layer.bias), rtol=1e-5, atol=1e-5)
    assert layer.get_config()["channels"] == 3 and "filters" not in layer.get_config()


# -------------------------------------------------------------------- noise
def test_noise_is_random_in_training_and_fixed_in_inference():
    layer = NoiseInjection(seed=1)
    x = np.zeros((2, 4, 4, 3), "float32")
    layer(x)
    layer.strength.assign(1.0)
    first, second = np.asarray(layer(x, training=True)), np.asarray(layer(x, training=True))
    assert not np.allclose(first, second)
    assert not np.allclose(first[0], first[1])  # Per sample.
    np.testing.assert_array_equal(first[..., 0], first[..., 2])  # One noise map for all channels.
    fixed = np.asarray(layer(x, training=False))
    np.testing.assert_array_equal(fixed, np.asarray(layer(x)))
    np.testing.assert_array_equal(fixed, np.broadcast_to(np.asarray(layer.noise_const)[None], x.shape))


def test_synthesis_noise_and_checkpointed_rng(tmp_path):
    model = synthesis(8)
    set_noise_strength(model, 0.5)
    w = normal(2, num_ws(8), 8)
    np.testing.assert_array_equal(model({"w": w}, training=False), model({"w": w}, training=False))
    noise_layer = model.get_layer("b8_conv1_noise")
    state = noise_layer.seed_generator.state
    assert any(v is state for v in noise_layer.variables) and all(v is not state for v in noise_layer.weights)
    checkpoint = tf.train.Checkpoint(synthesis=model)
    path = checkpoint.save(tmp_path / "ckpt")
    assert any("noise_seed_state" in name for name, _ in tf.train.list_variables(path))
    first = np.asarray(model({"w": w}, training=True))
    assert not np.allclose(first, model({"w": w}, training=True))
    checkpoint.restore(path)
    np.testing.assert_array_equal(model({"w": w}, training=True), first)  # The noise sequence is restored.


# ---------------------------------------------------------------- w layout
def test_every_w_is_used_and_the_layout_is_documented():
    model = synthesis(16)
    w = normal(2, num_ws(16), 8)
    base = np.asarray(model({"w": w}, training=False))
    for k in range(num_ws(16)):
        changed = w.copy()
        changed[:, k] = normal(2, 8, seed=10 + k)
        assert not np.allclose(model({"w": changed}, training=False), base, atol=1e-6), f"w[:, {k}] unused"
    layout = {name: model.get_layer(name).input[1]._keras_history.operation.index for name in (
        "b4_conv1", "b4_torgb", "b8_conv0", "b8_conv1", "b8_torgb", "b16_conv0", "b16_conv1", "b16_torgb")}
    assert layout == {"b4_conv1": 0, "b4_torgb": 1, "b8_conv0": 1, "b8_conv1": 2, "b8_torgb": 3,
                      "b16_conv0": 3, "b16_conv1": 4, "b16_torgb": 5}


# ------------------------------------------------------------------ mapping
def test_mapping_normalizes_z_and_responds_to_labels():
    keras.utils.set_random_seed(0)
    model = build_mapping_network(VOCAB, latent_dim=8, w_dim=8, depth=2)
    z = normal(4, 8)
    labels = {"color": np.array([0, 1, 2, 3], "int32"), "category": np.array([0, 1, 2, 0], "int32")}
    w = np.asarray(model({"z": z, **labels}))
    assert w.shape == (4, 8) and w.dtype == "float32"
    np.testing.assert_allclose(model({"z": 3 * z, **labels}), w, rtol=1e-5, atol=1e-6)  # z's scale is normalized away.
    other = {**labels, "color": np.array([4, 4, 4, 4], "int32")}
    assert not np.allclose(model({"z": z, **other}), w)
    unconditional = build_mapping_network({}, latent_dim=8, w_dim=8, depth=2, dtype="mixed_bfloat16")
    assert list(unconditional.input) == ["z"] and unconditional({"z": z}).dtype == "float32"


# ------------------------------------------------------------ discriminator
def test_projection_discriminator_responds_to_labels():
    keras.utils.set_random_seed(0)
    model = build_stylegan_discriminator(16, label_sizes=VOCAB, channel_base=64, channel_max=16)
    image = normal(4, 16, 16, 3)
    labels = {"color": np.array([0, 1, 2, 3], "int32"), "category": np.array([0, 1, 2, 0], "int32")}
    logit = np.asarray(model({"image": image, **labels}))
    assert logit.shape == (4, 1) and logit.dtype == "float32"
    for label, ids in (("color", [4, 0, 1, 2]), ("category", [1, 2, 0, 1])):
        changed = np.asarray(model({"image": image, **labels, label: np.array(ids, "int32")}))
        assert (np.abs(changed - logit) > 1e-6).all(), label


def mbstd_reference(x, group):
    """stylegan2-ada's minibatch stddev with one channel: samples n and n + B/G share a group."""
    b = x.shape[0]
    y = x.reshape(group, b // group, *x.shape[1:])
    level = np.sqrt(y.var(axis=0) + 1e-8).mean(axis=(1, 2, 3))  # [B / G]
    return np.concatenate([x, np.broadcast_to(np.tile(level, group)[:, None, None, None], (*x.shape[:-1], 1))], axis=-1)


@pytest.mark.parametrize("batch,group", [(8, 4), (6, 3), (5, 1), (2, 2), (1, 1)])
def test_minibatch_std_groups(batch, group):
    x = normal(batch, 4, 4, 6)
    layer = GroupedMinibatchStdDev(group_size=4)
    np.testing.assert_allclose(layer(x), mbstd_reference(x, group), rtol=1e-5, atol=1e-6)


def test_discriminator_runs_any_batch_in_a_graph():
    model = build_stylegan_discriminator(8, channel_base=32, channel_max=8)
    run = tf.function(lambda image: model({"image": image}), input_signature=[tf.TensorSpec([None, 8, 8, 3])])
    for batch in (1, 3, 5, 6, 8):
        assert run(tf.constant(normal(batch, 8, 8, 3))).shape == (batch, 1)


@pytest.mark.parametrize("dtype", [None, "mixed_bfloat16"])
def test_discriminator_gradients_reach_the_image(dtype):
    model = build_stylegan_discriminator(8, label_sizes={"color": 5}, channel_base=32, channel_max=8, dtype=dtype)
    image = tf.constant(normal(4, 8, 8, 3))
    with tf.GradientTape() as tape:
        tape.watch(image)
        score = tf.reduce_sum(model({"image": image, "color": tf.constant([0, 1, 2, 3])}, training=True))
    grad = tape.gradient(score, image)  # R1 penalizes |grad|^2.
    assert grad.dtype == tf.float32 and grad.shape == image.shape
    assert np.isfinite(grad.numpy()).all() and (np.abs(grad.numpy()).sum(axis=(1, 2, 3)) > 0).all()


# ------------------------------------------------------------ equalized lr
def test_equalized_lr_runtime_scale():
    keras.utils.set_random_seed(0)
    dense = EqualizedDense(64, bias_init=1.0, lr_multiplier=0.01)
    x = normal(3, 256)
    out = np.asarray(dense(x))
    assert dense.kernel_gain == pytest.approx(0.01 / math.sqrt(256))
    kernel = np.asarray(dense.kernel)
    assert 90 < kernel.std() < 110  # Stored N(0, 1 / lr_multiplier).
    np.testing.assert_allclose(out, x @ (kernel * 0.01 / 16) + 0.01, rtol=1e-4, atol=1e-4)
    conv = EqualizedConv2D(4, 3)
    conv(normal(1, 4, 4, 5))
    assert conv.kernel_gain == pytest.approx(1 / math.sqrt(3 * 3 * 5))
    np.testing.assert_allclose(conv.scaled_kernel(), np.asarray(conv.kernel) / math.sqrt(45), rtol=1e-6)


def test_argument_errors_say_what_was_received():
    with pytest.raises(ValueError, match="Received: activation='relu'"):
        EqualizedDense(4, activation="relu")
    with pytest.raises(ValueError, match="Received: kernel_size=2"):
        ModulatedConv2D(4, 2)
    with pytest.raises(ValueError, match="Received: size=0"):
        build_mapping_network({"color": 0}, latent_dim=8, w_dim=8)
    with pytest.raises(ValueError, match="Received: image_size=12"):
        build_stylegan_discriminator(12)


# ------------------------------------------------------------------ export
def test_synthesis_savedmodel_round_trip(tmp_path):
    model = synthesis(8)
    set_noise_strength(model, 0.3)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serve",
        lambda w: {"image": model({"w": w}, training=False)},
        input_signature=[tf.TensorSpec([None, num_ws(8), 8], tf.float32, name="w")],
    )
    archive.write_out(str(tmp_path / "synthesis"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "synthesis"))
    w = normal(3, num_ws(8), 8)
    np.testing.assert_allclose(reloaded.serve(tf.constant(w))["image"], model({"w": w}, training=False), rtol=1e-5, atol=1e-5)


def test_fir_resampling_in_bfloat16_is_filtered_in_float32_and_keeps_its_dtype():
    x = normal(2, 6, 6, 3)
    for resample in (upsample_2x, downsample_2x):
        exact = np.asarray(resample(tf.constant(x)))
        with tf.GradientTape() as tape:
            low = tf.constant(x, tf.bfloat16)
            tape.watch(low)
            out = resample(low)
        assert out.dtype == tf.bfloat16 and tape.gradient(out, low).dtype == tf.bfloat16
        np.testing.assert_allclose(np.asarray(tf.cast(out, tf.float32)), exact, atol=0.05)
