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
    """

    name: str
    discriminator: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    generator: Callable[[tf.Tensor], tf.Tensor]
    needs_gradient_penalty: bool = False


def _mean(x):
    return tf.reduce_mean(tf.cast(x, tf.float32))


LOSSES = {
    "non_saturating": AdversarialLoss(
        "non_saturating",
        discriminator=lambda real, fake: _mean(tf.nn.softplus(-real)) + _mean(tf.nn.softplus(fake)),
        generator=lambda fake: _mean(tf.nn.softplus(-fake)),
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
