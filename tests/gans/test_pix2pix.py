"""The Pix2Pix fit wrapper and the linear-decay schedule: training, masks, precision, serialization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.gans.pix2pix import Pix2Pix, patch_gan_criterion
from shoes_generator.models.patchgan import build_patchgan_discriminator
from shoes_generator.models.unet import build_unet_generator
from shoes_generator.schedules import LinearDecay

SIZE = 16


def pairs(n=8, mask=False, seed=0):
    """`n` random inputs whose targets are their mirror images (plus a mask channel)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype("float32")
    data = {"input": x, "target": np.ascontiguousarray(x[:, :, ::-1])}
    if mask:
        data["mask"] = (rng.uniform(size=(n, SIZE, SIZE, 1)) > 0.5).astype("float32")
    return data


def batches(data, batch_size=2):
    return tf.data.Dataset.from_tensor_slices(data).batch(batch_size)


def pix2pix(in_channels=3, base_filters=4, dtype=None, **kwargs):
    generator = build_unet_generator(SIZE, in_channels=in_channels, base_filters=base_filters, dtype=dtype)
    discriminator = build_patchgan_discriminator(SIZE, in_channels=in_channels, base_filters=base_filters, n_layers=2, dtype=dtype)
    return Pix2Pix(generator, discriminator, **kwargs)


def test_fit_reduces_l1_on_a_fixed_tiny_dataset():
    keras.utils.set_random_seed(0)
    data = batches(pairs())
    model = pix2pix(base_filters=8)
    model.compile(g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    before = model.evaluate(data, verbose=0, return_dict=True)
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    history = model.fit(data.repeat(), steps_per_epoch=10, epochs=3, verbose=0).history
    after = model.evaluate(data, verbose=0, return_dict=True)
    assert set(before) == {"l1"} and set(history) == {"d_loss", "g_gan", "g_l1"}
    assert all(np.isfinite(values).all() for values in history.values())
    assert history["g_l1"][0] > history["g_l1"][1] > history["g_l1"][2]
    assert after["l1"] < before["l1"] - 0.01  # Inference-mode L1 on the same pairs (about 0.505 -> 0.475).
    assert int(model.step.numpy()) == 30
    assert int(model.g_optimizer.iterations) == 30 and int(model.d_optimizer.iterations) == 30
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(d_before, model.discriminator.trainable_weights))


def test_test_step_reports_l1_of_the_inference_generator_and_trains_nothing():
    model = pix2pix()
    model.compile(run_eagerly=True)
    data = pairs(4)
    weights = [w.numpy().copy() for w in model.trainable_weights]
    result = model.evaluate(batches(data, 4), verbose=0, return_dict=True)
    expected = np.abs(model.generator(data["input"], training=False) - data["target"]).mean()
    assert result["l1"] == pytest.approx(expected, rel=1e-5)
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(weights, model.trainable_weights))
    np.testing.assert_allclose(model.translate(data), model.generator(data["input"], training=False), atol=1e-6)


def test_mask_input_trains_a_four_channel_generator():
    model = pix2pix(in_channels=4, mask_input=True, loss="least_squares", lambda_l1=10.0)
    assert model.generator.inputs[0].shape[-1] == 4
    model.compile(run_eagerly=True)  # Eager: a few steps, no tracing (the graph path is tested above).
    data = pairs(4, mask=True)
    history = model.fit(batches(data), epochs=1, verbose=0).history
    assert all(np.isfinite(values).all() for values in history.values())
    out = model.translate(data)
    assert out.shape == (4, SIZE, SIZE, 3) and out.dtype == "float32"
    joined = np.concatenate([data["input"], data["mask"]], axis=-1)
    np.testing.assert_allclose(model(joined), out, atol=1e-6)  # call() takes the joined tensor too.
    with pytest.raises(ValueError, match=r"Missing: \['mask'\]"):
        model.translate({"input": data["input"]})


def test_config_round_trip_and_saved_model_keep_the_generator(tmp_path):
    model = pix2pix(loss="least_squares", lambda_l1=50.0)
    model.compile(
        g_optimizer=keras.optimizers.Adam(LinearDecay(1e-3, 2, 4), beta_1=0.3),
        d_optimizer=keras.optimizers.RMSprop(5e-4),
        run_eagerly=True,
    )
    model.fit(batches(pairs(4)), epochs=1, verbose=0)
    x = pairs(2, seed=1)
    clone = Pix2Pix.from_config(model.get_config())
    assert (clone.loss_name, clone.lambda_l1, clone.mask_input) == ("least_squares", 50.0, False)
    clone.generator.set_weights(model.generator.get_weights())
    np.testing.assert_allclose(clone.translate(x), model.translate(x), atol=1e-6)
    path = tmp_path / "pix2pix.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, Pix2Pix) and int(loaded.step.numpy()) == 2
    assert isinstance(loaded.d_optimizer, keras.optimizers.RMSprop) and int(loaded.g_optimizer.iterations) == 2
    assert keras.optimizers.serialize(loaded.g_optimizer)["config"]["learning_rate"]["class_name"] == "LinearDecay"
    np.testing.assert_allclose(loaded.translate(x), model.translate(x), atol=1e-6)


def test_bfloat16_policy_trains_with_float32_outputs():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = pix2pix()
        assert model.generator.get_layer("down1").compute_dtype == "bfloat16"
        model.compile(run_eagerly=True)
        history = model.fit(batches(pairs(2)), epochs=1, verbose=0).history
        data = pairs(2)
        assert model.translate(data).dtype == "float32"
        assert model.discriminator({"input": data["input"], "target": data["target"]}).dtype == "float32"
        assert all(np.isfinite(values).all() for values in history.values())
        assert not isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)  # bfloat16 needs no scaling.
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_float16_wraps_both_optimizers():
    model = pix2pix(dtype="mixed_float16")
    model.compile()
    model.build_optimizers()
    assert all(isinstance(opt, keras.optimizers.LossScaleOptimizer) for opt in (model.g_optimizer, model.d_optimizer))
    assert float(model.g_optimizer.dynamic_scale.numpy()) > 1


def test_patch_losses_follow_the_reference_gan_loss():
    zeros, big = tf.zeros([2, 3, 3, 1]), tf.fill([2, 3, 3, 1], 20.0)
    bce = patch_gan_criterion("non_saturating")
    assert float(bce(zeros, True)) == pytest.approx(np.log(2.0)) and float(bce(zeros, False)) == pytest.approx(np.log(2.0))
    assert float(bce(big, True)) < 1e-6 and float(bce(big, False)) == pytest.approx(20.0)
    lsgan = patch_gan_criterion("least_squares")
    assert float(lsgan(zeros, True)) == 1.0 and float(lsgan(zeros, False)) == 0.0


def test_bad_arguments_name_what_was_received():
    with pytest.raises(ValueError, match="Received: loss='wasserstein'"):
        pix2pix(loss="wasserstein")
    with pytest.raises(ValueError, match="Received: lambda_l1=-1"):
        pix2pix(lambda_l1=-1)
    unconditional = build_patchgan_discriminator(SIZE, base_filters=4, n_layers=2, conditional=False)
    with pytest.raises(ValueError, match=r"Received: inputs=\['image'\]"):
        Pix2Pix(build_unet_generator(SIZE, base_filters=4), unconditional)
    model = pix2pix()
    model.compile(run_eagerly=True)
    with pytest.raises(ValueError, match="need a 'target'"):
        model.fit(batches({"input": pairs(2)["input"]}), epochs=1, verbose=0)


def test_linear_decay_holds_then_falls_to_zero():
    schedule = LinearDecay(2e-4, constant_steps=100, decay_steps=50)
    values = {step: float(schedule(step)) for step in (0, 99, 100, 125, 150, 1000)}
    assert values[0] == values[99] == values[100] == pytest.approx(2e-4)
    assert values[125] == pytest.approx(1e-4)
    assert values[150] == 0.0 and values[1000] == 0.0
    assert float(schedule(tf.constant(110, tf.int64))) == pytest.approx(1.6e-4)
    restored = LinearDecay.from_config(schedule.get_config())
    assert float(restored(125)) == pytest.approx(1e-4)
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(revived, LinearDecay) and revived.get_config() == schedule.get_config()
    with pytest.raises(ValueError, match="Received: decay_steps=0"):
        LinearDecay(1e-3, 10, 0)
