"""`SPADEGAN`: its losses against hand-computed values, what a step updates, and that it learns a tiny set."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.gans.spade import SPADEGAN, hinge_d_loss, kl_divergence
from shoes_generator.models.spade import (
    build_multiscale_discriminator,
    build_spade_generator,
    build_style_encoder,
    discriminator_outputs_per_scale,
)

SIZE, CLASSES, Z = 16, 3, 8


def tiny_gan(**weights) -> SPADEGAN:
    generator = build_spade_generator(SIZE, CLASSES, base_filters=4, z_dim=Z, hidden=8, spectral=False)
    discriminator = build_multiscale_discriminator(SIZE, CLASSES, base_filters=4, n_layers=2, num_scales=2)
    encoder = build_style_encoder(SIZE, base_filters=4, z_dim=Z)
    gan = SPADEGAN(generator, discriminator, encoder, discriminator_outputs_per_scale(2), **weights)
    gan.compile(tf.keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9), tf.keras.optimizers.Adam(4e-3, beta_1=0.0, beta_2=0.9))
    gan.build_optimizers()
    return gan


def tiny_batch(count=4, seed=0) -> dict:
    """Shoes as blocks: the block's class decides its colour, so the photo follows from the map."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((count, SIZE, SIZE), np.int64)
    for index in range(count):
        top, left = rng.integers(2, 8, 2)
        masks[index, top : top + 6, left : left + 6] = 1 + index % 2
    palette = np.array([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0], [-1.0, -1.0, 1.0]], np.float32)
    return {"image": tf.constant(palette[masks]), "mask": tf.constant(masks[..., None].astype(np.float32))}


def test_losses_match_their_formulas():
    real, fake = np.array([2.0, 0.5, -1.0]), np.array([-2.0, 0.0, 1.5])
    expected = np.maximum(0, 1 - real).mean() + np.maximum(0, 1 + fake).mean()
    assert float(hinge_d_loss(real, fake)) == pytest.approx(expected)
    mu, logvar = np.array([[0.5, -1.0]], np.float32), np.array([[0.2, -0.3]], np.float32)
    kl = -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar))
    assert float(kl_divergence(mu, logvar)) == pytest.approx(kl, rel=1e-5)
    assert float(kl_divergence(np.zeros((2, 3)), np.zeros((2, 3)))) == 0.0


def test_feature_matching_is_zero_for_equal_features_and_ignores_the_logits():
    gan = tiny_gan()
    scales = gan._judge(tiny_batch()["image"], gan.one_hot(tiny_batch()["mask"]))
    assert float(gan.feature_matching(scales, scales)) == 0.0
    other = [[f + 1.0 for f in scale[:-1]] + [scale[-1] + 5.0] for scale in scales]
    assert float(gan.feature_matching(other, scales)) == pytest.approx(2.0)  # Two feature layers per scale, mean over scales.


def test_a_step_updates_generator_encoder_and_discriminator_and_draws_from_the_checkpointed_rng():
    gan = tiny_gan(lambda_l1=1.0)
    before = {name: [v.numpy().copy() for v in getattr(gan, name).trainable_variables] for name in gan.NETWORK_KEYS}
    state = gan.noise_seed.state.numpy().copy()
    logs = gan.train_step(tiny_batch())
    assert set(logs) == {"d_loss", "g_hinge", "g_feat", "g_kld", "g_l1"} and all(np.isfinite(float(v)) for v in logs.values())
    for name in gan.NETWORK_KEYS:
        moved = [not np.array_equal(b, v.numpy()) for b, v in zip(before[name], getattr(gan, name).trainable_variables)]
        assert all(moved), f"{name}: {moved.count(False)} variables did not move"
    assert not np.array_equal(state, gan.noise_seed.state.numpy())
    assert "noise_seed" in gan.checkpoint_objects() and int(gan.step.numpy()) == 1


def test_it_learns_the_photos_of_its_maps():
    gan = tiny_gan(lambda_l1=10.0)
    batch = tiny_batch()
    step = tf.function(gan.train_step)
    first = float(gan.test_step(batch)["l1"])
    for _ in range(60):
        step(batch)
    gan.trackers["l1"].reset_state()
    assert float(gan.test_step(batch)["l1"]) < 0.5 * first


def test_bad_arguments_are_refused_with_what_was_received():
    generator = build_spade_generator(8, 2, base_filters=2, z_dim=4, hidden=4, spectral=False)
    discriminator = build_multiscale_discriminator(8, 2, base_filters=2, n_layers=2, num_scales=1)
    encoder = build_style_encoder(8, base_filters=2, z_dim=4)
    with pytest.raises(ValueError, match="lambda_kld"):
        SPADEGAN(generator, discriminator, encoder, 3, lambda_kld=-1.0)
    with pytest.raises(ValueError, match="do not split into scales of 2"):
        SPADEGAN(generator, discriminator, encoder, 2)
    with pytest.raises(ValueError, match="needs a perceptual loss"):
        SPADEGAN(generator, discriminator, encoder, 3, lambda_vgg=10.0)
    with pytest.raises(ValueError, match="too small for 2 scales of 4 layers"):
        build_multiscale_discriminator(8, 2, n_layers=4, num_scales=2)
    with pytest.raises(ValueError, match="num_classes"):
        build_spade_generator(8, 1)


def test_the_vgg_loss_fails_offline_with_how_to_provide_the_weights(tmp_path):
    from shoes_generator.perceptual import VGGLoss

    with pytest.raises(RuntimeError, match="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5.*model.vgg_weight=0"):
        VGGLoss(weights_path=tmp_path / "missing.h5")
