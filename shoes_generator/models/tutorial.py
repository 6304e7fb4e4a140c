"""The TensorFlow DCGAN tutorial's 28x28 networks, the baseline of the speed benchmark."""

from __future__ import annotations

import keras


def build_tutorial_generator(latent_dim: int = 100, dtype: str | None = None) -> keras.Model:
    """``z [B, 100] -> [B, 28, 28, 1]``: Dense 7x7x256, then 5x5 transposed convs 128/64/1 with BatchNorm + LeakyReLU.

    Args:
        latent_dim: noise size.
        dtype: layer dtype policy; the tanh output stays float32.
    """
    z = keras.Input((latent_dim,), name="z")
    x = keras.layers.Dense(7 * 7 * 256, use_bias=False, name="project", dtype=dtype)(z)
    x = keras.layers.BatchNormalization(name="project_bn", dtype=dtype)(x)
    x = keras.layers.LeakyReLU(name="project_lrelu", dtype=dtype)(x)
    x = keras.layers.Reshape((7, 7, 256), name="to_map", dtype=dtype)(x)
    for name, filters, strides in (("up1", 128, 1), ("up2", 64, 2)):
        x = keras.layers.Conv2DTranspose(filters, 5, strides=strides, padding="same", use_bias=False, name=name, dtype=dtype)(x)
        x = keras.layers.BatchNormalization(name=f"{name}_bn", dtype=dtype)(x)
        x = keras.layers.LeakyReLU(name=f"{name}_lrelu", dtype=dtype)(x)
    x = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, name="to_image", dtype=dtype)(x)
    image = keras.layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(z, image, name="tutorial_generator")


def build_tutorial_discriminator(dtype: str | None = None) -> keras.Model:
    """``[B, 28, 28, 1] -> logit [B, 1]``: 5x5 stride-2 convs 64/128 with LeakyReLU and Dropout(0.3).

    Args:
        dtype: layer dtype policy; the logit stays float32.
    """
    image = keras.Input((28, 28, 1), name="image")
    x = image
    for name, filters in (("down1", 64), ("down2", 128)):
        x = keras.layers.Conv2D(filters, 5, strides=2, padding="same", name=name, dtype=dtype)(x)
        x = keras.layers.LeakyReLU(name=f"{name}_lrelu", dtype=dtype)(x)
        x = keras.layers.Dropout(0.3, name=f"{name}_dropout", dtype=dtype)(x)
    x = keras.layers.Flatten(name="flatten", dtype=dtype)(x)
    logit = keras.layers.Dense(1, name="logit", dtype="float32")(x)
    return keras.Model(image, logit, name="tutorial_discriminator")
