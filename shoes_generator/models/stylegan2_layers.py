"""StyleGAN2's layers (Karras et al. 2020): equalized learning rate, modulated convolution, noise, FIR resampling.

Every weight is stored float32 and read without autocasting; the layers cast to
their compute dtype themselves, so styles and demodulation coefficients stay in
float32 under mixed precision. Resampling uses the paper's ``[1, 3, 3, 1]`` FIR
filter as depthwise convolutions (core ops only: exports to stock TF Serving).

Training noise (`NoiseInjection`) is drawn per example of the global batch: under N replicas of a
`tf.distribute` strategy each replica keeps its rows of the global batch's draw, so example j gets the
same noise whatever the replica count. The minibatch standard deviation's groups stay within each
replica's batch, as in stylegan2-ada's multi-GPU training.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from shoes_generator.gans.adversarial import replica_share

ACTIVATIONS = ("linear", "lrelu")
_FIR = (0.125, 0.375, 0.375, 0.125)  # [1, 3, 3, 1] / 8: one axis of the separable filter.
FIR_COMPUTE_DTYPES = {"bfloat16": "float32"}  # Input dtype -> the dtype the FIR filters run in (see `_fir`).


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(f"Unknown activation. Expected one of {list(ACTIVATIONS)}. Received: activation={activation!r}")
    return activation


def _activate(x, activation: str):
    """``"lrelu"``: leaky ReLU 0.2 times sqrt(2) (keeps unit variance); ``"linear"``: identity."""
    if activation == "lrelu":
        return ops.leaky_relu(x, negative_slope=0.2) * math.sqrt(2.0)
    return x


def _fir_kernel(channels: int, dtype, phases: bool = False):
    """The depthwise kernel of the ``[1, 3, 3, 1]`` filter: ``[4, 4, C, 1]``, or with `phases` the four
    3x3 polyphase kernels of its 2x upsampling (gain 4), ``[3, 3, C, 4]`` (phase ``2 dy + dx``)."""
    if not phases:
        taps = np.outer(_FIR, _FIR)[:, :, None, None]
    else:
        even, odd = np.array([0.25, 0.75, 0.0]), np.array([0.0, 0.75, 0.25])  # Output 2i and 2i + 1 from x[i-1 .. i+1].
        taps = np.stack([np.outer(dy, dx) for dy in (even, odd) for dx in (even, odd)], axis=-1)[:, :, None, :]
    return ops.cast(np.tile(taps, (1, 1, channels, 1)).astype("float32"), dtype)


def _pad_hw(x, pad: int):
    return ops.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]])


def _fir(x, pad: int, strides: int = 1, phases: bool = False):
    """The depthwise convolution of `x`, padded by `pad` zeros, with the FIR kernel (`_fir_kernel`).

    bfloat16 inputs are filtered in float32 and cast back: oneDNN's bfloat16 depthwise convolution
    runs its backward pass about 10x slower than float32's on CPU (measured on one core: 164 ms
    against 17 ms of a 32-image `stylegan2_fmnist_color` step), and the filter is a tiny part of the
    step's FLOPs. The cast happens on every device (two element-wise passes, cheap on a GPU too).

    Args:
        x: ``[B, H, W, C]``.
        pad: zeros added on each side of H and W.
        strides: 2 to keep every second pixel.
        phases: the four polyphase kernels of 2x upsampling (``C * 4`` outputs).
    """
    dtype = FIR_COMPUTE_DTYPES.get(keras.backend.standardize_dtype(x.dtype), x.dtype)
    kernel = _fir_kernel(int(x.shape[-1]), dtype, phases=phases)
    filtered = ops.depthwise_conv(_pad_hw(ops.cast(x, dtype), pad), kernel, strides=strides, padding="valid")
    return ops.cast(filtered, x.dtype)


def blur(x, pad: int):
    """``[1, 3, 3, 1]`` FIR filter (sum 1) over H and W of ``[B, H, W, C]`` after `pad` zeros each side:
    output side ``H + 2 * pad - 3``. One depthwise convolution (slices and adds cost ten times more)."""
    return _fir(x, pad)


def downsample_2x(x):
    """Halves H and W: FIR filter then every second pixel (upfirdn2d with down=2, padding 1), as one strided
    depthwise convolution."""
    return _fir(x, 1, strides=2)


def upsample_2x(x):
    """Doubles H and W: zeros inserted, FIR filter with gain 4 (upfirdn2d with up=2, padding (2, 1)),
    computed polyphase: per axis, even outputs ``x[i-1]/4 + 3 x[i]/4``, odd ``3 x[i]/4 + x[i+1]/4``
    (zero beyond the border). One depthwise convolution gives the four phases, a transpose interleaves them."""
    _, height, width, channels = (int(d) if d is not None else -1 for d in x.shape)
    phases = _fir(x, 1, phases=True)
    phases = ops.reshape(phases, [-1, height, width, channels, 2, 2])  # [..., c, dy, dx]
    return ops.reshape(ops.transpose(phases, [0, 1, 4, 2, 5, 3]), [-1, 2 * height, 2 * width, channels])


class _EqualizedLayer(keras.layers.Layer):
    """Shared by the equalized-lr layers: float32 weights read without autocast, cast by hand."""

    def __init__(self, lr_multiplier: float = 1.0, activation: str = "linear", **kwargs):
        super().__init__(**kwargs)
        if lr_multiplier <= 0:
            raise ValueError(f"lr_multiplier must be positive. Received: lr_multiplier={lr_multiplier}")
        self.lr_multiplier = float(lr_multiplier)
        self.activation = _check_activation(activation)

    def _add_kernel(self, shape, name="kernel"):
        """Kernel ~ N(0, 1 / lr_multiplier); its runtime value is scaled by `kernel_gain`."""
        self.fan_in = math.prod(shape[:-1])
        return self.add_weight(
            name=name, shape=shape, initializer=keras.initializers.RandomNormal(0.0, 1.0 / self.lr_multiplier), autocast=False
        )

    def _add_bias(self, units, bias_init=0.0, name="bias"):
        return self.add_weight(name=name, shape=(units,), initializer=keras.initializers.Constant(bias_init), autocast=False)

    @property
    def kernel_gain(self) -> float:
        """The runtime weight scale: ``lr_multiplier / sqrt(fan_in)``."""
        return self.lr_multiplier / math.sqrt(self.fan_in)

    def scaled_kernel(self):
        """The float32 kernel the layer computes with (stored kernel times `kernel_gain`)."""
        return ops.convert_to_tensor(self.kernel) * self.kernel_gain

    def _bias_act(self, x):
        if self.use_bias:
            x = x + ops.cast(ops.convert_to_tensor(self.bias) * self.lr_multiplier, self.compute_dtype)
        return _activate(x, self.activation)

    def get_config(self):
        return {**super().get_config(), "lr_multiplier": self.lr_multiplier, "activation": self.activation}


@keras.saving.register_keras_serializable(package="shoes_generator")
class EqualizedDense(_EqualizedLayer):
    """Dense layer with equalized learning rate (StyleGAN): weights ~ N(0, 1/lr_multiplier) scaled at
    runtime by ``lr_multiplier / sqrt(fan_in)``, bias scaled by ``lr_multiplier``.

    Args:
        units: output features.
        use_bias: add a bias.
        bias_init: the stored bias's initial value (the runtime bias is it times `lr_multiplier`).
        lr_multiplier: learning-rate multiplier (0.01 in the mapping network).
        activation: "linear" or "lrelu" (leaky ReLU 0.2 times sqrt(2)).
    """

    def __init__(self, units: int, use_bias: bool = True, bias_init: float = 0.0, lr_multiplier: float = 1.0,
                 activation: str = "linear", **kwargs):
        super().__init__(lr_multiplier, activation, **kwargs)
        self.units = int(units)
        self.use_bias = bool(use_bias)
        self.bias_init = float(bias_init)

    def build(self, input_shape):
        self.kernel = self._add_kernel((int(input_shape[-1]), self.units))
        if self.use_bias:
            self.bias = self._add_bias(self.units, self.bias_init)

    def call(self, x):
        x = ops.matmul(ops.cast(x, self.compute_dtype), ops.cast(self.scaled_kernel(), self.compute_dtype))
        return self._bias_act(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias, "bias_init": self.bias_init}


@keras.saving.register_keras_serializable(package="shoes_generator")
class EqualizedConv2D(_EqualizedLayer):
    """'Same' 2D convolution with equalized learning rate; optionally halving the resolution.

    With `down`, a 1x1 conv runs after a FIR downsample and a kxk conv runs with stride 2 after
    a FIR blur padded by ``(k + 1) / 2`` (StyleGAN2's conv2d_resample).

    Args:
        filters: output channels.
        kernel_size: odd kernel side.
        down: halve H and W.
        use_bias: add a bias.
        lr_multiplier: learning-rate multiplier.
        activation: "linear" or "lrelu".
    """

    def __init__(self, filters: int, kernel_size: int, down: bool = False, use_bias: bool = True,
                 lr_multiplier: float = 1.0, activation: str = "linear", **kwargs):
        super().__init__(lr_multiplier, activation, **kwargs)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive. Received: kernel_size={kernel_size}")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.down = bool(down)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        self.kernel = self._add_kernel((self.kernel_size, self.kernel_size, int(input_shape[-1]), self.filters))
        if self.use_bias:
            self.bias = self._add_bias(self.filters)

    def call(self, x):
        x = ops.cast(x, self.compute_dtype)
        kernel = ops.cast(self.scaled_kernel(), self.compute_dtype)
        if self.down and self.kernel_size == 1:
            x = ops.conv(downsample_2x(x), kernel, padding="valid")
        elif self.down:
            x = ops.conv(blur(x, (self.kernel_size + 1) // 2), kernel, strides=2, padding="valid")
        else:
            x = ops.conv(x, kernel, padding="same")
        return self._bias_act(x)

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        if self.down:
            height, width = height // 2, width // 2
        return (batch, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "down": self.down,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="shoes_generator")
class ModulatedConv2D(keras.layers.Layer):
    """StyleGAN2's modulated convolution: ``[x [B, H, W, Cin], w [B, w_dim]] -> [B, H', W', filters]``.

    The style ``s = affine(w)`` (equalized dense, bias init 1) scales the input channels, a plain
    'same' conv runs with the shared weight, and with `demodulate` the output channels are scaled
    by ``d = 1 / sqrt(sum_{kh,kw,i} (W s_i)^2 + 1e-8)``: equal to the paper's per-sample weight
    ``W * s / ||W * s||`` with one batched conv. Styles and ``d`` are computed in float32; under a
    16-bit policy the styles are divided by their max first (``d`` cancels that scale).

    With `up`, the style-scaled input is FIR-upsampled before the conv (the paper's transposed
    conv followed by the FIR blur, up to the border padding).

    Args:
        filters: output channels.
        kernel_size: odd kernel side.
        demodulate: weight demodulation (off for toRGB).
        up: double H and W.
        use_bias: add a bias after the conv (toRGB).
    """

    def __init__(self, filters: int, kernel_size: int, demodulate: bool = True, up: bool = False,
                 use_bias: bool = False, **kwargs):
        super().__init__(autocast=False, **kwargs)
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive. Received: kernel_size={kernel_size}")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.demodulate = bool(demodulate)
        self.up = bool(up)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        self.in_channels, self.w_dim = int(x_shape[-1]), int(w_shape[-1])
        normal = keras.initializers.RandomNormal(0.0, 1.0)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, self.in_channels, self.filters), initializer=normal, autocast=False
        )
        self.affine_kernel = self.add_weight(name="affine_kernel", shape=(self.w_dim, self.in_channels), initializer=normal, autocast=False)
        self.affine_bias = self.add_weight(name="affine_bias", shape=(self.in_channels,), initializer="ones", autocast=False)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros", autocast=False)

    def styles(self, w):
        """``affine(w)``: the float32 per-sample input-channel scales ``[B, Cin]``."""
        kernel = ops.convert_to_tensor(self.affine_kernel) / math.sqrt(self.w_dim)
        return ops.matmul(ops.cast(w, "float32"), kernel) + ops.convert_to_tensor(self.affine_bias)

    def scaled_kernel(self):
        """The float32 shared weight: stored kernel over ``sqrt(fan_in)``."""
        return ops.convert_to_tensor(self.kernel) / math.sqrt(self.kernel_size * self.kernel_size * self.in_channels)

    def call(self, inputs):
        x, w = inputs
        compute = self.compute_dtype
        styles = self.styles(w)
        kernel = self.scaled_kernel()
        if self.demodulate:
            if compute != "float32":
                styles = styles / ops.max(ops.abs(styles), axis=1, keepdims=True)
            energy = ops.matmul(ops.square(styles), ops.sum(ops.square(kernel), axis=(0, 1)))
            coefficients = ops.rsqrt(energy + 1e-8)
        x = ops.cast(x, compute) * ops.cast(styles[:, None, None, :], compute)
        if self.up:
            x = upsample_2x(x)
        x = ops.conv(x, ops.cast(kernel, compute), padding="same")
        if self.demodulate:
            x = x * ops.cast(coefficients[:, None, None, :], compute)
        if self.use_bias:
            x = x + ops.cast(self.bias, compute)
        return x

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape[0]
        if self.up:
            height, width = height * 2, width * 2
        return (batch, height, width, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "demodulate": self.demodulate,
            "up": self.up,
            "use_bias": self.use_bias,
        }


@keras.saving.register_keras_serializable(package="shoes_generator")
class ToRGB(ModulatedConv2D):
    """StyleGAN2's toRGB: a modulated 1x1 conv without demodulation, plus a bias.

    Args:
        channels: image channels.
    """

    def __init__(self, channels: int = 3, **kwargs):
        super().__init__(channels, 1, demodulate=False, up=False, use_bias=True, **kwargs)
        self.channels = int(channels)

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "kernel_size", "demodulate", "up", "use_bias"):
            del config[key]
        return {**config, "channels": self.channels}


@keras.saving.register_keras_serializable(package="shoes_generator")
class NoiseInjection(keras.layers.Layer):
    """Adds per-pixel noise ``[B, H, W, 1]`` times a learned strength (init 0) to ``[B, H, W, C]``.

    ``training=True``: fresh normal noise from the layer's own `SeedGenerator`, per example of the
    global batch (`replica_share`: under N replicas, this replica's rows of the global draw). Otherwise
    (inference, ``training`` None or False): a fixed noise buffer (a non-trainable weight, saved
    with the model), so generation is deterministic. The generator's state is in
    ``layer.variables`` (not ``layer.weights``) and is a child of the layer for
    `tf.train.Checkpoint`, so a checkpoint restores the noise sequence.

    Args:
        seed: seed of the noise buffer's initializer and of the training noise.
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed, name="noise_seed")

    def build(self, input_shape):
        height, width = int(input_shape[1]), int(input_shape[2])
        self.strength = self.add_weight(name="strength", shape=(), initializer="zeros")
        self.noise_const = self.add_weight(
            name="noise_const", shape=(height, width, 1), initializer=keras.initializers.RandomNormal(seed=self.seed), trainable=False
        )

    def call(self, x, training=None):
        if training:
            shape = ops.shape(x)
            draw = lambda rows: keras.random.normal((rows, shape[1], shape[2], 1), dtype=self.compute_dtype, seed=self.seed_generator)  # noqa: E731
            noise = replica_share(draw, shape[0])
        else:
            noise = ops.cast(self.noise_const, self.compute_dtype)[None]
        return x + noise * ops.cast(self.strength, self.compute_dtype)

    def _trackable_children(self, save_type="checkpoint", **kwargs):
        # tf.train.Checkpoint walks trackable attributes; SeedGenerator is none, so name its state here.
        children = super()._trackable_children(save_type, **kwargs)
        children["noise_seed_state"] = self.seed_generator.state
        return children

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="shoes_generator")
class BiasActivation(keras.layers.Layer):
    """Per-channel bias (init 0) then an activation: "lrelu" (leaky ReLU 0.2 times sqrt(2)) or "linear".

    Args:
        activation: "linear" or "lrelu".
    """

    def __init__(self, activation: str = "lrelu", **kwargs):
        super().__init__(**kwargs)
        self.activation = _check_activation(activation)

    def build(self, input_shape):
        self.bias = self.add_weight(name="bias", shape=(int(input_shape[-1]),), initializer="zeros")

    def call(self, x):
        return _activate(x + self.bias, self.activation)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


@keras.saving.register_keras_serializable(package="shoes_generator")
class ConstantInput(keras.layers.Layer):
    """The learned ``[size, size, channels]`` start of the synthesis network (init N(0, 1)),
    repeated for the batch of its input (any tensor whose first axis is the batch).

    Args:
        channels: feature maps.
        size: side.
    """

    def __init__(self, channels: int, size: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.channels = int(channels)
        self.size = int(size)

    def build(self, input_shape):
        self.const = self.add_weight(
            name="const", shape=(self.size, self.size, self.channels), initializer=keras.initializers.RandomNormal(0.0, 1.0)
        )

    def call(self, reference):
        batch = ops.shape(reference)[0]
        return ops.broadcast_to(self.const[None], (batch, self.size, self.size, self.channels))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "size": self.size}


@keras.saving.register_keras_serializable(package="shoes_generator")
class WSlice(keras.layers.Layer):
    """``w[:, index]``: one w ``[B, w_dim]`` out of ``[B, num_ws, w_dim]``.

    Args:
        index: which w.
    """

    def __init__(self, index: int, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, w):
        return w[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@keras.saving.register_keras_serializable(package="shoes_generator")
class Normalize2ndMoment(keras.layers.Layer):
    """``x / sqrt(mean(x^2, -1) + 1e-8)`` (StyleGAN's pixel norm on vectors), computed in float32."""

    def call(self, x):
        x32 = ops.cast(x, "float32")
        x32 = x32 * ops.rsqrt(ops.mean(ops.square(x32), axis=-1, keepdims=True) + 1e-8)
        return ops.cast(x32, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="shoes_generator")
class FIRUpsample2D(keras.layers.Layer):
    """Doubles H and W of ``[B, H, W, C]`` with the ``[1, 3, 3, 1]`` FIR filter (`upsample_2x`)."""

    def call(self, x):
        return upsample_2x(x)

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (batch, height * 2, width * 2, channels)


@keras.saving.register_keras_serializable(package="shoes_generator")
class GroupedMinibatchStdDev(keras.layers.Layer):
    """StyleGAN2's minibatch standard deviation: appends `num_channels` feature maps holding, per
    group of samples, the mean over features of their standard deviation across the group.

    Samples ``n`` and ``n + B / G`` share a group (stylegan2-ada's layout). The group is
    ``G = min(group_size, B)``; when ``B`` is not divisible by it, the largest divisor of ``B``
    below it (e.g. B=6, group_size 4: 3; a prime B: 1). Statistics in float32. Under N replicas of a
    `tf.distribute` strategy the groups are formed within each replica's batch (as stylegan2-ada does
    per GPU), so the features differ from one process's over the global batch unless the group is 1.

    Args:
        group_size: samples per group (4 in the paper).
        num_channels: appended feature maps (the features are split into that many parts).
    """

    def __init__(self, group_size: int = 4, num_channels: int = 1, **kwargs):
        super().__init__(**kwargs)
        if group_size < 1 or num_channels < 1:
            raise ValueError(
                f"group_size and num_channels must be positive. Received: group_size={group_size}, num_channels={num_channels}"
            )
        self.group_size = int(group_size)
        self.num_channels = int(num_channels)

    def group(self, batch):
        """The group size for a (possibly symbolic) batch size."""
        group = ops.ones_like(batch)
        for candidate in range(2, self.group_size + 1):
            group = ops.where(ops.logical_and(candidate <= batch, batch % candidate == 0), candidate, group)
        return group

    def call(self, x):
        _, height, width, channels = (int(d) if d is not None else None for d in x.shape)
        if channels % self.num_channels:
            raise ValueError(f"Channels must divide into num_channels={self.num_channels}. Received: channels={channels}")
        batch = ops.shape(x)[0]
        group = self.group(batch)
        x32 = ops.cast(x, "float32")
        y = ops.reshape(x32, (group, -1, height, width, self.num_channels, channels // self.num_channels))
        y = ops.sqrt(ops.var(y, axis=0) + 1e-8)  # [n, H, W, F, c]
        y = ops.mean(y, axis=(1, 2, 4))  # [n, F]
        y = ops.tile(y, (group, 1))  # [B, F]: sample g * n + j gets group j's value.
        y = ops.broadcast_to(y[:, None, None, :], (batch, height, width, self.num_channels))
        return ops.cast(ops.concatenate([x32, y], axis=-1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_channels)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "num_channels": self.num_channels}
