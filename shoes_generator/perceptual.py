"""`VGGLoss`: pix2pixHD's / SPADE's perceptual loss on VGG19 features, needing the ImageNet weights.

The loss is ``sum_i w_i * L1(vgg_i(fake), vgg_i(real))`` over the relu outputs of ``block1_conv1`` ...
``block5_conv1`` with weights 1/32, 1/16, 1/8, 1/4, 1. Keras loads the weights from
``~/.keras/models/`` or downloads them; offline, with no file there, building the loss fails
with a message saying how to provide them (the families train without it by default).
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

VGG_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
VGG_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
VGG_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG_WEIGHTS_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/vgg19/{VGG_WEIGHTS_FILE}"


class VGGLoss:
    """The VGG19 feature-matching loss between generated and real images in [-1, 1].

    Args:
        weights_path: the Keras notop VGG19 weights file; default ``weights="imagenet"`` (found in or
            downloaded to ``~/.keras/models/``).

    Raises:
        RuntimeError: the weights could not be loaded; the message says how to provide them.
    """

    def __init__(self, weights_path: str | Path | None = None):
        if weights_path is not None and not Path(weights_path).is_file():
            raise RuntimeError(self._advice(f"the weights file {weights_path} does not exist"))
        try:
            vgg = keras.applications.VGG19(include_top=False, weights=str(weights_path) if weights_path else "imagenet")
        except Exception as error:  # Keras raises a bare Exception on a failed download.
            raise RuntimeError(self._advice(f"{type(error).__name__}: {error}")) from error
        vgg.trainable = False
        self.features = keras.Model(vgg.input, [vgg.get_layer(name).output for name in VGG_LAYERS], name="vgg19_features")

    @staticmethod
    def _advice(what: str) -> str:
        return (
            f"Could not load the VGG19 ImageNet weights for the perceptual loss ({what}). Put the Keras file "
            f"{VGG_WEIGHTS_FILE} (from {VGG_WEIGHTS_URL}) in ~/.keras/models/ on this machine, or train "
            "without it: --set model.vgg_weight=0 (model.l1_weight stands in for it)."
        )

    def __call__(self, fake, real) -> tf.Tensor:
        """The weighted L1 distance of the two batches' VGG features (float32 scalar; real features held fixed)."""

        def prepare(images):
            pixels = (tf.cast(images, tf.float32) + 1.0) * 127.5
            return keras.applications.vgg19.preprocess_input(pixels)

        fake_features = self.features(prepare(fake))
        real_features = self.features(prepare(real))
        return tf.add_n([
            weight * tf.reduce_mean(tf.abs(f - tf.stop_gradient(r))) for weight, f, r in zip(VGG_WEIGHTS, fake_features, real_features)
        ])
