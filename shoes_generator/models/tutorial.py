"""The TensorFlow tutorials' networks, baselines of the speed benchmarks: the DCGAN tutorial's 28x28
generator and discriminator, and the pix2pix tutorial's 256x256 U-Net and PatchGAN."""

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


def _tutorial_down(x, filters: int, name: str, batch_norm: bool = True):
    init = keras.initializers.RandomNormal(0.0, 0.02)
    x = keras.layers.Conv2D(filters, 4, strides=2, padding="same", kernel_initializer=init, use_bias=False, name=name)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(name=f"{name}_lrelu")(x)


def build_tutorial_pix2pix_generator() -> keras.Model:
    """The pix2pix tutorial's U-Net: ``[B, 256, 256, 3] -> [B, 256, 256, 3]``.

    Encoder 64-128-256-512x5 (4x4 stride-2 convs, BatchNorm except the first,
    LeakyReLU), decoder 512x4-256-128-64 (transposed convs, BatchNorm, dropout
    0.5 in the first three, ReLU) with skips, a transposed conv to 3 + tanh.
    """
    init = keras.initializers.RandomNormal(0.0, 0.02)
    image = keras.Input((256, 256, 3), name="input")
    x, skips = image, []
    for index, filters in enumerate((64, 128, 256, 512, 512, 512, 512, 512)):
        x = _tutorial_down(x, filters, f"down{index + 1}", batch_norm=index > 0)
        skips.append(x)
    for index, (filters, skip) in enumerate(zip((512, 512, 512, 512, 256, 128, 64), reversed(skips[:-1]))):
        name = f"up{index + 1}"
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", kernel_initializer=init, use_bias=False, name=name)(x)
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
        if index < 3:
            x = keras.layers.Dropout(0.5, name=f"{name}_dropout")(x)
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
        x = keras.layers.Concatenate(name=f"{name}_skip")([x, skip])
    x = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same", kernel_initializer=init, name="last")(x)
    output = keras.layers.Activation("tanh", dtype="float32", name="output")(x)
    return keras.Model(image, output, name="tutorial_pix2pix_generator")


def build_tutorial_pix2pix_discriminator() -> keras.Model:
    """The pix2pix tutorial's PatchGAN: input and target ``[B, 256, 256, 3]`` -> logits ``[B, 30, 30, 1]``."""
    init = keras.initializers.RandomNormal(0.0, 0.02)
    source = keras.Input((256, 256, 3), name="input")
    target = keras.Input((256, 256, 3), name="target")
    x = keras.layers.Concatenate(name="pair")([source, target])
    for index, filters in enumerate((64, 128, 256)):
        x = _tutorial_down(x, filters, f"down{index + 1}", batch_norm=index > 0)
    x = keras.layers.ZeroPadding2D(name="pad1")(x)
    x = keras.layers.Conv2D(512, 4, strides=1, kernel_initializer=init, use_bias=False, name="conv")(x)
    x = keras.layers.BatchNormalization(name="conv_bn")(x)
    x = keras.layers.LeakyReLU(name="conv_lrelu")(x)
    x = keras.layers.ZeroPadding2D(name="pad2")(x)
    logits = keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=init, dtype="float32", name="logits")(x)
    return keras.Model([source, target], logits, name="tutorial_pix2pix_discriminator")
