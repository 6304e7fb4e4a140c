"""Dropout masks per example of the global batch, so N replicas drop what one process drops."""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.gans.adversarial import replica_share


class ReplicaDropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose mask of example j of a global batch is the same whatever the replica count.

    Under N replicas every replica draws the mask of the whole global batch (its seed state mirrored, so
    all draw alike: the mask one process draws for that batch) and keeps its own rows. With one replica,
    outside training, or with a ``noise_shape``, it is `keras.layers.Dropout` itself.
    `shoes_generator.distribute.strategy.Worker.prepare` turns a model's Dropout layers into these for a
    run of several replicas; nothing else uses them, so models, checkpoints and exports are unchanged.
    """

    def call(self, inputs, training=False):
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync if context is not None else 1
        if not training or self.rate == 0 or self.noise_shape is not None or replicas == 1:
            return super().call(inputs, training=training)
        inner = tf.shape(inputs)[1:]
        ones = lambda rows: tf.ones(tf.concat([[rows], inner], axis=0), inputs.dtype)  # noqa: E731
        mask = replica_share(lambda rows: super(ReplicaDropout, self).call(ones(rows), training=True), tf.shape(inputs)[0])
        return inputs * mask
