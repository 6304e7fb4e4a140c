"""Segmentation networks: image ``[B, S, S, 3]`` in [-1, 1] -> logits ``float32 [B, S, S, C]``.

- ``unet``: the pix2pix U-Net (`shoes_generator.models.unet`) without dropout,
  its output convolution giving C logits instead of a tanh image: every
  resolution is fused back through skip connections.
- ``fcn``: a plain fully convolutional network (Long et al. 2015, FCN-8s
  style): three strided 3x3 conv stages down to 1/8, a 1x1 classifier there,
  and bilinear 2x upsamplings that add 1x1 scores of the 1/4 and 1/2 stages
  before the last upsampling to full size. Far fewer parameters, no learned
  decoder.
"""

from __future__ import annotations

import keras

from shoes_generator.models.unet import build_unet_generator


def _check(image_size, num_classes, base_filters, multiple: int) -> None:
    if not isinstance(image_size, int) or image_size < multiple or image_size % multiple:
        raise ValueError(f"image_size must be a positive multiple of {multiple}. Received: image_size={image_size!r}")
    if not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2 (background included). Received: num_classes={num_classes!r}")
    if not isinstance(base_filters, int) or base_filters < 1:
        raise ValueError(f"base_filters must be a positive integer. Received: base_filters={base_filters!r}")


def build_unet_segmenter(
    image_size: int, num_classes: int, base_filters: int = 32, depth: int | None = None, name: str = "unet_segmenter"
) -> keras.Model:
    """The U-Net segmenter: ``image [B, S, S, 3]`` -> ``logits float32 [B, S, S, num_classes]``.

    Args:
        image_size: input side, a power of two >= ``2**depth``.
        num_classes: output classes (background included).
        base_filters: filters of the first encoder block, doubled per block up to 8x.
        depth: number of downsamplings; None goes down to 1x1.
        name: model name.

    Raises:
        ValueError: bad `image_size`, `num_classes`, `base_filters` or `depth`.
    """
    _check(image_size, num_classes, base_filters, 2)
    generator = build_unet_generator(
        image_size, out_channels=num_classes, base_filters=base_filters, dropout=0.0, depth=depth, name=f"{name}_body"
    )
    body = keras.Model(generator.input, generator.get_layer("to_image").output, name=f"{name}_body")
    image = keras.Input(shape=(image_size, image_size, 3), name="image")
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(body(image))
    return keras.Model(image, logits, name=name)


def build_fcn_segmenter(image_size: int, num_classes: int, base_filters: int = 32, name: str = "fcn_segmenter") -> keras.Model:
    """The FCN segmenter: ``image [B, S, S, 3]`` -> ``logits float32 [B, S, S, num_classes]``.

    Args:
        image_size: input side, a multiple of 8.
        num_classes: output classes (background included).
        base_filters: filters of the first stage, doubled per stage.
        name: model name.

    Raises:
        ValueError: bad `image_size`, `num_classes` or `base_filters`.
    """
    _check(image_size, num_classes, base_filters, 8)
    image = keras.Input(shape=(image_size, image_size, 3), name="image")
    x, stages = image, []
    for stage in range(3):
        width = base_filters * 2**stage
        x = keras.layers.Conv2D(width, 3, strides=2, padding="same", activation="relu", name=f"stage{stage}_down")(x)
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"stage{stage}_conv")(x)
        stages.append(x)
    scores = keras.layers.Conv2D(num_classes, 1, name="classifier")(stages[-1])  # 1/8 resolution.
    for stage in (1, 0):  # Fuse the 1/4 and 1/2 stages' scores, as FCN-8s fuses pool4 and pool3.
        scores = keras.layers.UpSampling2D(interpolation="bilinear", name=f"up{stage}")(scores)
        skip = keras.layers.Conv2D(num_classes, 1, name=f"stage{stage}_score")(stages[stage])
        scores = keras.layers.Add(name=f"fuse{stage}")([scores, skip])
    scores = keras.layers.UpSampling2D(interpolation="bilinear", name="to_full")(scores)
    logits = keras.layers.Activation("linear", dtype="float32", name="logits")(scores)
    return keras.Model(image, logits, name=name)


ARCHITECTURES = {"unet": build_unet_segmenter, "fcn": build_fcn_segmenter}
