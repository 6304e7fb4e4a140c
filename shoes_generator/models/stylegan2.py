"""The StyleGAN2 networks (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN"),
config-E/F layout with stylegan2-ada's conditioning, scaled by configuration.

- Mapping: ``z`` (and label embeddings, as in stylegan2-ada's conditional mapping) through
  equalized-lr dense layers with lr multiplier 0.01 -> ``w``.
- Synthesis: a learned 4x4 constant, modulated/demodulated 3x3 convs with per-pixel noise,
  skip architecture (a toRGB at every resolution, FIR-upsampled and summed).
- Discriminator: residual architecture, minibatch stddev, a projection head for labels.

What is scaled down: widths come from ``min(channel_base // resolution, channel_max)``
(the paper: 32768 and 512; here 16384 by default), the mapping depth and widths are
arguments, and there is no fp16 conv clamping, path-length or style-mixing logic (the
training wrapper owns truncation, mixing and the w average). Layers: stylegan2_layers.py.
"""

from __future__ import annotations

import math
from typing import Mapping

import keras

from shoes_generator.models.blocks import num_doublings
from shoes_generator.models.stylegan2_layers import (
    BiasActivation,
    ConstantInput,
    EqualizedConv2D,
    EqualizedDense,
    FIRUpsample2D,
    GroupedMinibatchStdDev,
    ModulatedConv2D,
    NoiseInjection,
    Normalize2ndMoment,
    ToRGB,
    WSlice,
)


def num_ws(image_size: int) -> int:
    """Number of w vectors the synthesis network takes: ``2 * log2(image_size) - 2`` (32 px -> 8, 256 -> 14).

    Raises:
        ValueError: `image_size` is not a power of two >= 8.
    """
    return 2 * (num_doublings(image_size) + 2) - 2


def _channels(resolution: int, channel_base: int, channel_max: int) -> int:
    return max(1, min(channel_base // resolution, channel_max))


def _check_widths(channel_base: int, channel_max: int) -> None:
    if channel_base < 1 or channel_max < 1:
        raise ValueError(
            f"channel_base and channel_max must be positive. Received: channel_base={channel_base}, channel_max={channel_max}"
        )


def _label_inputs(label_sizes: Mapping[str, int]) -> dict[str, keras.KerasTensor]:
    """One named int32 ``[B]`` input per label, in `label_sizes` order (none for no labels)."""
    for label, size in label_sizes.items():
        if size < 1:
            raise ValueError(f"Vocabulary {label!r} must have at least one value. Received: size={size}")
    return {label: keras.Input(shape=(), dtype="int32", name=label) for label in label_sizes}


def _label_embedding(labels, label_sizes, units: int, dtype, use_bias: bool):
    """Each label one-hot through an equalized dense layer, summed over vocabularies, normalized."""
    embeddings = []
    for label, ids in labels.items():
        column = keras.layers.Reshape((1,), name=f"{label}_column", dtype=dtype)(ids)
        one_hot = keras.layers.CategoryEncoding(label_sizes[label], output_mode="one_hot", name=f"{label}_one_hot", dtype=dtype)(column)
        embeddings.append(EqualizedDense(units, use_bias=use_bias, name=f"{label}_embed", dtype=dtype)(one_hot))
    summed = keras.layers.Add(name="label_embed", dtype=dtype)(embeddings) if len(embeddings) > 1 else embeddings[0]
    return Normalize2ndMoment(name="label_norm", dtype=dtype)(summed)


def build_mapping_network(
    label_sizes: Mapping[str, int],
    latent_dim: int = 512,
    w_dim: int = 512,
    depth: int = 8,
    embed_dim: int | None = None,
    lr_multiplier: float = 0.01,
    dtype=None,
    name: str = "mapping",
) -> keras.Model:
    """StyleGAN2's mapping network: ``{"z": [B, latent_dim], <label>: int32 [B]} -> w [B, w_dim]`` (float32).

    ``z`` is normalized to unit second moment; each label's one-hot goes through an equalized
    dense layer (``embed_dim`` features), the embeddings are summed, normalized and joined to
    ``z`` (stylegan2-ada); then `depth` equalized dense layers with leaky ReLU and
    `lr_multiplier`. ``w`` is not broadcast to ``num_ws``.

    Args:
        label_sizes: label name -> vocabulary size (``{}``: unconditional, still a dict input).
        latent_dim: size of ``z``.
        w_dim: size of ``w`` and of the hidden layers.
        depth: dense layers.
        embed_dim: label embedding size (default `w_dim`).
        lr_multiplier: learning-rate multiplier of the dense layers.
        dtype: layer dtype policy; ``w`` stays float32.
        name: model name.
    """
    if latent_dim < 1 or w_dim < 1 or depth < 1:
        raise ValueError(f"latent_dim, w_dim and depth must be positive. Received: latent_dim={latent_dim}, w_dim={w_dim}, depth={depth}")
    z = keras.Input(shape=(latent_dim,), dtype="float32", name="z")
    labels = _label_inputs(label_sizes)
    x = Normalize2ndMoment(name="z_norm", dtype=dtype)(z)
    if labels:
        embedded = _label_embedding(labels, label_sizes, embed_dim or w_dim, dtype, use_bias=True)
        x = keras.layers.Concatenate(name="z_and_labels", dtype=dtype)([x, embedded])
    for index in range(depth):
        x = EqualizedDense(w_dim, lr_multiplier=lr_multiplier, activation="lrelu", name=f"fc{index}", dtype=dtype)(x)
    w = keras.layers.Activation("linear", name="w", dtype="float32")(x)
    return keras.Model({"z": z, **labels}, w, name=name)


def _styled_conv(x, w, filters: int, name: str, dtype, up: bool = False):
    """Modulated 3x3 conv, noise, bias and leaky ReLU (one synthesis layer)."""
    x = ModulatedConv2D(filters, 3, up=up, name=name, dtype=dtype)([x, w])
    x = NoiseInjection(name=f"{name}_noise", dtype=dtype)(x)
    return BiasActivation("lrelu", name=f"{name}_act", dtype=dtype)(x)


def build_synthesis_network(
    image_size: int,
    channels: int = 3,
    w_dim: int = 512,
    channel_base: int = 16384,
    channel_max: int = 512,
    dtype=None,
    name: str = "synthesis",
) -> keras.Model:
    """StyleGAN2's synthesis network: ``{"w": [B, num_ws, w_dim]} -> image [B, S, S, channels]``
    (float32, unclipped).

    A learned 4x4 constant; at 4 px one modulated 3x3 conv, at each later resolution an
    upsampling modulated conv and a modulated conv; every conv adds noise (random with
    ``training=True``, a stored buffer otherwise), a bias and leaky ReLU. Skip architecture:
    a toRGB at each resolution, the running image FIR-upsampled and added. Width at
    resolution r: ``min(channel_base // r, channel_max)``.

    w layout (``L = log2(S) - 2``, ``num_ws = 2 L + 2``): ``w[:, 0]`` the 4 px conv, ``w[:, 1]``
    the 4 px toRGB; resolution ``4 * 2^i`` (i >= 1) uses ``w[:, 2i - 1]`` (upsampling conv),
    ``w[:, 2i]`` (conv) and ``w[:, 2i + 1]`` (toRGB). Each toRGB shares its index with the next
    conv, so mixing at index k styles every layer from ``w[:, k]`` on with the second w.

    Args:
        image_size: output side, a power of two >= 8.
        channels: image channels.
        w_dim: size of each w.
        channel_base: widths' numerator.
        channel_max: widest layer.
        dtype: layer dtype policy; the image stays float32 (the toRGB sum runs in float32).
        name: model name.
    """
    _check_widths(channel_base, channel_max)
    count = num_ws(image_size)
    w_input = keras.Input(shape=(count, w_dim), dtype="float32", name="w")
    ws = [WSlice(index, name=f"w{index}", dtype="float32")(w_input) for index in range(count)]

    def width(resolution):
        return _channels(resolution, channel_base, channel_max)

    x = ConstantInput(width(4), name="const", dtype=dtype)(w_input)
    x = _styled_conv(x, ws[0], width(4), "b4_conv1", dtype)
    image = ToRGB(channels, name="b4_torgb", dtype=dtype)([x, ws[1]])
    resolution = 4
    for block in range(1, count // 2):
        resolution *= 2
        prefix = f"b{resolution}"
        x = _styled_conv(x, ws[2 * block - 1], width(resolution), f"{prefix}_conv0", dtype, up=True)
        x = _styled_conv(x, ws[2 * block], width(resolution), f"{prefix}_conv1", dtype)
        rgb = ToRGB(channels, name=f"{prefix}_torgb", dtype=dtype)([x, ws[2 * block + 1]])
        image = FIRUpsample2D(name=f"{prefix}_image_up", dtype="float32")(image)
        image = keras.layers.Add(name=f"{prefix}_image", dtype="float32")([image, rgb])
    image = keras.layers.Activation("linear", name="image", dtype="float32")(image)
    return keras.Model({"w": w_input}, image, name=name)


def build_stylegan_discriminator(
    image_size: int,
    channels: int = 3,
    label_sizes: Mapping[str, int] = {},  # noqa: B006 - read only
    channel_base: int = 16384,
    channel_max: int = 512,
    mbstd_group: int = 4,
    cmap_dim: int | None = None,
    dtype=None,
    name: str = "discriminator",
) -> keras.Model:
    """StyleGAN2's residual discriminator: ``{"image": [B, S, S, C], <label>: int32 [B]} -> logit [B, 1]`` (float32).

    fromRGB (1x1) at the top resolution; per block a 3x3 conv, a downsampling 3x3 conv and a
    downsampled 1x1 skip, summed and scaled by ``1/sqrt(2)``; at 4x4 minibatch stddev
    (`GroupedMinibatchStdDev`: group ``min(mbstd_group, B)``, or the largest divisor of B below
    it), a 3x3 conv, a dense layer and the output. Unconditional: a dense layer to one logit.
    With labels (projection): a dense layer to ``cmap_dim`` features, the label embeddings
    (one per vocabulary, summed, normalized) to ``cmap_dim``, and
    ``logit = sum(features * cmap) / sqrt(cmap_dim)``.

    Args:
        image_size: input side, a power of two >= 8.
        channels: image channels.
        label_sizes: label name -> vocabulary size (``{}``: unconditional, still a dict input).
        channel_base: widths' numerator.
        channel_max: widest layer.
        mbstd_group: minibatch-stddev group size.
        cmap_dim: projection features (default: the 4x4 width).
        dtype: layer dtype policy; the output head and label embeddings run in float32.
        name: model name.
    """
    _check_widths(channel_base, channel_max)
    num_doublings(image_size)

    def width(resolution):
        return _channels(resolution, channel_base, channel_max)

    image = keras.Input(shape=(image_size, image_size, channels), dtype="float32", name="image")
    labels = _label_inputs(label_sizes)
    x = EqualizedConv2D(width(image_size), 1, activation="lrelu", name="from_rgb", dtype=dtype)(image)
    resolution = image_size
    while resolution > 4:
        prefix = f"b{resolution}"
        skip = EqualizedConv2D(width(resolution // 2), 1, down=True, use_bias=False, name=f"{prefix}_skip", dtype=dtype)(x)
        x = EqualizedConv2D(width(resolution), 3, activation="lrelu", name=f"{prefix}_conv0", dtype=dtype)(x)
        x = EqualizedConv2D(width(resolution // 2), 3, down=True, activation="lrelu", name=f"{prefix}_conv1", dtype=dtype)(x)
        x = keras.layers.Add(name=f"{prefix}_add", dtype=dtype)([skip, x])
        x = keras.layers.Rescaling(math.sqrt(0.5), name=f"{prefix}_out", dtype=dtype)(x)
        resolution //= 2
    x = GroupedMinibatchStdDev(mbstd_group, name="b4_mbstd", dtype=dtype)(x)
    x = EqualizedConv2D(width(4), 3, activation="lrelu", name="b4_conv", dtype=dtype)(x)
    x = keras.layers.Flatten(name="b4_flatten", dtype=dtype)(x)
    x = EqualizedDense(width(4), activation="lrelu", name="b4_fc", dtype=dtype)(x)
    if not labels:
        logit = EqualizedDense(1, name="out", dtype="float32")(x)
        logit = keras.layers.Activation("linear", name="logit", dtype="float32")(logit)
        return keras.Model({"image": image}, logit, name=name)
    cmap_dim = cmap_dim or width(4)
    features = EqualizedDense(cmap_dim, name="out", dtype="float32")(x)
    cmap = _label_embedding(labels, label_sizes, cmap_dim, "float32", use_bias=False)
    inner = keras.layers.Dot(axes=1, name="projection", dtype="float32")([features, cmap])
    logit = keras.layers.Rescaling(1.0 / math.sqrt(cmap_dim), name="logit", dtype="float32")(inner)
    return keras.Model({"image": image, **labels}, logit, name=name)
