"""GAN inversion in ``W+``: the latent of a given photo, optimized inside the graph (exportable, core ops only).

Start: the average ``w`` of the label combination whose average shoe is nearest the photo
(every combination's centre is synthesized once; a conditional model's "ankle boot" centre
is already a boot). Then a fixed number of Adam steps on each layer's own ``w`` (``W+``,
Abdal et al. 2019, Image2StyleGAN) minimizing the mean squared pixel error. No encoder:
one would need its own training and a second network in every export, and on 32 px shoes
the nearest centre plus 100-200 steps already lands close (see the README's figures).
Each example's loss depends only on its own ``w``, so the result does not depend on the batch.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8
MAX_CENTRES = 256  # More label combinations than this: start from their mean instead of the nearest.


def nearest_centre(images: tf.Tensor, centres: tf.Tensor, synthesize: Callable, num_ws: int) -> tf.Tensor:
    """``[B, num_ws, w_dim]``: for each image, the centre (``[K, w_dim]``) whose synthesized shoe is nearest in L2."""
    if centres.shape[0] is not None and centres.shape[0] > MAX_CENTRES:
        centres = tf.reduce_mean(centres, axis=0, keepdims=True)
    candidates = synthesize(tf.tile(centres[:, None, :], [1, num_ws, 1]))  # [K, H, W, C]
    distance = tf.reduce_mean(tf.square(images[:, None] - candidates[None]), axis=[2, 3, 4])  # [B, K]
    chosen = tf.gather(centres, tf.argmin(distance, axis=1))
    return tf.tile(chosen[:, None, :], [1, num_ws, 1])


def invert_ws(images: tf.Tensor, synthesize: Callable, start: tf.Tensor, steps: int, learning_rate: float) -> tf.Tensor:
    """``W+`` latents reproducing `images`: `steps` Adam steps from `start` on the mean squared pixel error.

    Args:
        images: ``float32 [B, H, W, C]`` in [-1, 1].
        synthesize: ``[B, num_ws, w_dim]`` -> ``float32`` images (unclipped, so gradients do not vanish).
        start: ``[B, num_ws, w_dim]`` the first guess (`nearest_centre`).
        steps: Adam steps (a fixed count: the served cost is bounded).
        learning_rate: Adam's step size.
    """
    beta_1, beta_2 = ADAM_BETAS

    def step(i, w, m, v):
        with tf.GradientTape() as tape:
            tape.watch(w)
            error = tf.reduce_mean(tf.square(synthesize(w) - images), axis=[1, 2, 3])
            loss = tf.reduce_sum(error)  # A sum of per-example terms: each w gets only its own gradient.
        grad = tape.gradient(loss, w)
        m = beta_1 * m + (1.0 - beta_1) * grad
        v = beta_2 * v + (1.0 - beta_2) * tf.square(grad)
        t = tf.cast(i + 1, tf.float32)
        m_hat, v_hat = m / (1.0 - beta_1**t), v / (1.0 - beta_2**t)
        return i + 1, w - learning_rate * m_hat / (tf.sqrt(v_hat) + ADAM_EPSILON), m, v

    zeros = tf.zeros_like(start)
    _, w, _, _ = tf.while_loop(lambda i, *_: i < steps, step, (tf.constant(0), start, zeros, zeros), maximum_iterations=steps)
    return w
