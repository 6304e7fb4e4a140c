"""Learning-rate schedules."""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="shoes_generator")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linear decay to zero (pix2pix / CycleGAN's "linear" policy, in steps).

    ``lr(step) = initial_learning_rate * clip(1 - (step - constant_steps) / decay_steps, 0, 1)``:
    the rate holds for `constant_steps` (the reference's ``n_epochs``), then
    falls linearly to exactly 0 at ``constant_steps + decay_steps`` (its
    ``n_epochs_decay``) and stays there. The reference updates once per epoch
    and divides by ``n_epochs_decay + 1``, so its last epoch still trains at
    ``1 / (n_epochs_decay + 1)`` of the rate; counted in steps the difference
    is one step's worth.

    Args:
        initial_learning_rate: the constant rate (pix2pix: 2e-4).
        constant_steps: steps at the full rate (>= 0).
        decay_steps: steps of the linear decay (>= 1).
        name: schedule name.
    """

    def __init__(self, initial_learning_rate: float, constant_steps: int, decay_steps: int, name: str = "linear_decay"):
        if initial_learning_rate < 0:
            raise ValueError(f"initial_learning_rate must be >= 0. Received: initial_learning_rate={initial_learning_rate}")
        if constant_steps < 0:
            raise ValueError(f"constant_steps must be >= 0. Received: constant_steps={constant_steps}")
        if decay_steps < 1:
            raise ValueError(f"decay_steps must be >= 1. Received: decay_steps={decay_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.constant_steps = int(constant_steps)
        self.decay_steps = int(decay_steps)
        self.name = name

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        progress = (step - float(self.constant_steps)) / float(self.decay_steps)
        return self.initial_learning_rate * tf.clip_by_value(1.0 - progress, 0.0, 1.0)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "constant_steps": self.constant_steps,
            "decay_steps": self.decay_steps,
            "name": self.name,
        }
