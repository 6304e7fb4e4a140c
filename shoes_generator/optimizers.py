"""`FusedAdam`: Keras's Adam with each variable's update as one TensorFlow kernel.

Keras 3's Adam updates a variable with a dozen element-wise ops (two moment updates, a square
root, a division, three assignments, ...), each a full pass over the variable's memory. On a CPU
the update is memory-bound: at pix2pix's batch of one at 256 px (13.8 million weights), its passes
took about 25 of the step's 141 ms on one core. TensorFlow's `ResourceApplyAdam` does the same
arithmetic in one pass (``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``,
``w -= lr_t m / (sqrt(v) + eps)`` with ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``, Keras's own
formula): measured on one core of this machine, 29 ms against 14 ms per update of 16.8 million
float32 weights (``benchmarks/efficiency.py --compare-unfused`` times whole steps both ways).

Its variables, config and checkpoints are Adam's; `amsgrad` falls back to Keras's update.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable (this replica's inside a strategy's update)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle


@keras.saving.register_keras_serializable(package="shoes_generator")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, each variable updated by one `ResourceApplyAdam` kernel (same arguments)."""

    def update_step(self, gradient, variable, learning_rate):
        """One Adam update of `variable` by `gradient` (Keras's formula, fused).

        Args:
            gradient: the variable's gradient (dense, or `tf.IndexedSlices` made dense).
            variable: the variable (a `tf.Variable`, this replica's component under a strategy).
            learning_rate: the current learning rate.
        """
        if self.amsgrad:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        cast = lambda value: tf.cast(value, dtype)
        step = cast(self.iterations + 1)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=tf.pow(cast(self.beta_1), step),
            beta2_power=tf.pow(cast(self.beta_2), step),
            lr=cast(learning_rate),
            beta1=cast(self.beta_1),
            beta2=cast(self.beta_2),
            epsilon=cast(self.epsilon),
            grad=cast(tf.convert_to_tensor(gradient)),
            use_locking=False,
        )
