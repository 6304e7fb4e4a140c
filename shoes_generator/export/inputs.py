"""Serving inputs: what a signature takes and how each becomes the model's input.

Every family (translators, segmenters, generators) describes its signature inputs
with these classes; `shoes_generator.export.signatures` turns them into the
SignatureDef's named input specs, the decoding before the model, and warm-up examples.

- `ImageInput`: an image or mask, served either as encoded bytes
  (``<name>_bytes`` string [B], PNG or JPEG of any size and format) or as uint8
  pixels (``<name>`` uint8 [B, H, W, C], any H and W); either way fitted to the
  model's square with white padding (masks, 1 channel, padded as background)
  and scaled to float32 [-1, 1].
- `TensorInput`: a plain tensor (seeds, noise, labels, scalars, ids), passed
  through or mapped by its own ``decode`` (e.g. a label lookup).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from shoes_generator.data.pipeline import decode_image, fit_image, to_float

ENCODINGS = ("bytes", "pixels")


class ServingInput:
    """One named input of a served signature.

    Attributes:
        name: the key the signature's function receives the decoded value under.
    """

    name: str

    @property
    def spec(self) -> tf.TensorSpec:
        """The SignatureDef input (its name is the wire name)."""
        raise NotImplementedError

    def decode(self, value: tf.Tensor) -> tf.Tensor:
        """The served tensor -> the model's input."""
        return value

    def example(self, batch: int) -> np.ndarray:
        """A valid served value of `batch` examples, for the warm-up requests."""
        raise NotImplementedError

    @property
    def batched(self) -> bool:
        """Whether `example` depends on the batch size (False: one warm-up request is enough)."""
        return True


def pad_value(channels: int) -> float:
    """The padding fill in [-1, 1]: white for images, background (-1, black) for 1-channel masks."""
    return -1.0 if channels == 1 else 1.0


def fit_pixels(pixels: tf.Tensor, image_size: int, channels: int | None = None) -> tf.Tensor:
    """``uint8 [H, W, C]`` -> ``float32 [image_size, image_size, C]`` in [-1, 1], padded as `pad_value` says.

    Args:
        pixels: one image or mask.
        image_size: the model's input side.
        channels: C, when the static shape does not say it.
    """
    channels = int(pixels.shape[-1]) if channels is None else channels
    return fit_image(to_float(pixels), image_size, pad_value=pad_value(channels))


def fit_encoded(data: tf.Tensor, image_size: int, channels: int = 3) -> tf.Tensor:
    """PNG/JPEG bytes of any size -> ``float32 [image_size, image_size, channels]`` in [-1, 1] (see `fit_pixels`)."""
    return fit_pixels(decode_image(data, channels), image_size, channels)


@dataclasses.dataclass(frozen=True)
class ImageInput(ServingInput):
    """An image (or 1-channel mask) input, fitted to the model's square.

    Attributes:
        name: the model-side key, e.g. ``"image"`` or ``"mask"``.
        image_size: the model's input side.
        channels: 3 for RGB images, 1 for masks.
        encoding: ``"bytes"`` (wire name ``<name>_bytes``, string [B]) or
            ``"pixels"`` (wire name ``<name>``, uint8 [B, H, W, C]).
    """

    name: str
    image_size: int
    channels: int = 3
    encoding: str = "bytes"

    def __post_init__(self):
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}. Received: encoding={self.encoding!r}")

    @property
    def spec(self) -> tf.TensorSpec:
        if self.encoding == "bytes":
            return tf.TensorSpec([None], tf.string, name=f"{self.name}_bytes")
        return tf.TensorSpec([None, None, None, self.channels], tf.uint8, name=self.name)

    def decode(self, value: tf.Tensor) -> tf.Tensor:
        """``string [B]`` or ``uint8 [B, H, W, C]`` -> ``float32 [B, S, S, C]`` in [-1, 1]."""
        if self.encoding == "bytes":
            fit = lambda data: fit_encoded(data, self.image_size, self.channels)  # noqa: E731
        else:
            fit = lambda pixels: fit_pixels(pixels, self.image_size, self.channels)  # noqa: E731
        return tf.map_fn(fit, value, fn_output_signature=tf.float32)

    def example(self, batch: int) -> np.ndarray:
        """White images (PNG-encoded for ``"bytes"``) of the model's size."""
        blank = np.full((self.image_size, self.image_size, self.channels), 255, np.uint8)
        if self.encoding == "bytes":
            return np.asarray([tf.io.encode_png(blank).numpy()] * batch, object)
        return np.stack([blank] * batch)


@dataclasses.dataclass(frozen=True)
class TensorInput(ServingInput):
    """A plain tensor input.

    Attributes:
        name: wire name and model-side key.
        dtype: its dtype.
        shape: the shape after the batch (or leading) dimension, e.g. ``(latent_dim,)``.
        example_fn: batch size -> a valid value (for warm-up), or a fixed value when `fixed` is set.
        decode_fn: optional served tensor -> model input (e.g. string labels -> checked ids).
        fixed: an example that does not depend on the batch (one warm-up request), e.g. the label names.
    """

    name: str
    dtype: tf.DType
    shape: tuple[int, ...] = ()
    example_fn: Callable[[int], np.ndarray] | None = None
    decode_fn: Callable[[tf.Tensor], tf.Tensor] | None = None
    fixed: np.ndarray | None = None

    @property
    def spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None, *self.shape], self.dtype, name=self.name)

    def decode(self, value: tf.Tensor) -> tf.Tensor:
        return self.decode_fn(value) if self.decode_fn is not None else value

    def example(self, batch: int) -> np.ndarray:
        if self.fixed is not None:
            return np.asarray(self.fixed)
        if self.example_fn is None:
            raise ValueError(f"TensorInput {self.name!r} has no example for warm-up requests")
        return self.example_fn(batch)

    @property
    def batched(self) -> bool:
        return self.fixed is None


@dataclasses.dataclass(frozen=True)
class LabelMapInput(ServingInput):
    """A part map: a single-channel PNG whose pixel values are class indices (wire name ``<name>_bytes``,
    string [B], any size), fitted to the model's square as `fit_label` fits training labels (aspect
    kept, nearest-neighbour, padded with class 0, the background) and one-hot encoded.

    A map with more than one channel, or holding an index >= `num_classes`, fails with INVALID_ARGUMENT.

    Attributes:
        name: the model-side key, e.g. ``"label_map"``.
        image_size: the model's input side.
        num_classes: C.
    """

    name: str
    image_size: int
    num_classes: int

    @property
    def spec(self) -> tf.TensorSpec:
        return tf.TensorSpec([None], tf.string, name=f"{self.name}_bytes")

    def fit(self, data: tf.Tensor) -> tf.Tensor:
        """One PNG -> ``float32 [S, S, C]`` one-hot."""
        from shoes_generator.data.pipeline import fit_label

        classes = tf.io.decode_png(data, channels=0)
        channels = tf.shape(classes)[-1]
        single = tf.debugging.Assert(tf.equal(channels, 1), [
            f"{self.name}_bytes must be single-channel PNGs whose pixel values are class indices (8-bit greyscale, mode L; "
            "a palette or colour PNG decodes to colour channels). Received: a PNG of channels", channels,
        ])
        with tf.control_dependencies([single]):
            largest = tf.cast(tf.reduce_max(classes), tf.int32)
        in_range = tf.debugging.Assert(tf.less(largest, self.num_classes), [
            f"{self.name}_bytes holds a class index outside [0, {self.num_classes}) (the model has {self.num_classes} classes). "
            "Received: largest index", largest,
        ])
        with tf.control_dependencies([in_range]):
            fitted = fit_label(classes[..., :1], self.image_size)
        return tf.one_hot(tf.cast(fitted[..., 0], tf.int32), self.num_classes)

    def decode(self, value: tf.Tensor) -> tf.Tensor:
        """``string [B]`` -> ``float32 [B, S, S, C]`` one-hot."""
        return tf.map_fn(self.fit, value, fn_output_signature=tf.float32)

    def example(self, batch: int) -> np.ndarray:
        """A map of the model's size: background with a block of class 1 at the bottom and of the last class above it."""
        classes = np.zeros((self.image_size, self.image_size, 1), np.uint8)
        third = max(1, self.image_size // 3)
        classes[-third:-1, 1:-1] = 1
        classes[third:-third, third:-1] = self.num_classes - 1
        return np.asarray([tf.io.encode_png(classes).numpy()] * batch, object)
