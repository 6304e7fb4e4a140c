"""CycleGAN: the image pool in graph mode, a tiny fit on two synthetic domains, config round trip, bfloat16."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.callbacks import training_checkpoint
from shoes_generator.gans.cyclegan import CycleGAN
from shoes_generator.gans.image_pool import ImagePool
from shoes_generator.models.patchgan import build_patchgan_discriminator
from shoes_generator.models.resnet_generator import build_resnet_generator

SIZE = 16


def squares(n, bright, seed):
    """Domain A: a dark square on grey; domain B: a bright one. Random positions and sizes."""
    rng = np.random.default_rng(seed)
    x = np.full((n, SIZE, SIZE, 3), -0.2, "float32")
    for image in x:
        side = rng.integers(4, 9)
        top, left = rng.integers(0, SIZE - side, 2)
        image[top : top + side, left : left + side] = 0.9 if bright else -0.9
    return x


def domains(n=20, batch=2):
    return tf.data.Dataset.from_tensor_slices({"a": squares(n, False, 0), "b": squares(n, True, 1)}).batch(batch)


def cyclegan(**kwargs):
    keras.utils.set_random_seed(0)
    generator = lambda name: build_resnet_generator(SIZE, base_filters=4, n_blocks=2, name=name)
    discriminator = lambda name: build_patchgan_discriminator(SIZE, base_filters=4, n_layers=2, conditional=False, name=name)
    return CycleGAN(generator("g_ab"), generator("g_ba"), discriminator("d_a"), discriminator("d_b"), **{"pool_size": 4, **kwargs})


def constant_batches(start, count, shape=(2, 2, 1)):
    """Batches of one image each, image k filled with the value k."""
    return [np.full((1, *shape), float(k), "float32") for k in range(start, start + count)]


# ------------------------------------------------------------------ the pool
def test_pool_fills_first_then_returns_about_half_stored_images():
    pool = ImagePool(5, (2, 2, 1), seed=0)
    query = tf.function(pool.query)  # Graph mode, as inside a compiled train step.
    for batch in constant_batches(0, 5):
        np.testing.assert_array_equal(query(batch), batch)
    assert int(pool.count.numpy()) == 5
    np.testing.assert_array_equal(pool.images.numpy()[:, 0, 0, 0], np.arange(5))
    stored = 0
    for batch in constant_batches(5, 400):
        value = query(batch).numpy()
        assert np.all(value == value.flat[0])  # One whole image, never a mix of two.
        buffer = pool.images.numpy()[:, 0, 0, 0]
        if value.flat[0] != batch.flat[0]:  # A stored image came out and the new one took its place.
            stored += 1
            assert batch.flat[0] in buffer and value.flat[0] not in buffer and value.flat[0] < batch.flat[0]
        else:
            assert batch.flat[0] not in buffer
    assert 160 < stored < 240  # Binomial(400, 0.5): ~200.


def test_pool_goes_through_a_batch_in_order():
    pool = ImagePool(3, (1, 1, 1), seed=1)
    batch = np.arange(8, dtype="float32").reshape(8, 1, 1, 1)
    out = tf.function(pool.query)(batch).numpy().ravel()
    np.testing.assert_array_equal(out[:3], [0, 1, 2])  # Stored while filling, returned as they are.
    assert set(out[3:]) <= set(range(8)) and all(value <= index for index, value in enumerate(out))
    assert int(pool.count.numpy()) == 3


def test_pool_checkpoint_restores_buffer_fill_and_draws(tmp_path):
    pool = ImagePool(4, (2, 2, 1), seed=7)
    for batch in constant_batches(0, 6):
        pool.query(batch)
    path = tf.train.Checkpoint(pool=pool).save(str(tmp_path / "pool"))
    expected = [pool.query(batch).numpy() for batch in constant_batches(6, 20)]
    resumed = ImagePool(4, (2, 2, 1), seed=7)
    tf.train.Checkpoint(pool=resumed).restore(path).assert_existing_objects_matched()
    np.testing.assert_array_equal(resumed.count.numpy(), 4)
    resumed_out = [resumed.query(batch).numpy() for batch in constant_batches(6, 20)]
    np.testing.assert_array_equal(np.stack(resumed_out), np.stack(expected))  # Same buffer and same RNG state.


def test_pool_of_size_zero_passes_images_through():
    pool = ImagePool(0)
    batch = np.ones((2, 4, 4, 3), "float32")
    np.testing.assert_array_equal(pool.query(batch), batch)
    assert not pool.weights
    with pytest.raises(ValueError, match="Received: size=3, image_shape=()"):
        ImagePool(3)


# ---------------------------------------------------------------- CycleGAN
def test_tiny_fit_has_finite_losses_and_learns_the_cycle(tmp_path):
    gan = cyclegan()
    gan.compile(g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5))
    gan.build_optimizers()  # Slots made up front: the step is traced once, not twice.
    d_before = [w.numpy().copy() for w in gan.discriminator_variables]
    history = gan.fit(domains(), epochs=3, verbose=0).history
    assert set(history) == {"g_loss", "g_gan", "cycle", "identity", "d_a", "d_b"}
    assert all(np.isfinite(values).all() for values in history.values())
    assert history["cycle"][-1] < 0.8 * history["cycle"][0]  # Epoch means over 10 steps each.
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(d_before, gan.discriminator_variables))
    assert int(gan.step.numpy()) == 30 and int(gan.g_optimizer.iterations) == 30 and int(gan.d_optimizer.iterations) == 30
    assert int(gan.pool_a.count.numpy()) == 4 and int(gan.pool_b.count.numpy()) == 4
    assert set(gan.evaluate(domains(4), verbose=0, return_dict=True)) == {"cycle"}
    out = gan({"a": squares(2, False, 5), "b": squares(1, True, 6)})
    assert out["a_to_b"].shape == (2, SIZE, SIZE, 3) and out["b_to_a"].shape == (1, SIZE, SIZE, 3)
    assert set(gan({"b": squares(1, True, 6)})) == {"b_to_a"}
    # A resumed run gets back the networks, optimizers, step and pools.
    path = training_checkpoint(gan).save(str(tmp_path / "ckpt"))  # The trainer's own checkpoint.
    resumed = CycleGAN.from_config(gan.get_config())
    resumed.compile()
    resumed.build_optimizers()
    training_checkpoint(resumed).restore(path).assert_existing_objects_matched()
    assert int(resumed.step.numpy()) == 30 and int(resumed.d_optimizer.iterations) == 30
    for original, restored in zip(gan.networks, resumed.networks):
        assert all(np.array_equal(a, b) for a, b in zip(original.get_weights(), restored.get_weights()))
    np.testing.assert_array_equal(resumed.pool_b.images.numpy(), gan.pool_b.images.numpy())


def test_identity_weight_zero_skips_the_identity_term():
    gan = cyclegan(lambda_identity=0.0, pool_size=0, loss="non_saturating")
    gan.compile(run_eagerly=True)  # The graph-mode step is covered by the fit test (tracing takes seconds).
    logs = gan.train_on_batch(next(iter(domains(2))), return_dict=True)
    assert logs["identity"] == 0.0 and np.isfinite(logs["g_loss"]) and np.isfinite(logs["d_a"])


def test_config_and_keras_file_round_trip(tmp_path):
    gan = cyclegan(lambda_cycle=5.0, lambda_identity=0.1, pool_size=3, seed=4)
    clone = CycleGAN.from_config(gan.get_config())
    for name in ("lambda_cycle", "lambda_identity", "pool_size", "loss_name", "seed"):
        assert getattr(clone, name) == getattr(gan, name)
    assert clone.pool_b.size == 3 and clone.pool_b.image_shape == (SIZE, SIZE, 3)
    for original, copy in zip(gan.networks, clone.networks):
        assert copy.name == original.name and copy.count_params() == original.count_params()
        copy.set_weights(original.get_weights())
    batch = {"a": squares(2, False, 3)}
    np.testing.assert_allclose(clone(batch)["a_to_b"], gan(batch)["a_to_b"], atol=1e-6)
    gan.compile()
    gan.build_optimizers()
    gan.pool_a.images.assign(np.full(gan.pool_a.images.shape, 0.5, "float32"))
    gan.save(tmp_path / "cyclegan.keras")
    loaded = keras.saving.load_model(tmp_path / "cyclegan.keras")
    assert isinstance(loaded, CycleGAN) and isinstance(loaded.d_optimizer, keras.optimizers.Adam)
    np.testing.assert_array_equal(loaded.pool_a.images.numpy(), gan.pool_a.images.numpy())
    np.testing.assert_array_equal(loaded(batch)["a_to_b"], gan(batch)["a_to_b"])


def test_bad_batches_and_arguments_say_what_was_received():
    gan = cyclegan()
    with pytest.raises(ValueError, match="Missing: \\['b'\\]"):
        gan._split({"a": squares(1, False, 0)})
    with pytest.raises(ValueError, match="'a' and/or 'b'"):
        gan({"image": squares(1, False, 0)})
    with pytest.raises(ValueError, match="loss='hinge'"):
        cyclegan(loss="hinge")
    with pytest.raises(ValueError, match="lambda_cycle=-1"):
        cyclegan(lambda_cycle=-1)


def test_mixed_bfloat16_train_step_keeps_float32_outputs():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        gan = cyclegan()
        gan.compile(run_eagerly=True)
        assert gan.generator_ab.get_layer("block1_1_conv").compute_dtype == "bfloat16"
        logs = gan.train_on_batch(next(iter(domains(2))), return_dict=True)
        out = gan({"a": squares(2, False, 0), "b": squares(2, True, 0)})
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(value) for value in logs.values())
    assert out["a_to_b"].dtype == "float32" and out["b_to_a"].dtype == "float32"
    assert gan.discriminator_a(squares(1, False, 0)).dtype == "float32"
    assert not isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)  # bfloat16 needs no loss scaling.
