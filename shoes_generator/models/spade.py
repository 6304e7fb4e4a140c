"""SPADE networks (Park et al. 2019, "Semantic image synthesis with spatially-adaptive normalization").

- `SPADE`: a parameter-free instance norm whose per-pixel scale and shift come from the part
  map: ``norm(x) * (1 + gamma(m)) + beta(m)``, with ``gamma``/``beta`` 3x3 convs over a shared
  3x3 conv + ReLU of the map resized (nearest) to ``x``'s size.
- `build_spade_generator`: ``z`` -> a 4x4 tensor, then SPADE residual blocks with nearest 2x
  upsampling to the image size (channels ``g_filters * min(16, S / res)``), LeakyReLU, a 3x3 conv
  and tanh. The part map enters every block, so the layout cannot be washed out by the norms.
- `build_style_encoder`: the VAE's encoder: stride-2 3x3 convs with instance norm to 4x4, then
  ``mu`` and ``logvar`` of ``z``; a style image chooses the look.
- `build_multiscale_discriminator`: pix2pixHD's multi-scale PatchGAN (kernel 4, padding 2,
  instance norm, spectral norm), each scale judging ``concat(part map, image)``, the next one
  on the input average-pooled by 2; every layer's features are outputs (feature matching).

Part maps enter as one-hot ``float [B, S, S, C]``. Everything is Keras layers and core TF ops.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.models.blocks import maybe_spectral, norm_layer, num_doublings

EPSILON = 1e-5
D_KERNEL = 4
D_PADDING = 2  # pix2pixHD: ceil((kernel - 1) / 2).


@keras.saving.register_keras_serializable(package="shoes_generator")
class SPADE(keras.layers.Layer):
    """Spatially-adaptive normalization: ``[x, part_map] -> norm(x) * (1 + gamma) + beta``.

    Args:
        hidden: channels of the shared conv over the part map (128 in the paper).
        spectral: spectral normalization on the three convs.
        **kwargs: `keras.layers.Layer` arguments.
    """

    def __init__(self, hidden: int = 128, spectral: bool = False, **kwargs):
        super().__init__(**kwargs)
        if hidden < 1:
            raise ValueError(f"hidden must be >= 1. Received: hidden={hidden}")
        self.hidden = int(hidden)
        self.spectral = bool(spectral)

    def build(self, input_shape):
        x_shape, map_shape = input_shape
        channels = int(x_shape[-1])

        def conv(filters, name, activation=None):
            layer = keras.layers.Conv2D(filters, 3, padding="same", activation=activation, name=name, dtype=self.dtype_policy)
            return maybe_spectral(layer, self.spectral)

        self.shared = conv(self.hidden, "shared", "relu")
        self.gamma = conv(channels, "gamma")
        self.beta = conv(channels, "beta")
        resized = (*map_shape[:1], *x_shape[1:3], map_shape[-1])
        self.shared.build(resized)
        self.gamma.build((*resized[:3], self.hidden))
        self.beta.build((*resized[:3], self.hidden))

    def call(self, inputs, training=None):
        x, part_map = inputs
        height, width = x.shape[1], x.shape[2]
        if height is None or width is None:
            height, width = tf.shape(x)[1], tf.shape(x)[2]
        part_map = tf.image.resize(tf.cast(part_map, self.compute_dtype), [height, width], method="nearest")
        features = self.shared(part_map, training=training)
        x32 = tf.cast(x, tf.float32)
        mean, variance = tf.nn.moments(x32, axes=[1, 2], keepdims=True)
        normalized = tf.cast((x32 - mean) * tf.math.rsqrt(variance + EPSILON), self.compute_dtype)
        return normalized * (1.0 + self.gamma(features, training=training)) + self.beta(features, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "spectral": self.spectral}


def _conv(filters: int, kernel: int, name: str, spectral: bool, dtype, use_bias: bool = True, **kwargs) -> keras.layers.Layer:
    return maybe_spectral(keras.layers.Conv2D(filters, kernel, use_bias=use_bias, name=name, dtype=dtype, **kwargs), spectral)


def spade_res_block(x, part_map, filters: int, name: str, hidden: int, spectral: bool, dtype=None):
    """SPADE's residual block: two (SPADE, LeakyReLU 0.2, 3x3 conv) steps, a learned 1x1 shortcut
    (after its own SPADE) when the channel count changes.

    Args:
        x: the features ``[B, H, W, fin]``.
        part_map: the one-hot part map (any size; each SPADE resizes it).
        filters: fout.
        name: prefix of the block's layer names.
        hidden: the SPADE layers' hidden channels.
        spectral: spectral normalization on the convs.
        dtype: layer dtype policy.
    """
    fin = int(x.shape[-1])
    middle = min(fin, filters)
    shortcut = x
    if fin != filters:
        shortcut = SPADE(hidden, spectral, name=f"{name}_spade_s", dtype=dtype)([x, part_map])
        shortcut = _conv(filters, 1, f"{name}_conv_s", spectral, dtype, use_bias=False)(shortcut)
    dx = x
    for index, width in enumerate((middle, filters)):
        dx = SPADE(hidden, spectral, name=f"{name}_spade_{index}", dtype=dtype)([dx, part_map])
        dx = keras.layers.LeakyReLU(0.2, name=f"{name}_lrelu_{index}", dtype=dtype)(dx)
        dx = _conv(width, 3, f"{name}_conv_{index}", spectral, dtype, padding="same")(dx)
    return keras.layers.Add(name=f"{name}_add", dtype=dtype)([shortcut, dx])


def generator_channels(image_size: int, resolution: int, base_filters: int) -> int:
    """The generator's channels at `resolution`: ``base_filters * min(16, image_size / resolution)``."""
    return base_filters * min(16, image_size // resolution)


def build_spade_generator(
    image_size: int,
    num_classes: int,
    base_filters: int = 64,
    z_dim: int = 256,
    hidden: int = 128,
    spectral: bool = True,
    name: str = "spade_generator",
    dtype=None,
) -> keras.Model:
    """The SPADE generator: ``{"parts": one-hot [B, S, S, C], "z": [B, z_dim]} -> images [B, S, S, 3]`` (float32, tanh).

    Args:
        image_size: S, a power of two >= 8.
        num_classes: C, the part classes (background first).
        base_filters: channels at full resolution (ngf); x16 at most.
        z_dim: the latent size (256 in the paper).
        hidden: the SPADE layers' hidden channels.
        spectral: spectral normalization on the generator's convs (the paper's default).
        name: model name.
        dtype: layer dtype policy; the image stays float32.

    Raises:
        ValueError: a bad size, class count, filter count or latent size (the message says which).
    """
    levels = num_doublings(image_size)
    if num_classes < 2 or base_filters < 1 or z_dim < 1:
        raise ValueError(
            "num_classes must be >= 2, base_filters and z_dim >= 1. "
            f"Received: num_classes={num_classes}, base_filters={base_filters}, z_dim={z_dim}"
        )
    parts = keras.Input((image_size, image_size, num_classes), name="parts")
    z = keras.Input((z_dim,), name="z")
    width = generator_channels(image_size, 4, base_filters)
    x = keras.layers.Dense(4 * 4 * width, name="fc", dtype=dtype)(z)
    x = keras.layers.Reshape((4, 4, width), name="fc_reshape", dtype=dtype)(x)
    x = spade_res_block(x, parts, width, "head", hidden, spectral, dtype)
    for level in range(1, levels + 1):
        resolution = 4 * 2**level
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"up{resolution}", dtype=dtype)(x)
        x = spade_res_block(x, parts, generator_channels(image_size, resolution, base_filters), f"block{resolution}", hidden, spectral, dtype)
    x = keras.layers.LeakyReLU(0.2, name="out_lrelu", dtype=dtype)(x)
    x = keras.layers.Conv2D(3, 3, padding="same", name="to_rgb", dtype=dtype)(x)
    images = keras.layers.Activation("tanh", name="tanh", dtype="float32")(x)
    return keras.Model({"parts": parts, "z": z}, images, name=name)


def build_style_encoder(
    image_size: int, base_filters: int = 64, z_dim: int = 256, name: str = "style_encoder", dtype=None
) -> keras.Model:
    """The VAE's style encoder: ``image [B, S, S, 3] -> {"mu", "logvar"}`` float32 ``[B, z_dim]``.

    Stride-2 3x3 convs (``base_filters * min(8, 2**i)`` channels) with instance norm and
    LeakyReLU(0.2) down to 4x4, then two dense heads, as SPADE's ``ConvEncoder``.

    Args:
        image_size: S, a power of two >= 8.
        base_filters: channels of the first conv (ndf).
        z_dim: the latent size.
        name: model name.
        dtype: layer dtype policy; ``mu`` and ``logvar`` stay float32.
    """
    levels = num_doublings(image_size)
    image = keras.Input((image_size, image_size, 3), name="image")
    x = image
    for level in range(levels):
        x = keras.layers.Conv2D(base_filters * min(8, 2**level), 3, strides=2, padding="same", name=f"conv{level}", dtype=dtype)(x)
        x = norm_layer("instance", f"conv{level}_norm", dtype)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{level}_lrelu", dtype=dtype)(x)
    x = keras.layers.Flatten(name="flatten", dtype=dtype)(x)
    mu = keras.layers.Dense(z_dim, name="mu", dtype="float32")(x)
    logvar = keras.layers.Dense(z_dim, name="logvar", dtype="float32")(x)
    return keras.Model(image, {"mu": mu, "logvar": logvar}, name=name)


def discriminator_outputs_per_scale(n_layers: int) -> int:
    """How many outputs each scale of `build_multiscale_discriminator` gives: its layers' features, then its logits."""
    return n_layers + 1


def build_multiscale_discriminator(
    image_size: int,
    num_classes: int,
    base_filters: int = 64,
    n_layers: int = 4,
    num_scales: int = 2,
    spectral: bool = True,
    name: str = "spade_discriminator",
    dtype=None,
) -> keras.Model:
    """pix2pixHD's multi-scale PatchGAN as SPADE uses it.

    Inputs ``{"image": [B, S, S, 3], "parts": one-hot [B, S, S, C]}``; outputs a flat list,
    for each scale (full size first, then each halved by a 3x3 stride-2 average pool) the
    features of its `n_layers` conv layers, then its logits map (float32); see
    `discriminator_outputs_per_scale`.

    Args:
        image_size: S.
        num_classes: C.
        base_filters: the first conv's filters (ndf), doubled per layer up to 8x.
        n_layers: conv layers before the logits (stride 2, the last one stride 1).
        num_scales: how many discriminators (2 in the paper).
        spectral: spectral normalization on every conv.
        name: model name.
        dtype: layer dtype policy; every output is float32.

    Raises:
        ValueError: too few layers or scales, or an image too small for them.
    """
    if n_layers < 2 or num_scales < 1:
        raise ValueError(f"n_layers must be >= 2 and num_scales >= 1. Received: n_layers={n_layers}, num_scales={num_scales}")
    smallest = image_size // 2 ** (num_scales - 1)
    if smallest < 2 ** (n_layers - 1):
        raise ValueError(
            f"image_size {image_size} is too small for {num_scales} scales of {n_layers} layers: the last scale sees "
            f"{smallest} px. Use fewer scales or layers. Received: image_size={image_size}"
        )
    image = keras.Input((image_size, image_size, 3), name="image")
    parts = keras.Input((image_size, image_size, num_classes), name="parts")
    x = keras.layers.Concatenate(name="parts_and_image", dtype=dtype)([parts, image])
    outputs = []
    for scale in range(num_scales):
        if scale:
            x = keras.layers.AveragePooling2D(3, strides=2, padding="same", name=f"d{scale}_downsample", dtype=dtype)(x)
        h = x
        for layer in range(n_layers):
            stride = 1 if layer == n_layers - 1 else 2
            prefix = f"d{scale}_conv{layer}"
            h = keras.layers.ZeroPadding2D(D_PADDING, name=f"{prefix}_pad", dtype=dtype)(h)
            h = _conv(base_filters * min(8, 2**layer), D_KERNEL, prefix, spectral, dtype, strides=stride)(h)
            if layer:
                h = norm_layer("instance", f"{prefix}_norm", dtype, affine=False)(h)
            h = keras.layers.LeakyReLU(0.2, name=f"{prefix}_lrelu", dtype=dtype)(h)
            outputs.append(keras.layers.Activation("linear", name=f"{prefix}_features", dtype="float32")(h))
        h = keras.layers.ZeroPadding2D(D_PADDING, name=f"d{scale}_logits_pad", dtype=dtype)(h)
        outputs.append(_conv(1, D_KERNEL, f"d{scale}_logits", spectral, "float32")(h))
    return keras.Model({"image": image, "parts": parts}, outputs, name=name)
