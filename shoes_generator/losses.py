"""Adversarial losses, each a pair of discriminator and generator terms over logits.

All terms are batch means computed in float32. WGAN-GP's gradient penalty
needs the discriminator itself, so `gradient_penalty` is separate and the
`GAN` wrapper adds it when the loss asks for it.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class AdversarialLoss:
    """A named GAN objective.

    Attributes:
        name: registry name.
        discriminator: ``(real_logits, fake_logits) -> scalar``.
        generator: ``fake_logits -> scalar``.
        needs_gradient_penalty: WGAN-GP adds ``gp_weight * gradient_penalty``.
        score: logits -> what the logged ``d_real`` / ``d_fake`` mean: the probability of "real"
            for the non-saturating (logistic) loss; the raw output for the others, whose
            discriminators output no probability (least squares aims at 1 for real and 0 for
            fake, hinge at >= 1 and <= -1, a WGAN critic at any real-minus-fake gap).
    """

    name: str
    discriminator: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    generator: Callable[[tf.Tensor], tf.Tensor]
    needs_gradient_penalty: bool = False
    score: Callable[[tf.Tensor], tf.Tensor] = tf.identity


def _mean(x):
    return tf.reduce_mean(tf.cast(x, tf.float32))


LOSSES = {
    "non_saturating": AdversarialLoss(
        "non_saturating",
        discriminator=lambda real, fake: _mean(tf.nn.softplus(-real)) + _mean(tf.nn.softplus(fake)),
        generator=lambda fake: _mean(tf.nn.softplus(-fake)),
        score=tf.sigmoid,
    ),
    "hinge": AdversarialLoss(
        "hinge",
        discriminator=lambda real, fake: _mean(tf.nn.relu(1.0 - real)) + _mean(tf.nn.relu(1.0 + fake)),
        generator=lambda fake: -_mean(fake),
    ),
    "least_squares": AdversarialLoss(
        "least_squares",
        discriminator=lambda real, fake: 0.5 * (_mean(tf.square(real - 1.0)) + _mean(tf.square(fake))),
        generator=lambda fake: 0.5 * _mean(tf.square(fake - 1.0)),
    ),
    "wgan_gp": AdversarialLoss(
        "wgan_gp",
        discriminator=lambda real, fake: _mean(fake) - _mean(real),
        generator=lambda fake: -_mean(fake),
        needs_gradient_penalty=True,
    ),
}


def get_loss(name: str) -> AdversarialLoss:
    """The loss registered under `name`.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    if name not in LOSSES:
        raise ValueError(f"Unknown GAN loss. Expected one of {sorted(LOSSES)}. Received: loss={name!r}")
    return LOSSES[name]


def paired_labels(labels: dict, batch_size) -> dict:
    """The labels of the mode-seeking generator step: the second half of the batch repeats the first half's.

    Row ``i`` and row ``half + i`` (``half = batch_size // 2``) then share their labels; with an odd batch
    the last row keeps a label of its own (``labels[half]``) and pairs with none.

    Args:
        labels: label name -> ids ``[B]``.
        batch_size: ``B`` (a tensor in a traced step).
    """
    half = batch_size // 2
    return {name: tf.concat([value[:half], value[: batch_size - half]], axis=0) for name, value in labels.items()}


def mode_seeking_penalty(images: tf.Tensor, z: tf.Tensor) -> tf.Tensor:
    """MSGAN's term (Mao et al. 2019): ``1 / (mean_i |G(z1_i) - G(z2_i)| / |z1_i - z2_i| + 1e-5)``.

    Pairs row ``i`` with row ``half + i`` (the rows `paired_labels` gives the same labels); a generator
    whose output ignores the noise makes it large.

    Args:
        images: generated images ``[B, H, W, C]``.
        z: their noise ``[B, latent_dim]``.
    """
    half = tf.shape(z)[0] // 2
    images = tf.cast(images, tf.float32)
    image_gap = tf.reduce_mean(tf.abs(images[:half] - images[half : 2 * half]), axis=[1, 2, 3])
    noise_gap = tf.reduce_mean(tf.abs(z[:half] - z[half : 2 * half]), axis=1)
    return 1.0 / (tf.reduce_mean(image_gap / noise_gap) + 1e-5)


def gradient_penalty(
    critic: Callable[[tf.Tensor], tf.Tensor], real: tf.Tensor, fake: tf.Tensor, seed=None, scale: float = 1.0
) -> tf.Tensor:
    """WGAN-GP penalty ``E[(||grad critic(x_hat)||_2 - 1)^2]`` on random interpolates.

    Args:
        critic: image -> logits (labels already bound).
        real: real images ``[B, H, W, C]``.
        fake: generated images, same shape.
        seed: a ``keras.random.SeedGenerator`` or int for the mixing weights.
        scale: the logits are multiplied by `scale` inside the tape and the
            gradients divided by it, so float16 critics do not underflow.
    """
    import keras

    real = tf.cast(real, tf.float32)
    fake = tf.cast(fake, tf.float32)
    alpha = keras.random.uniform([tf.shape(real)[0], 1, 1, 1], seed=seed)
    mixed = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(mixed)
        logits = tf.cast(critic(mixed), tf.float32) * scale
    grads = tape.gradient(logits, mixed) / scale
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


def gaussian_kl(mu, logvar) -> tf.Tensor:
    """``[B]`` KL(N(mu, exp(logvar)) || N(0, 1)) of each example, summed over the latent (float32): a VAE encoder's term."""
    mu, logvar = tf.cast(mu, tf.float32), tf.cast(logvar, tf.float32)
    return -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mu) - tf.exp(logvar), axis=-1)
