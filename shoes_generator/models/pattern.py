"""Pattern transfer networks: a pattern encoder that reads a print off any object, and a shoe generator whose
normalization it modulates (AdaIN, Huang & Belongie 2017), the shoe's shape coming from a type label and
noise, or from a sketch.

- `build_pattern_encoder`: ``pattern [B, S, S, 3]`` (an object or a swatch on white) -> ``style [B, D]``.
  Stride-2 convs; after each, the mean and standard deviation of every channel over the object's own
  pixels (those that differ from white, `object_mask`), never over the white background. The
  statistics are location-free, so the encoder describes the print, not the object's outline
  (a bag, a box or a full-frame swatch give the same code for the same print). An MLP maps them to
  the style code.
- `build_pattern_generator`: ``{"z", "category", "style", "sketch"} -> shoe [B, S, S, 3]``. A sketch
  encoder (stride-2 convs) gives features at every resolution; ``z`` and the category's embedding
  give a 4x4 tensor, joined to the sketch's 4x4 features; each decoder block upsamples, joins the
  sketch's features of its resolution (U-Net skips) and applies two (3x3 conv, `AdaIN` with the
  style code, LeakyReLU) steps. A white (blank) sketch leaves the shape to ``z`` and the category;
  a drawn one fixes it, and then the category id `num_categories` ("from the sketch") is given.
  With ``shading=True`` it paints no print: its six channels are the shoe rendered in a black and in a
  white print (`render_print` composes any print into them, as `imaging.patterns.render_on_shoes` does).
- `tiled_print`: the print field a shoe wears when it is mapped, not painted: the largest square that
  fits inside the exemplar's object, repeated over the frame. A full-frame swatch gives almost itself.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.imaging.patterns import DARK_REFERENCE, LIGHT_REFERENCE
from shoes_generator.models.blocks import num_doublings

EPSILON = 1e-5
OBJECT_THRESHOLD = 0.06  # In [-1, 1] units (about 8/255): a pixel darker than white by more belongs to the object.
# Pixels of the object's border `tiled_print`'s square keeps clear of. 1 skips the ring the edge shading darkens, but
# scored lower on the preset's run (fidelity 0.875, type 0.715 against 0.889, 0.722 with 0): the served default is 0.
PRINT_RIM = 0


def object_mask(images, threshold: float = OBJECT_THRESHOLD) -> tf.Tensor:
    """``[B, S, S, 1]`` float 1 where a pixel of `images` (in [-1, 1]) is darker than white by more than
    `threshold` in some channel, else 0; all ones for an image with no white background (a full-frame swatch)."""
    images = tf.cast(images, tf.float32)
    mask = tf.cast(tf.reduce_max(1.0 - images, axis=-1, keepdims=True) > threshold, tf.float32)
    empty = tf.reduce_sum(mask, axis=[1, 2, 3], keepdims=True) < 1.0
    return tf.where(empty, tf.ones_like(mask), mask)


def masked_moments(images, mask, epsilon: float = 1e-6) -> tuple[tf.Tensor, tf.Tensor]:
    """Each channel's mean and standard deviation (``sqrt(variance + epsilon)``) inside `mask` (no gradient
    flows into it): two ``[B, 1, 1, C]`` float32 tensors."""
    images, mask = tf.cast(images, tf.float32), tf.stop_gradient(tf.cast(mask, tf.float32))
    count = tf.maximum(tf.reduce_sum(mask, axis=[1, 2], keepdims=True), 1.0)
    mean = tf.reduce_sum(images * mask, axis=[1, 2], keepdims=True) / count
    variance = tf.reduce_sum(tf.square(images - mean) * mask, axis=[1, 2], keepdims=True) / count
    return mean, tf.sqrt(variance + epsilon)


def tiled_print(exemplars, threshold: float = OBJECT_THRESHOLD, rim: int = PRINT_RIM) -> tf.Tensor:
    """The print of each exemplar object as a full frame: ``[B, S, S, 3]`` in [-1, 1] (float32).

    The largest odd-sided square inside the object (`object_mask`; the frame's edge counts as outside) is
    found by repeated 3x3 erosion: the pixel that survives most erosions is its centre (the first in raster
    order on ties). The square leaves out the object's outer `rim` pixels (darkened by the object's edge
    shading) where it can, and is repeated without mirroring (a mirror would turn a diagonal print the
    other way) from the frame's top-left corner. Core TF ops only.

    Args:
        exemplars: ``[B, S, S, 3]`` in [-1, 1], objects on white (or full-frame swatches).
        threshold: `object_mask`'s threshold.
        rim: pixels of the object's border the square keeps clear of (a thin object keeps its centre pixel).
    """
    exemplars = tf.cast(exemplars, tf.float32)
    size = int(exemplars.shape[1])
    survivor = object_mask(exemplars, threshold)
    depth = tf.zeros_like(survivor)
    for _ in range((size + 1) // 2):  # An erosion shrinks every object by one pixel a side: S / 2 empty any frame.
        depth += survivor
        survivor = -tf.nn.max_pool2d(-tf.pad(survivor, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 1, "VALID")
    flat = tf.cast(tf.reshape(depth, [-1, size * size]), tf.int32)
    centre = tf.argmax(flat * size * size - tf.range(size * size), axis=1, output_type=tf.int32)  # Ties: the first.
    half = tf.maximum(tf.reduce_max(flat, axis=1) - 1 - rim, 0)
    side = 2 * half + 1
    offsets = tf.range(size)[None, :] % side[:, None]  # [B, S]
    rows = centre[:, None] // size - half[:, None] + offsets
    cols = centre[:, None] % size - half[:, None] + offsets
    return tf.gather(tf.gather(exemplars, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)


def render_print(shading, prints) -> tf.Tensor:
    """A print composed into a shoe: ``[B, S, S, 3]`` in [-1, 1] (float32).

    `shading`'s first three channels are the shoe in a black print and the last three in a white one;
    each pixel's colour is the straight line between them through the print's colour (the white around
    the shoe, equal in both, stays white), as `imaging.patterns.render_on_shoes` renders its data.

    Args:
        shading: ``[B, S, S, 6]`` in [-1, 1] (the generator's ``shading=True`` output).
        prints: ``[B, S, S, 3]`` in [-1, 1], the print field (e.g. `tiled_print`).
    """
    shading, prints = (tf.cast(x, tf.float32) * 0.5 + 0.5 for x in (shading, prints))
    dark, light = shading[..., :3], shading[..., 3:]
    dark_reference, light_reference = tf.constant(DARK_REFERENCE), tf.constant(LIGHT_REFERENCE)
    out = dark + (light - dark) / (light_reference - dark_reference) * (prints - dark_reference)
    return tf.clip_by_value(out, 0.0, 1.0) * 2.0 - 1.0


@keras.saving.register_keras_serializable(package="shoes_generator")
class MaskedMoments(keras.layers.Layer):
    """``[features [B, H, W, C], mask [B, S, S, 1]] -> [B, 2C]``: each channel's mean and standard deviation
    over the pixels the mask (average-pooled to H x W, then > 0.5) keeps; computed in float32."""

    def call(self, inputs):
        features, mask = inputs
        mask = tf.cast(tf.image.resize(mask, tf.shape(features)[1:3], method="area") > 0.5, tf.float32)
        mask = tf.where(tf.reduce_sum(mask, axis=[1, 2, 3], keepdims=True) < 1.0, tf.ones_like(mask), mask)
        mean, std = masked_moments(features, mask, EPSILON)
        return tf.cast(tf.concat([mean[:, 0, 0], std[:, 0, 0]], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 2 * input_shape[0][-1])


@keras.saving.register_keras_serializable(package="shoes_generator")
class ObjectMask(keras.layers.Layer):
    """`object_mask` as a layer (float32 ``[B, S, S, 1]``)."""

    def call(self, images):
        return object_mask(images)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


@keras.saving.register_keras_serializable(package="shoes_generator")
class AdaIN(keras.layers.Layer):
    """Adaptive instance norm: ``[x, style] -> norm(x) * (1 + gamma(style)) + beta(style)``, per example and channel.

    Args:
        **kwargs: `keras.layers.Layer` arguments.
    """

    def build(self, input_shape):
        x_shape, _ = input_shape
        channels = int(x_shape[-1])
        self.gamma = keras.layers.Dense(channels, name="gamma", dtype=self.dtype_policy, kernel_initializer="zeros")
        self.beta = keras.layers.Dense(channels, name="beta", dtype=self.dtype_policy, kernel_initializer="zeros")
        self.gamma.build(input_shape[1])
        self.beta.build(input_shape[1])

    def call(self, inputs):
        x, style = inputs
        x32 = tf.cast(x, tf.float32)
        mean, variance = tf.nn.moments(x32, axes=[1, 2], keepdims=True)
        normalized = tf.cast((x32 - mean) * tf.math.rsqrt(variance + EPSILON), self.compute_dtype)
        gamma = self.gamma(style)[:, None, None, :]
        beta = self.beta(style)[:, None, None, :]
        return normalized * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _channels(image_size: int, resolution: int, base_filters: int) -> int:
    """Feature maps at `resolution`: ``base_filters * min(8, image_size / resolution)``."""
    return base_filters * min(8, image_size // resolution)


def build_pattern_encoder(
    image_size: int, base_filters: int = 32, style_dim: int = 64, name: str = "pattern_encoder", dtype=None
) -> keras.Model:
    """``pattern [B, S, S, 3]`` in [-1, 1] -> ``style [B, style_dim]`` (float32); see the module docstring.

    Args:
        image_size: S, a power of two >= 8.
        base_filters: the first conv's filters (doubled per stride, at most 4x).
        style_dim: the style code's size.
        name: model name.
        dtype: layer dtype policy.
    """
    levels = min(3, num_doublings(image_size))
    if style_dim < 1 or base_filters < 1:
        raise ValueError(f"style_dim and base_filters must be >= 1. Received: style_dim={style_dim}, base_filters={base_filters}")
    pattern = keras.Input((image_size, image_size, 3), name="pattern")
    mask = ObjectMask(name="object_mask", dtype="float32")(pattern)
    x = keras.layers.Conv2D(base_filters, 3, padding="same", name="conv_in", dtype=dtype)(pattern)
    x = keras.layers.LeakyReLU(0.2, name="conv_in_lrelu", dtype=dtype)(x)
    moments = [MaskedMoments(name="moments_in", dtype=dtype)([x, mask])]
    for level in range(levels):
        x = keras.layers.Conv2D(base_filters * min(4, 2 ** (level + 1)), 3, strides=2, padding="same", name=f"conv{level}", dtype=dtype)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{level}_lrelu", dtype=dtype)(x)
        moments.append(MaskedMoments(name=f"moments{level}", dtype=dtype)([x, mask]))
    x = keras.layers.Concatenate(name="moments", dtype=dtype)(moments)
    x = keras.layers.Dense(2 * style_dim, name="mlp0", dtype=dtype)(x)
    x = keras.layers.LeakyReLU(0.2, name="mlp0_lrelu", dtype=dtype)(x)
    style = keras.layers.Dense(style_dim, name="style", dtype="float32")(x)
    return keras.Model(pattern, style, name=name)


def build_pattern_generator(
    image_size: int,
    num_categories: int,
    z_dim: int = 32,
    style_dim: int = 64,
    base_filters: int = 32,
    embed_dim: int = 16,
    shading: bool = False,
    name: str = "pattern_generator",
    dtype=None,
) -> keras.Model:
    """``{"z": [B, z_dim], "category": int [B], "style": [B, style_dim], "sketch": [B, S, S, 3]}`` -> shoes
    ``[B, S, S, 3]``, or with `shading` ``[B, S, S, 6]`` (float32, tanh); see the module docstring.

    Args:
        image_size: S, a power of two >= 8.
        num_categories: the shoe types; id `num_categories` means "the shape comes from the sketch".
        z_dim: the noise size.
        style_dim: the style code's size.
        base_filters: channels at full resolution (x8 at most).
        embed_dim: the category embedding's size.
        shading: paint the shoe in a black and a white print (6 channels, for `render_print`) instead of in the style's print.
        name: model name.
        dtype: layer dtype policy; the image stays float32.
    """
    levels = num_doublings(image_size)
    if num_categories < 1 or z_dim < 1:
        raise ValueError(f"num_categories and z_dim must be >= 1. Received: num_categories={num_categories}, z_dim={z_dim}")
    inputs = {
        "z": keras.Input((z_dim,), name="z"),
        "category": keras.Input((), dtype="int32", name="category"),
        "style": keras.Input((style_dim,), name="style"),
        "sketch": keras.Input((image_size, image_size, 3), name="sketch"),
    }
    skips = {image_size: inputs["sketch"]}  # The sketch itself joins the last block: its lines at full resolution.
    x = inputs["sketch"]
    for level in range(levels):
        resolution = image_size // 2 ** (level + 1)
        x = keras.layers.Conv2D(_channels(image_size, resolution, base_filters), 3, strides=2, padding="same",
                                name=f"sketch{resolution}", dtype=dtype)(x)
        x = keras.layers.LeakyReLU(0.2, name=f"sketch{resolution}_lrelu", dtype=dtype)(x)
        skips[resolution] = x
    embedding = keras.layers.Embedding(num_categories + 1, embed_dim, name="category_embedding", dtype=dtype)(inputs["category"])
    h = keras.layers.Concatenate(name="z_and_category", dtype=dtype)([inputs["z"], embedding])
    width = _channels(image_size, 4, base_filters)
    h = keras.layers.Dense(4 * 4 * width, name="fc", dtype=dtype)(h)
    h = keras.layers.Reshape((4, 4, width), name="fc_reshape", dtype=dtype)(h)
    h = keras.layers.Concatenate(name="join4", dtype=dtype)([h, skips[4]])
    resolution = 4
    while True:
        for step in range(2):
            prefix = f"block{resolution}_{step}"
            h = keras.layers.Conv2D(_channels(image_size, resolution, base_filters), 3, padding="same", name=prefix, dtype=dtype)(h)
            h = AdaIN(name=f"{prefix}_adain", dtype=dtype)([h, inputs["style"]])
            h = keras.layers.LeakyReLU(0.2, name=f"{prefix}_lrelu", dtype=dtype)(h)
        if resolution == image_size:
            break
        resolution *= 2
        h = keras.layers.UpSampling2D(2, name=f"up{resolution}", dtype=dtype)(h)
        if resolution in skips:
            h = keras.layers.Concatenate(name=f"join{resolution}", dtype=dtype)([h, skips[resolution]])
    h = keras.layers.Conv2D(6 if shading else 3, 3, padding="same", name="to_rgb", dtype=dtype)(h)
    images = keras.layers.Activation("tanh", name="tanh", dtype="float32")(h)
    return keras.Model(inputs, images, name=name)
