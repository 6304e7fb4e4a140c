"""`Segmenter`: a segmentation network trained by `model.fit` on the run's ``{"image", "mask"}`` batches."""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.segmentation.metrics import MeanIoUFromLogits


def mask_classes(mask: tf.Tensor) -> tf.Tensor:
    """A batch's ``float [B, S, S, 1]`` mask channel -> ``int32 [B, S, S]`` class indices."""
    return tf.cast(tf.round(tf.squeeze(tf.cast(mask, tf.float32), -1)), tf.int32)


class Segmenter(keras.Model):
    """Wraps a network ``image [B, S, S, 3] in [-1, 1] -> logits [B, S, S, C]`` for the run trainer.

    Batches are the trainer's dicts (``"mask"`` a float channel of class indices,
    flipped and cropped with the image); plain ``(images, classes)`` tuples work
    too. Keras's own train step does the rest: per-pixel sparse cross-entropy on
    logits, the optimizer (loss-scaled under float16), pixel accuracy and mean
    IoU. `step` counts training steps for checkpoints and logs.

    Args:
        network: the segmentation network (see `shoes_generator.segmentation.models`).
        **kwargs: `keras.Model` arguments (e.g. ``name``).
    """

    def __init__(self, network: keras.Model, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.num_classes = int(network.output_shape[-1])
        self.step = keras.Variable(0, dtype="int64", trainable=False, name="step")

    def call(self, inputs, training=False):
        """Logits of a dict batch (its ``"image"``) or of an image tensor."""
        images = inputs["image"] if isinstance(inputs, dict) else inputs
        return self.network(images, training=training)

    def compile(self, optimizer=None, **kwargs):
        """Adam (1e-3 unless given), sparse cross-entropy on logits, pixel accuracy and mean IoU.

        Args:
            optimizer: the optimizer (default ``Adam(1e-3)``).
            **kwargs: more `keras.Model.compile` options (`jit_compile`, `steps_per_execution`, ...).
        """
        super().compile(
            optimizer=optimizer or keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy"), MeanIoUFromLogits(self.num_classes)],
            **kwargs,
        )

    def build_optimizers(self) -> None:
        """Creates the optimizer's slots now, so a checkpoint restores into them."""
        self.optimizer.build(self.network.trainable_variables)

    def checkpoint_objects(self, optimizers: bool = True) -> dict:
        """Everything a resumed run restores: the network, the step and (unless `optimizers` is False) the optimizer."""
        return {"step": self.step, "network": self.network, **({"optimizer": self.optimizer} if optimizers else {})}

    @staticmethod
    def _pair(data):
        if isinstance(data, dict):
            return data["image"], mask_classes(data["mask"])
        return data

    def train_step(self, data):
        self.step.assign_add(1)
        return super().train_step(self._pair(data))

    def test_step(self, data):
        return super().test_step(self._pair(data))
