"""The DCGAN generator and discriminator (Radford et al. 2016, PyTorch DCGAN layout).

Generator: z -> 4x4 transposed conv, then stride-2 transposed convs with
BatchNorm + ReLU, doubling the size up to `image_size`, tanh output.
Discriminator: stride-2 convs with BatchNorm (not on the first) + LeakyReLU(0.2),
down to 4x4, then a 4x4 valid conv to one logit. No batch size is fixed.
"""

from __future__ import annotations

import keras

from shoes_generator.models.blocks import conditional_batch_norm, dcgan_batch_norm, dcgan_conv_init, maybe_spectral, num_doublings


def generator_trunk(x, image_size: int, channels: int, base_filters: int, dtype=None, condition=None):
    """Vector ``[B, D]`` -> image ``[B, S, S, C]`` through the DCGAN upsampling stack.

    Args:
        x: the input vector (noise, possibly joined with label embeddings).
        image_size: output side, a power of two >= 8.
        channels: output channels.
        base_filters: feature maps of the last hidden block (ngf).
        dtype: layer dtype policy; the tanh output is float32.
        condition: label embeddings ``[B, E]``; when given, every BatchNorm
            is conditional (its scale and shift depend on the labels).
    """

    def norm(x, name):
        if condition is None:
            return dcgan_batch_norm(name, dtype)(x)
        return conditional_batch_norm(x, condition, name, dtype)

    doublings = num_doublings(image_size)
    filters = base_filters * 2 ** (doublings - 1)
    x = keras.layers.Reshape((1, 1, x.shape[-1]), name="z_to_map", dtype=dtype)(x)
    x = keras.layers.Conv2DTranspose(
        filters, 4, padding="valid", use_bias=False, kernel_initializer=dcgan_conv_init(), name="project", dtype=dtype
    )(x)
    x = norm(x, "project_bn")
    x = keras.layers.ReLU(name="project_relu", dtype=dtype)(x)
    for block in range(1, doublings):
        filters //= 2
        x = keras.layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=False, kernel_initializer=dcgan_conv_init(), name=f"up{block}", dtype=dtype
        )(x)
        x = norm(x, f"up{block}_bn")
        x = keras.layers.ReLU(name=f"up{block}_relu", dtype=dtype)(x)
    x = keras.layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", use_bias=False, kernel_initializer=dcgan_conv_init(), name="to_image", dtype=dtype
    )(x)
    return keras.layers.Activation("tanh", dtype="float32", name="image")(x)


def discriminator_trunk(image, base_filters: int, batch_norm: bool = True, spectral_norm: bool = False, dtype=None):
    """Image ``[B, S, S, C]`` -> ``[B, 4, 4, F]`` features through stride-2 convs.

    Args:
        image: the input image tensor (side a power of two >= 8).
        base_filters: feature maps of the first block (ndf); doubled per block.
        batch_norm: BatchNorm after every conv but the first (DCGAN).
        spectral_norm: wrap convs in SpectralNormalization.
        dtype: layer dtype policy.
    """
    x = image
    filters = base_filters
    for block in range(num_doublings(int(image.shape[1]))):
        conv = keras.layers.Conv2D(
            filters, 4, strides=2, padding="same", use_bias=not batch_norm, kernel_initializer=dcgan_conv_init(), name=f"down{block}", dtype=dtype
        )
        x = maybe_spectral(conv, spectral_norm)(x)
        if batch_norm and block > 0:
            x = dcgan_batch_norm(f"down{block}_bn", dtype)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"down{block}_lrelu", dtype=dtype)(x)
        filters *= 2
    return x


def build_dcgan_generator(
    latent_dim: int = 100,
    image_size: int = 64,
    channels: int = 3,
    base_filters: int = 64,
    dtype: str | None = None,
    name: str = "generator",
) -> keras.Model:
    """The DCGAN generator: ``z [B, latent_dim] -> image [B, S, S, C]`` in ``[-1, 1]``.

    Args:
        latent_dim: size of the noise vector (nz).
        image_size: output side, a power of two >= 8.
        channels: output channels (nc).
        base_filters: feature maps of the last hidden block (ngf).
        dtype: layer dtype policy (e.g. "mixed_bfloat16"); the output stays float32.
        name: model name.
    """
    z = keras.Input(shape=(latent_dim,), name="z")
    return keras.Model(z, generator_trunk(z, image_size, channels, base_filters, dtype), name=name)


def build_dcgan_discriminator(
    image_size: int = 64,
    channels: int = 3,
    base_filters: int = 64,
    dtype: str | None = None,
    name: str = "discriminator",
) -> keras.Model:
    """The DCGAN discriminator: ``image [B, S, S, C] -> logit [B, 1]`` (float32).

    Args:
        image_size: input side, a power of two >= 8.
        channels: input channels.
        base_filters: feature maps of the first block (ndf).
        dtype: layer dtype policy; the logit stays float32.
        name: model name.
    """
    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    x = discriminator_trunk(image, base_filters, batch_norm=True, dtype=dtype)
    x = keras.layers.Conv2D(1, 4, padding="valid", use_bias=False, kernel_initializer=dcgan_conv_init(), name="to_logit", dtype=dtype)(x)
    logit = keras.layers.Flatten(name="logit", dtype="float32")(x)
    return keras.Model(image, logit, name=name)
