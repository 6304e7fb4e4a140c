"""The pix2pix U-Net generator (Isola et al. 2017; pytorch-CycleGAN-and-pix2pix's `UnetGenerator`).

Encoder: 4x4 stride-2 convs C64-C128-C256-C512-C512-..., LeakyReLU(0.2), a
norm on every block but the first and the innermost (the 1x1 bottleneck).
Decoder: the mirror image with 4x4 stride-2 transposed convs and ReLU; each
decoder block's output is concatenated with the encoder features of the same
size (the skip connections) and the first three decoder blocks apply dropout
(active in training only, the paper's CD512-CD1024-CD1024). A tanh output in
float32. No batch size is fixed, and with instance norm an example's output
never depends on the rest of its batch.
"""

from __future__ import annotations

import math

import keras

from shoes_generator.models.blocks import check_norm, dcgan_conv_init, norm_layer

NORMS = ("instance", "batch")  # "instance" with a learned scale and offset (served models).
UNET_DEPTHS = {"unet_256": 8, "unet_128": 7}
DROPOUT_BLOCKS = 3  # Decoder blocks with dropout, counted from the bottleneck.


def unet_depth(image_size: int, depth: int | None = None) -> int:
    """The number of stride-2 downsamplings: `depth`, or log2(`image_size`) (down to 1x1) when None.

    Raises:
        ValueError: `image_size` is not a power of two >= 2, or ``2**depth`` exceeds it.
    """
    log = math.log2(image_size) if isinstance(image_size, int) and image_size >= 2 else -1.0
    if log < 1 or not log.is_integer():
        raise ValueError(f"image_size must be a power of two >= 2 (e.g. 32, 256). Received: image_size={image_size}")
    if depth is None:
        return int(log)
    if not isinstance(depth, int) or not 1 <= depth <= log:
        raise ValueError(
            f"depth must be an integer in [1, log2(image_size)] = [1, {int(log)}] so that image_size >= 2**depth. "
            f"Received: depth={depth}, image_size={image_size}"
        )
    return depth


def build_unet_generator(
    image_size: int,
    in_channels: int = 3,
    out_channels: int = 3,
    base_filters: int = 64,
    norm: str = "instance",
    dropout: float = 0.5,
    depth: int | None = None,
    name: str = "unet",
    dtype: str | None = None,
) -> keras.Model:
    """The U-Net generator: ``input [B, S, S, in_channels] -> image [B, S, S, out_channels]`` in ``[-1, 1]``.

    With ``norm="batch"``, ``base_filters=64`` and ``depth=8`` it is the
    reference unet_256, weight for weight (54,413,955 trainable parameters
    for 3 -> 3 channels). Convolutions carry a bias only where the reference
    gives them one (instance norm, and the output layer).

    Args:
        image_size: input and output side, a power of two >= ``2**depth``.
        in_channels: input channels (3 for a photo, 4 for photo + mask).
        out_channels: output channels.
        base_filters: filters of the first encoder block (ngf); doubled per
            block up to ``8 * base_filters``.
        norm: "instance" (per-example, for served models) or "batch" (the reference).
        dropout: dropout rate of the first three decoder blocks (0 disables it).
        depth: number of downsamplings; None goes down to 1x1
            (log2(image_size)); see `UNET_DEPTHS` for the reference's names.
        name: model name.
        dtype: layer dtype policy (e.g. "mixed_bfloat16"); the output stays float32.

    Raises:
        ValueError: bad `image_size`, `depth`, `norm`, `dropout`, or channel counts.
    """
    depth = unet_depth(image_size, depth)
    check_norm(norm, NORMS)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1). Received: dropout={dropout}")
    if min(in_channels, out_channels, base_filters) < 1:
        raise ValueError(
            "in_channels, out_channels and base_filters must be positive. "
            f"Received: in_channels={in_channels}, out_channels={out_channels}, base_filters={base_filters}"
        )
    use_bias = norm == "instance"

    def filters(level):
        return base_filters * min(2**level, 8)

    image = keras.Input(shape=(image_size, image_size, in_channels), name="input")
    x, skips = image, []
    for level in range(depth):
        x = keras.layers.Conv2D(
            filters(level), 4, strides=2, padding="same", use_bias=use_bias, kernel_initializer=dcgan_conv_init(), name=f"down{level}", dtype=dtype
        )(x)
        if level == depth - 1:
            break  # The bottleneck: no norm, no skip.
        if level > 0:
            x = norm_layer(norm, f"down{level}_norm", dtype, allowed=NORMS)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"down{level}_lrelu", dtype=dtype)(x)
        skips.append(x)
    for block, level in enumerate(reversed(range(depth - 1))):
        x = keras.layers.ReLU(name=f"up{level}_relu", dtype=dtype)(x)
        x = keras.layers.Conv2DTranspose(
            filters(level), 4, strides=2, padding="same", use_bias=use_bias, kernel_initializer=dcgan_conv_init(), name=f"up{level}", dtype=dtype
        )(x)
        x = norm_layer(norm, f"up{level}_norm", dtype, allowed=NORMS)(x)
        if dropout > 0 and block < DROPOUT_BLOCKS:
            x = keras.layers.Dropout(dropout, name=f"up{level}_dropout", dtype=dtype)(x)
        x = keras.layers.Concatenate(name=f"skip{level}", dtype=dtype)([skips[level], x])
    x = keras.layers.ReLU(name="to_image_relu", dtype=dtype)(x)
    x = keras.layers.Conv2DTranspose(
        out_channels, 4, strides=2, padding="same", kernel_initializer=dcgan_conv_init(), name="to_image", dtype=dtype
    )(x)
    output = keras.layers.Activation("tanh", dtype="float32", name="image")(x)
    return keras.Model(image, output, name=name)
