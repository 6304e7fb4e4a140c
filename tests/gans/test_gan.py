"""The GAN fit wrapper: every loss trains, float16 scaling, EMA, test_step, save/reload."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.gans import GAN
from shoes_generator.gans.adversarial import scaled_loss
from shoes_generator.models.conditional import build_conditional_generator, build_projection_discriminator
from shoes_generator.models.dcgan import build_dcgan_discriminator, build_dcgan_generator

VOCAB = {"color": 11, "category": 3}


def batches(n=8, size=16, labelled=False):
    rng = np.random.default_rng(0)
    data = {"image": rng.uniform(-1, 1, (n, size, size, 3)).astype("float32")}
    if labelled:
        data.update(color=(np.arange(n) % 11).astype("int32"), category=(np.arange(n) % 3).astype("int32"))
    return tf.data.Dataset.from_tensor_slices(data).batch(4)


def dcgan(dtype=None, **kwargs):
    generator = build_dcgan_generator(latent_dim=8, image_size=16, base_filters=4, dtype=dtype)
    discriminator = build_dcgan_discriminator(image_size=16, base_filters=4, dtype=dtype)
    return GAN(generator, discriminator, latent_dim=8, **kwargs)


def conditional(**kwargs):
    generator = build_conditional_generator(VOCAB, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    discriminator = build_projection_discriminator(VOCAB, image_size=16, base_filters=4)
    return GAN(generator, discriminator, latent_dim=8, label_names=("color", "category"), **kwargs)


@pytest.mark.parametrize("loss", ["non_saturating", "hinge", "least_squares", "wgan_gp"])
def test_each_loss_updates_both_networks(loss):
    gan = dcgan(loss=loss)
    gan.compile()
    g_before = [w.numpy().copy() for w in gan.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in gan.discriminator.trainable_weights]
    history = gan.fit(batches(), epochs=1, verbose=0).history
    assert set(history) >= {"d_loss", "g_loss", "d_real", "d_fake", "gp"}
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert (history["gp"][-1] > 0) == (loss == "wgan_gp")
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(g_before, gan.generator.trainable_weights))
    assert any(not np.allclose(a, w.numpy()) for a, w in zip(d_before, gan.discriminator.trainable_weights))
    assert int(gan.g_optimizer.iterations) == 2 and int(gan.d_optimizer.iterations) == 2


def test_d_steps_runs_more_discriminator_updates():
    gan = dcgan(d_steps=2)
    gan.compile()
    gan.fit(batches(), epochs=1, verbose=0)
    assert int(gan.d_optimizer.iterations) == 4 and int(gan.g_optimizer.iterations) == 2


def test_float16_wraps_both_optimizers_and_stays_finite():
    gan = dcgan(dtype="mixed_float16")
    gan.compile()
    gan.build_optimizers()
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(gan.d_optimizer, keras.optimizers.LossScaleOptimizer)
    scale = float(gan.g_optimizer.dynamic_scale.numpy())
    assert scale > 1 and float(scaled_loss(gan.g_optimizer, tf.constant(2.0))) == pytest.approx(2.0 * scale)
    history = gan.fit(batches(), epochs=2, verbose=0).history
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()
    assert gan(np.zeros((2, 8), "float32")).dtype == "float32"
    assert int(gan.step.numpy()) == 4  # Counts every step, skipped float16 updates included.


def test_ema_generator_lags_the_trained_generator_and_serves_call():
    gan = dcgan(ema_decay=0.9)
    gan.compile()
    initial = [w.numpy().copy() for w in gan.ema_generator.trainable_weights]
    gan.fit(batches(), epochs=2, verbose=0)
    averaged = [w.numpy() for w in gan.ema_generator.trainable_weights]
    live = [w.numpy() for w in gan.generator.trainable_weights]
    assert any(not np.allclose(a, b) for a, b in zip(initial, averaged))  # The average moved ...
    assert any(not np.allclose(a, b) for a, b in zip(live, averaged))  # ... but lags the live weights.
    z = np.random.default_rng(1).normal(size=(2, 8)).astype("float32")
    ema_out, live_out = gan(z), gan.generator(z, training=False)
    assert not np.allclose(ema_out, live_out)
    np.testing.assert_allclose(ema_out, gan.ema_generator(z, training=False), atol=1e-6)


def test_test_step_reports_losses_without_training():
    gan = conditional()
    gan.compile()
    weights = [w.numpy().copy() for w in gan.weights if w.trainable]
    result = gan.evaluate(batches(labelled=True), verbose=0, return_dict=True)
    assert set(result) >= {"d_loss", "g_loss"} and np.isfinite(result["d_loss"])
    assert all(np.allclose(a, w.numpy()) for a, w in zip(weights, [w for w in gan.weights if w.trainable]))


def test_conditional_batches_must_carry_their_labels():
    gan = conditional()
    gan.compile()
    with pytest.raises(ValueError, match="Missing: \\['color', 'category'\\]"):
        gan.fit(batches(labelled=False), epochs=1, verbose=0)


def test_saved_wrapper_reloads_networks_and_both_optimizers(tmp_path):
    gan = conditional(loss="hinge", ema_decay=0.5)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.3), d_optimizer=keras.optimizers.RMSprop(5e-4))
    gan.fit(batches(labelled=True), epochs=1, verbose=0)
    path = tmp_path / "gan.keras"
    gan.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded, GAN) and loaded.loss_name == "hinge" and loaded.label_names == ("color", "category")
    assert isinstance(loaded.d_optimizer, keras.optimizers.RMSprop)
    assert float(loaded.g_optimizer.beta_1) == pytest.approx(0.3)
    assert int(loaded.g_optimizer.iterations) == 2
    inputs = {"z": np.ones((2, 8), "float32"), "color": np.array([3, 4], "int32"), "category": np.array([0, 1], "int32")}
    np.testing.assert_allclose(loaded(inputs), gan(inputs), atol=1e-5)


def test_bad_arguments_name_what_was_received():
    with pytest.raises(ValueError, match="loss='wasserstein'"):
        dcgan(loss="wasserstein")
    with pytest.raises(ValueError, match="ema_decay=1.5"):
        dcgan(ema_decay=1.5)


def test_refreshed_ema_statistics_belong_to_the_averaged_weights():
    gan = conditional(label_sizes={"color": 11, "category": 3}, ema_decay=0.9)
    gan.compile()
    gan.fit(batches(labelled=True), epochs=2, verbose=0)
    moving = lambda model: [w.numpy().copy() for w in model.non_trainable_weights if "moving_mean" in w.path]
    before, snapshot, live = moving(gan.ema_generator), gan.ema_generator.get_weights(), moving(gan.generator)
    gan.refresh_sampler_statistics(batches=5, batch_size=8)
    after = moving(gan.ema_generator)
    assert before and any(not np.allclose(a, b) for a, b in zip(before, after))
    assert live and all(np.array_equal(a, b) for a, b in zip(live, moving(gan.generator)))  # The live statistics are untouched.
    again = conditional(label_sizes={"color": 11, "category": 3}, ema_decay=0.9)
    again.ema_generator.set_weights(snapshot)
    again.refresh_sampler_statistics(batches=5, batch_size=8)
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(after, moving(again.ema_generator)))  # Seeded: repeatable.
    for weight in gan.ema_generator.non_trainable_weights:  # Whatever statistics were there before play no part.
        weight.assign(weight + 3.0)
    gan.refresh_sampler_statistics(batches=5, batch_size=8)
    assert all(np.array_equal(a, b) for a, b in zip(after, moving(gan.ema_generator)))


def test_mode_seeking_pairs_halves_under_the_same_labels():
    gan = conditional(mode_seeking=0.5)
    gan.compile()
    labels = {"color": tf.constant([1, 2, 3, 4, 5], tf.int32), "category": tf.constant([0, 1, 2, 0, 1], tf.int32)}
    state = gan.noise_seed.state.numpy()
    loss = float(gan._generator_loss(labels, 5, training=False))  # An odd batch: the last row pairs with none.
    gan.noise_seed.state.assign(state)
    z = gan._noise(5)
    paired = {"color": tf.constant([1, 2, 1, 2, 3]), "category": tf.constant([0, 1, 0, 1, 2])}  # Rows i and 2 + i share labels.
    fake = gan.generator({"z": z, **paired}, training=False)
    adversarial = gan.adversarial.generator(gan.discriminator({"image": fake, **paired}, training=False))
    image_gap = np.abs(fake[:2] - fake[2:4]).mean(axis=(1, 2, 3))
    noise_gap = np.abs(z[:2] - z[2:4]).mean(axis=1)
    assert loss == pytest.approx(float(adversarial) + 0.5 / ((image_gap / noise_gap).mean() + 1e-5), rel=1e-5)


def test_mode_seeking_trains_on_odd_batches():
    data = {"image": np.zeros((10, 16, 16, 3), "float32"), "color": np.arange(10, dtype="int32") % 11,
            "category": np.arange(10, dtype="int32") % 3}
    gan = conditional(mode_seeking=1.0)
    gan.compile()
    history = gan.fit(tf.data.Dataset.from_tensor_slices(data).batch(5), epochs=1, verbose=0).history
    assert np.isfinite(history["g_loss"][-1])


@pytest.mark.parametrize("loss, score", [("non_saturating", tf.sigmoid), ("hinge", tf.identity), ("least_squares", tf.identity),
                                         ("wgan_gp", tf.identity)])
def test_logged_discriminator_outputs_mean_what_the_loss_means(loss, score):
    gan = dcgan(loss=loss)
    real, fake = tf.constant([[3.0], [1.0]]), tf.constant([[-2.0], [-4.0]])
    logged = gan._track_losses(tf.constant(0.0), tf.constant(0.0), real, fake, tf.constant(0.0))
    assert float(logged["d_real"]) == pytest.approx(float(tf.reduce_mean(score(real))))
    assert float(logged["d_fake"]) == pytest.approx(float(tf.reduce_mean(score(fake))))


def test_decay_epochs_schedule_both_gan_optimizers():
    from shoes_generator.builders import build_model
    from shoes_generator.configs import get_preset, override
    from shoes_generator.schedules import LinearDecay

    config = override(get_preset("dcgan64_paper_tiny"), ["train.epochs=2", "train.decay_epochs=1"])
    gan = build_model(config, steps_per_epoch=10)
    for optimizer in (gan.g_optimizer, gan.d_optimizer):
        assert isinstance(optimizer._learning_rate, LinearDecay)
        assert float(optimizer._learning_rate(20)) == 0.0 and float(optimizer._learning_rate(5)) > 0.0
