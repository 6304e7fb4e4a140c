"""The CycleGAN ResNet generator (Johnson et al. 2016, as in pytorch-CycleGAN-and-pix2pix).

Layout (``ngf`` = `base_filters`): reflect-pad 3, 7x7 conv ngf, norm, ReLU; two
stride-2 3x3 convs (2ngf, 4ngf); `n_blocks` residual blocks at 4ngf; two stride-2
3x3 transposed convs back to ngf; reflect-pad 3, 7x7 conv to `channels`, tanh.
The reference uses 6 blocks at 128 px and 9 at 256 px; its 9-block ngf-64
3->3 generator with instance norm (no affine parameters) has 11,378,179
parameters, and so does this one.

Mixed mode ("design-language blend"): `with_alpha` rebuilds a generator on the
same layer objects with a second input ``alpha`` (``[B]`` or ``[B, 1]``), and
every residual block computes ``h + alpha * F(h)`` instead of ``h + F(h)``.
``alpha = 1`` is the trained generator exactly; smaller values weaken the
learned translation inside the feature space, so the decoder still draws one
coherent shoe instead of the ghosted double image of a pixel blend.
"""

from __future__ import annotations

import re

import keras
import tensorflow as tf

from shoes_generator.models.blocks import IMG2IMG_NORMS, dcgan_conv_init, norm_layer

NORMS = IMG2IMG_NORMS  # "instance" without affine parameters, as the reference.


@keras.saving.register_keras_serializable(package="shoes_generator")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring the border (``tf.pad`` mode "REFLECT", a core op).

    Args:
        padding: rows and columns added on each side: an int, or
            ``(rows, columns)``. Each must be smaller than the side it pads.
        **kwargs: base layer arguments (`name`, `dtype`).
    """

    def __init__(self, padding: int | tuple[int, int] = 1, **kwargs):
        super().__init__(**kwargs)
        pads = (padding, padding) if isinstance(padding, int) else tuple(padding)
        if len(pads) != 2 or not all(isinstance(p, int) and p >= 0 for p in pads):
            raise ValueError(f"padding must be an int >= 0 or a pair of them. Received: padding={padding!r}")
        self.padding = pads

    def build(self, input_shape):
        for axis, pad in zip((1, 2), self.padding):
            side = input_shape[axis]
            if side is not None and pad >= side:
                raise ValueError(
                    f"Reflection padding needs padding < the padded side. Received: padding={self.padding}, "
                    f"input_shape={tuple(input_shape)}"
                )

    def call(self, x):
        rows, columns = self.padding
        return tf.pad(x, [[0, 0], [rows, rows], [columns, columns], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        grow = lambda side, pad: None if side is None else side + 2 * pad
        return (batch, grow(height, self.padding[0]), grow(width, self.padding[1]), channels)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="shoes_generator")
class ScaledResidual(keras.layers.Layer):
    """``[h, f, alpha] -> h + alpha * f``, one alpha per example (``[B]`` or ``[B, 1]``)."""

    def call(self, inputs):
        h, f, alpha = inputs
        alpha = keras.ops.reshape(keras.ops.cast(alpha, h.dtype), (-1, 1, 1, 1))
        return h + alpha * f

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _make_layers(channels: int, base_filters: int, n_blocks: int, norm: str, dtype=None) -> dict:
    """Every layer of the generator by name (convs carry a bias unless BatchNorm follows, as in the reference)."""
    layers = {}

    def add(layer):
        layers[layer.name] = layer

    def conv(name, filters, kernel, strides=1, transpose=False):
        kind = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
        padding = "valid" if strides == 1 else "same"
        add(kind(filters, kernel, strides=strides, padding=padding, use_bias=norm != "batch", kernel_initializer=dcgan_conv_init(), name=f"{name}_conv", dtype=dtype))
        add(norm_layer(norm, f"{name}_norm", dtype, affine=False, allowed=NORMS))

    def relu(name):
        add(keras.layers.ReLU(name=f"{name}_relu", dtype=dtype))

    add(ReflectionPadding2D(3, name="in_pad", dtype=dtype))
    conv("in", base_filters, 7)
    relu("in")
    for index in (1, 2):
        conv(f"down{index}", base_filters * 2**index, 3, strides=2)
        relu(f"down{index}")
    for block in range(1, n_blocks + 1):
        for half in (1, 2):
            add(ReflectionPadding2D(1, name=f"block{block}_{half}_pad", dtype=dtype))
            conv(f"block{block}_{half}", 4 * base_filters, 3)
        relu(f"block{block}_1")
    for index in (1, 2):
        conv(f"up{index}", base_filters * 2 ** (2 - index), 3, strides=2, transpose=True)
        relu(f"up{index}")
    add(ReflectionPadding2D(3, name="out_pad", dtype=dtype))
    add(keras.layers.Conv2D(channels, 7, kernel_initializer=dcgan_conv_init(), name="out_conv", dtype=dtype))
    add(keras.layers.Activation("tanh", dtype="float32", name="tanh"))
    return layers


def _graph(image, get, n_blocks: int, alpha=None):
    """Wires the generator from ``image`` through ``get(name)``, the layer of that
    name (new ones when building, a built generator's when rebuilding on its weights).
    The weightless residual sums are made here: ``h + F(h)``, or with `alpha`
    ``h + alpha * F(h)``."""
    dtype = get("in_conv").dtype_policy.name

    def stage(x, name, relu=True):
        x = get(f"{name}_norm")(get(f"{name}_conv")(x))
        return get(f"{name}_relu")(x) if relu else x

    x = stage(get("in_pad")(image), "in")
    x = stage(stage(x, "down1"), "down2")
    for block in range(1, n_blocks + 1):
        f = stage(get(f"block{block}_1_pad")(x), f"block{block}_1")
        f = stage(get(f"block{block}_2_pad")(f), f"block{block}_2", relu=False)
        if alpha is None:
            x = keras.layers.Add(name=f"block{block}_add", dtype=dtype)([x, f])
        else:
            x = ScaledResidual(name=f"block{block}_add", dtype=dtype)([x, f, alpha])
    x = stage(stage(x, "up1"), "up2")
    return get("tanh")(get("out_conv")(get("out_pad")(x)))


def build_resnet_generator(
    image_size: int,
    channels: int = 3,
    base_filters: int = 64,
    n_blocks: int = 9,
    norm: str = "instance",
    name: str = "resnet_generator",
    residual_scale_input: bool = False,
    dtype: str | None = None,
) -> keras.Model:
    """The CycleGAN ResNet generator: ``image [B, S, S, C] -> image [B, S, S, channels]`` in ``[-1, 1]``.

    Args:
        image_size: input side, a multiple of 4 and at least 8.
        channels: input and output channels (the reference's input_nc = output_nc).
        base_filters: feature maps of the first conv (ngf).
        n_blocks: residual blocks (6 at 128 px, 9 at 256 px in the reference).
        norm: "instance" (default), "batch" or "none"; convs carry a bias
            unless followed by BatchNorm, as in the reference.
        name: model name.
        residual_scale_input: add the ``alpha`` input of the blend mode (see
            `with_alpha`); the weights are the same as without it.
        dtype: layer dtype policy (e.g. "mixed_bfloat16"); the output stays float32.
    """
    if image_size < 8 or image_size % 4:
        raise ValueError(f"image_size must be a multiple of 4 and >= 8. Received: image_size={image_size}")
    if n_blocks < 0 or base_filters < 1 or channels < 1:
        raise ValueError(
            "n_blocks must be >= 0, base_filters and channels >= 1. "
            f"Received: n_blocks={n_blocks}, base_filters={base_filters}, channels={channels}"
        )
    layers = _make_layers(channels, base_filters, n_blocks, norm, dtype)
    image = keras.Input(shape=(image_size, image_size, channels), name="image")
    generator = keras.Model(image, _graph(image, layers.__getitem__, n_blocks), name=name)
    return with_alpha(generator) if residual_scale_input else generator


def _rebuild(generator: keras.Model, alpha: bool) -> keras.Model:
    names = {layer.name for layer in generator.layers}
    if not {"image", "in_pad", "out_conv", "tanh"} <= names:
        raise ValueError(f"Expected a generator from build_resnet_generator. Received: generator={generator.name!r}")
    n_blocks = sum(bool(re.fullmatch(r"block\d+_add", n)) for n in names)
    source = generator.get_layer("image")
    inputs = {"image": keras.Input(batch_shape=source.batch_shape, dtype=source.dtype, name="image")}
    if alpha:
        inputs["alpha"] = keras.Input(shape=(1,), dtype="float32", name="alpha")
    outputs = _graph(inputs["image"], generator.get_layer, n_blocks, inputs.get("alpha"))
    return keras.Model(inputs if alpha else inputs["image"], outputs, name=generator.name)


def with_alpha(generator: keras.Model) -> keras.Model:
    """The blend-mode generator on the same weights: ``{"image", "alpha"} -> image``.

    Every residual block computes ``h + alpha * F(h)``: ``alpha = 1`` reproduces
    `generator` exactly, ``alpha = 0`` keeps only the encoder-decoder path
    around the residual translation. The layers (and weights) are shared, so
    training or loading weights into one changes the other.

    Args:
        generator: a model from `build_resnet_generator` (with or without alpha).
    """
    return _rebuild(generator, alpha=True)


def without_alpha(generator: keras.Model) -> keras.Model:
    """The plain generator (``image -> image``) on the same weights as a blend-mode one.

    Args:
        generator: a model from `build_resnet_generator` (with or without alpha).
    """
    return _rebuild(generator, alpha=False)
