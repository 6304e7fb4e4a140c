"""The PatchGAN discriminator (pix2pix / CycleGAN; pytorch-CycleGAN-and-pix2pix's `NLayerDiscriminator`).

`n_layers` 4x4 stride-2 convs (C64 without norm, then C128, C256, ... capped at
8x), one 4x4 stride-1 conv, then a 4x4 stride-1 conv to one channel: a map of
logits, each judging one patch of the input. Every conv pads by 1 and then
runs "valid", as in the reference, so ``n_layers=3`` judges 70x70 patches and
gives a 30x30 map at 256 px. LeakyReLU(0.2) throughout; float32 logits.
"""

from __future__ import annotations

import keras

from shoes_generator.models.blocks import check_norm, dcgan_conv_init, norm_layer
from shoes_generator.models.unet import NORMS

KERNEL = 4
PADDING = 1


def _strides(n_layers: int) -> list[int]:
    """The strides of every conv, the logits conv included."""
    if not isinstance(n_layers, int) or n_layers < 1:
        raise ValueError(f"n_layers must be an integer >= 1. Received: n_layers={n_layers}")
    return [2] * n_layers + [1, 1]


def receptive_field(n_layers: int = 3) -> int:
    """The side of the input patch one output logit sees (70 for ``n_layers=3``, 16 for 1, 142 for 4).

    Raises:
        ValueError: `n_layers` < 1 (a 1x1 "pixel" discriminator is not an n-layer one).
    """
    field = 1
    for stride in reversed(_strides(n_layers)):
        field = (field - 1) * stride + KERNEL
    return field


def patch_map_size(image_size: int, n_layers: int = 3) -> int:
    """The side of the logits map for a square input of side `image_size` (30 for 256 px and ``n_layers=3``)."""
    size = image_size
    for stride in _strides(n_layers):
        size = (size + 2 * PADDING - KERNEL) // stride + 1
    return size


def build_patchgan_discriminator(
    image_size: int,
    in_channels: int = 3,
    target_channels: int = 3,
    base_filters: int = 64,
    n_layers: int = 3,
    norm: str = "instance",
    conditional: bool = True,
    name: str = "patchgan",
    dtype: str | None = None,
) -> keras.Model:
    """The PatchGAN: image(s) -> logits ``[B, P, P, 1]`` (float32), P = `patch_map_size`.

    Conditional (pix2pix): inputs ``{"input": [B, S, S, in_channels],
    "target": [B, S, S, target_channels]}``, joined on channels, so the
    discriminator judges the output together with the input it came from.
    Unconditional (CycleGAN): one input ``"image": [B, S, S, in_channels]``
    (`target_channels` is unused).

    With ``norm="batch"`` and ``base_filters=64`` it is the reference's
    "basic" discriminator weight for weight (2,768,705 trainable parameters
    for pix2pix's 3 + 3 input channels).

    Args:
        image_size: input side (any size giving a map of at least 1x1).
        in_channels: channels of "input" (conditional) or "image".
        target_channels: channels of "target" (conditional only).
        base_filters: filters of the first conv (ndf); doubled per stride-2
            conv, capped at ``8 * base_filters``.
        n_layers: stride-2 convs; see `receptive_field`.
        norm: "instance" or "batch" (none on the first conv).
        conditional: two inputs (pix2pix) or one (CycleGAN).
        name: model name.
        dtype: layer dtype policy; the logits stay float32.

    Raises:
        ValueError: bad `n_layers`, `norm`, channel counts, or an `image_size`
            too small for `n_layers`.
    """
    check_norm(norm, NORMS)
    if not isinstance(image_size, int) or patch_map_size(max(image_size, 0), n_layers) < 1:
        raise ValueError(
            f"image_size too small for n_layers={n_layers}: the logits map would be empty "
            f"(use image_size >= {3 * 2**n_layers} or fewer layers). Received: image_size={image_size}"
        )
    if min(in_channels, target_channels, base_filters) < 1:
        raise ValueError(
            "in_channels, target_channels and base_filters must be positive. "
            f"Received: in_channels={in_channels}, target_channels={target_channels}, base_filters={base_filters}"
        )
    use_bias = norm == "instance"
    if conditional:
        inputs = {
            "input": keras.Input(shape=(image_size, image_size, in_channels), name="input"),
            "target": keras.Input(shape=(image_size, image_size, target_channels), name="target"),
        }
        x = keras.layers.Concatenate(name="input_and_target", dtype=dtype)([inputs["input"], inputs["target"]])
    else:
        inputs = keras.Input(shape=(image_size, image_size, in_channels), name="image")
        x = inputs
    strides = _strides(n_layers)
    for layer, stride in enumerate(strides[:-1]):
        x = keras.layers.ZeroPadding2D(PADDING, name=f"conv{layer}_pad", dtype=dtype)(x)
        x = keras.layers.Conv2D(
            base_filters * min(2**layer, 8),
            KERNEL,
            strides=stride,
            padding="valid",
            use_bias=use_bias or layer == 0,
            kernel_initializer=dcgan_conv_init(),
            name=f"conv{layer}",
            dtype=dtype,
        )(x)
        if layer > 0:
            x = norm_layer(norm, f"conv{layer}_norm", dtype, allowed=NORMS)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{layer}_lrelu", dtype=dtype)(x)
    x = keras.layers.ZeroPadding2D(PADDING, name="logits_pad", dtype=dtype)(x)
    logits = keras.layers.Conv2D(
        1, KERNEL, strides=strides[-1], padding="valid", kernel_initializer=dcgan_conv_init(), name="logits", dtype="float32"
    )(x)
    return keras.Model(inputs, logits, name=name)
