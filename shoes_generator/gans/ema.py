"""Exponential moving average of a model's weights (for the generator's samples and export)."""

from __future__ import annotations

import keras
import tensorflow as tf


def clone_for_ema(model: keras.Model) -> keras.Model:
    """A copy of `model` (same graph, weights copied) to hold the averaged weights."""
    ema = keras.models.clone_model(model)
    ema.set_weights(model.get_weights())
    # Left trainable (no optimizer ever sees it): a non-trainable BatchNorm would
    # ignore training=True, and its statistics must be recomputable.
    return ema


def ema_update(ema: keras.Model, model: keras.Model, decay: float, step: tf.Tensor) -> None:
    """``ema = d * ema + (1 - d) * model`` with warm-up ``d = min(decay, (1 + t) / (10 + t))``.

    Non-trainable weights (BatchNorm moving statistics) are left alone: they
    belong to the live weights; `GAN.refresh_sampler_statistics` recomputes
    the averaged model's own before samples are drawn or exported.

    Args:
        ema: the averaged copy.
        model: the trained model.
        decay: the target decay.
        step: the number of updates so far.
    """
    step = tf.cast(step, tf.float32)
    d = tf.minimum(tf.constant(decay, tf.float32), (1.0 + step) / (10.0 + step))
    for target, source in zip(ema.trainable_weights, model.trainable_weights):
        target.assign(d * target.value + (1.0 - d) * tf.convert_to_tensor(source.value))
