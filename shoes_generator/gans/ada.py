"""`AdaptiveAugment`: adaptive discriminator augmentation (Karras et al. 2020, "Training Generative
Adversarial Networks with Limited Data", ADA), in-graph and differentiable with respect to the images.

Both real and generated images are augmented before the discriminator sees them, each of the
paper's 'bgc' transforms applied per image with probability `p`; `p` follows the overfitting
heuristic ``r_t = E[sign(D(real))]``: it rises while ``r_t`` is above `target`, falls below it.

Geometric transforms compose into one 3x3 matrix per image (pixel units, about the image
centre) and are applied once, by bilinear sampling with reflected borders built from
`tf.gather`. Not `tf.raw_ops.ImageProjectiveTransformV3`: TensorFlow registers a gradient for
it, but an approximate one (the inverse warp of the incoming gradient, not the adjoint of
bilinear sampling; under a scaling its error against finite differences is as large as the
gradient itself), while the gradient of a gather is exact. Colour transforms compose into one 4x4 matrix per image. Only
core TF ops; randomness is stateless, from the `seed` passed to each call.

Draws are per example of the global batch: under N replicas of a `tf.distribute` strategy (the same
`seed` on each) every replica draws the parameters of the global batch's rows and keeps its own
(`shoes_generator.gans.adversarial.replica_share`), so example j is augmented alike whatever the replica
count; and ``r_t`` is summed over the replicas, so every replica moves `p` as one process does.
"""

from __future__ import annotations

import math
from typing import Sequence

import keras
import tensorflow as tf

from shoes_generator.gans.adversarial import cross_replica_sum, replica_share

ADA_TRANSFORMS = (
    "xflip", "rotate90", "xint", "scale", "rotate", "aniso", "xfrac",
    "brightness", "contrast", "lumaflip", "hue", "saturation",
)  # fmt: skip
GEOMETRIC = ADA_TRANSFORMS[:7]

# The paper's 'bgc' strengths (stylegan2-ada's augment.py defaults).
XINT_MAX = 0.125  # Integer translation, fraction of the image size.
SCALE_STD = 0.2  # Log2 std of isotropic scaling.
ROTATE_MAX = 1.0  # Rotation angle, fraction of pi.
ANISO_STD = 0.2  # Log2 std of anisotropic scaling.
XFRAC_STD = 0.125  # Fractional translation std, fraction of the image size.
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5  # Log2 std.
HUE_MAX = 1.0  # Fraction of pi.
SATURATION_STD = 1.0  # Log2 std.

_LUMA = [1.0 / math.sqrt(3.0)] * 3 + [0.0]  # The luma axis of the homogeneous colour space.


def _matrices(rows):
    """Stacks nested lists of [B] tensors (or Python numbers) into [B, N, N] float32 matrices."""
    batch = next(tf.shape(entry)[0] for row in rows for entry in row if isinstance(entry, tf.Tensor))
    fill = lambda entry: entry if isinstance(entry, tf.Tensor) else tf.fill([batch], tf.constant(entry, tf.float32))
    return tf.stack([tf.stack([fill(entry) for entry in row], axis=-1) for row in rows], axis=-2)


def _translate2d(tx, ty):
    return _matrices([[1.0, 0.0, tx], [0.0, 1.0, ty], [0.0, 0.0, 1.0]])


def _scale2d(sx, sy):
    return _matrices([[sx, 0.0, 0.0], [0.0, sy, 0.0], [0.0, 0.0, 1.0]])


def _rotate2d(cos, sin):
    return _matrices([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])


def _exp2(x):
    return tf.exp(x * math.log(2.0))


def _reflect(index, size):
    """Integer pixel index -> index inside ``[0, size)``, mirrored with the edge repeated (d c b a | a b c d)."""
    period = 2 * size
    index = tf.math.floormod(index, period)
    return tf.where(index >= size, period - 1 - index, index)


def sample_bilinear(images, inverse):
    """Warps images by per-image 3x3 matrices with bilinear sampling and reflected borders.

    Output pixel ``(x, y)`` (pixel units, origin at the image centre) reads the input at
    ``inverse @ (x, y, 1)``. Built from `tf.gather`, so the gradient with respect to the
    images is the exact adjoint.

    Args:
        images: float32 ``[B, H, W, C]``.
        inverse: float32 ``[B, 3, 3]``, output coordinates -> input coordinates.
    """
    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    cy = (tf.cast(height, tf.float32) - 1.0) / 2.0
    cx = (tf.cast(width, tf.float32) - 1.0) / 2.0
    ys, xs = tf.meshgrid(tf.range(height, dtype=tf.float32) - cy, tf.range(width, dtype=tf.float32) - cx, indexing="ij")
    grid = tf.stack([tf.reshape(xs, [-1]), tf.reshape(ys, [-1]), tf.ones([height * width])], axis=0)  # [3, HW]
    source = tf.einsum("bij,jn->bin", inverse, grid)  # [B, 3, HW]; affine, so the last row stays 1.
    x = source[:, 0] + cx
    y = source[:, 1] + cy
    x0, y0 = tf.floor(x), tf.floor(y)
    wx, wy = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    flat = tf.reshape(images, [batch, height * width, channels])

    def pixel(yi, xi):
        return tf.gather(flat, _reflect(yi, height) * width + _reflect(xi, width), batch_dims=1)

    top = pixel(y0, x0) * (1.0 - wx) + pixel(y0, x0 + 1) * wx
    bottom = pixel(y0 + 1, x0) * (1.0 - wx) + pixel(y0 + 1, x0 + 1) * wx
    return tf.reshape(top * (1.0 - wy) + bottom * wy, shape)


@keras.saving.register_keras_serializable(package="shoes_generator")
class AdaptiveAugment(keras.layers.Layer):
    """ADA's augmentation pipeline and its `p` controller.

    ``augment(images, seed)`` applies each transform in `transforms` to each image
    independently with probability `p` (an image that misses a transform gets its identity);
    the two rotations both use ``1 - sqrt(1 - p)``, so some rotation happens with probability
    `p`. As in the paper, a chosen `xflip` flips with probability 1/2 and a chosen `rotate90`
    turns by k*90 degrees, k uniform in {0..3}, so flips and turns stay unbiased at any `p`.
    Colour transforms work on [-1, 1] values about 0 (mid-grey), as in the paper: contrast
    scales about 0, lumaflip reflects through the grey axis, hue rotates about it, saturation
    scales the distance from it. One-channel images take the same matrix restricted to grey:
    brightness, contrast and lumaflip (negation about 0); hue and saturation leave grey as is.
    `p == 0` returns the input unchanged, with no augmentation ops run.

    The controller: the train step calls `accumulate(real_logits)` each step and
    ``maybe_update(step, batch_size)``; every `interval` steps ``r_t = mean(sign(real_logits))``
    over the interval (and over all replicas), ``p += sign(r_t - target) * batch_size * interval /
    speed_images`` (`batch_size`: the global batch), clipped to [0, 1]. `p`, `rt` and the accumulators
    are variables (`checkpoint_objects()`).

    Args:
        target: the ``r_t`` to hold (0.6 in the paper).
        interval: steps between updates of `p` (4 in the paper).
        speed_images: images over which `p` can move from 0 to 1 (500k in the paper).
        initial_p: starting `p` of an adaptive run.
        transforms: names from `ADA_TRANSFORMS` to use.
        fixed_p: a constant `p` (the controller still measures `rt` but never moves `p`);
            None: adaptive.
        **kwargs: base layer arguments (`name`); computation is always float32.
    """

    def __init__(
        self,
        target: float = 0.6,
        interval: int = 4,
        speed_images: int = 500_000,
        initial_p: float = 0.0,
        transforms: Sequence[str] = ADA_TRANSFORMS,
        fixed_p: float | None = None,
        **kwargs,
    ):
        kwargs["dtype"] = "float32"
        kwargs["autocast"] = False  # Inputs keep their dtype; outputs are cast back to it.
        super().__init__(**kwargs)
        transforms = (transforms,) if isinstance(transforms, str) else tuple(transforms)
        unknown = [name for name in transforms if name not in ADA_TRANSFORMS]
        if unknown or len(set(transforms)) != len(transforms):
            raise ValueError(
                f"transforms must be distinct names from {ADA_TRANSFORMS}. Received: transforms={transforms}"
            )
        if interval < 1 or speed_images <= 0:
            raise ValueError(
                f"AdaptiveAugment needs interval >= 1 and speed_images > 0. "
                f"Received: interval={interval}, speed_images={speed_images}"
            )
        for name, value in (("initial_p", initial_p), ("fixed_p", fixed_p)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1]. Received: {name}={value}")
        self.target = float(target)
        self.interval = int(interval)
        self.speed_images = int(speed_images)
        self.initial_p = float(initial_p)
        self.transforms = transforms
        self.fixed_p = None if fixed_p is None else float(fixed_p)
        start = self.initial_p if self.fixed_p is None else self.fixed_p
        # p and rt are the same on every replica; the accumulators are summed across replicas
        # in `accumulate`, so every variable takes the first replica's update.
        scalar = dict(shape=(), dtype="float32", trainable=False, aggregation="only_first_replica")
        self.p = self.add_weight(initializer=keras.initializers.Constant(start), name="p", **scalar)
        self.rt = self.add_weight(initializer="zeros", name="rt", **scalar)
        self.acc_sum = self.add_weight(initializer="zeros", name="acc_sum", **scalar)
        self.acc_count = self.add_weight(initializer="zeros", name="acc_count", **scalar)
        self.built = True

    # ----------------------------------------------------------- augmentation
    def __call__(self, images, seed, **kwargs):
        # Keras takes only tensors positionally; a seed may come as a list or numpy array.
        return super().__call__(images, tf.convert_to_tensor(seed), **kwargs)

    def call(self, images, seed):
        return self.augment(images, seed)

    def augment(self, images, seed):
        """Augments ``[B, H, W, C]`` images (C = 1 or 3, values in [-1, 1]) with a stateless ``[2]`` int seed.

        Under N replicas the images are this replica's rows of a global batch, and it takes those rows
        of the global batch's draws (the same `seed` on every replica).

        Args:
            images: float ``[B, H, W, C]``.
            seed: int ``[2]``.

        Returns:
            The images in their own dtype (computed in float32).
        """
        images = tf.convert_to_tensor(images)
        if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"AdaptiveAugment takes [B, H, W, 1 or 3] images. Received: shape={images.shape}")
        if not images.dtype.is_floating:
            raise ValueError(f"AdaptiveAugment takes float images in [-1, 1]. Received: dtype={images.dtype.name}")
        seed = tf.convert_to_tensor(seed)
        p = tf.convert_to_tensor(self.p)
        return tf.cond(p > 0.0, lambda: self._augment(images, seed, p), lambda: tf.identity(images))

    def _augment(self, images, seed, p):
        dtype = images.dtype
        x = tf.cast(images, tf.float32)
        batch = tf.shape(x)[0]
        draws = _Draws(seed, batch, p)
        if any(name in self.transforms for name in GEOMETRIC):
            x = sample_bilinear(x, self._geometry(draws, tf.shape(x)))
        if any(name not in GEOMETRIC for name in self.transforms):
            x = self._colour(x, self._colour_matrix(draws, batch))
        return tf.cast(x, dtype)

    def _geometry(self, draws, shape):
        """Per-image 3x3 matrix from output to input pixel coordinates (about the centre)."""
        height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        on = lambda name: name in self.transforms
        inverse = tf.eye(3, batch_shape=[shape[0]])
        if on("xflip"):
            flip = draws.gated("xflip", draws.uniform("xflip") < 0.5, False)
            inverse = inverse @ _scale2d(tf.where(flip, -1.0, 1.0), 1.0)
        if on("rotate90"):  # Exact quarter turns (no cos(pi/2) rounding), so pixels map to pixels.
            k = draws.gated("rotate90", tf.cast(tf.floor(draws.uniform("rotate90") * 4.0), tf.int32) % 4, 0)
            inverse = inverse @ _rotate2d(tf.gather([1.0, 0.0, -1.0, 0.0], k), tf.gather([0.0, -1.0, 0.0, 1.0], k))
        if on("xint"):
            tx = tf.round((draws.uniform("xint") * 2.0 - 1.0) * XINT_MAX * width)
            ty = tf.round((draws.uniform("xint") * 2.0 - 1.0) * XINT_MAX * height)
            tx, ty = draws.gated("xint", tx, 0.0, both=ty)
            inverse = inverse @ _translate2d(-tx, -ty)
        if on("scale"):
            s = draws.gated("scale", _exp2(draws.normal("scale") * SCALE_STD), 1.0)
            inverse = inverse @ _scale2d(1.0 / s, 1.0 / s)
        p_rotate = 1.0 - tf.sqrt(tf.maximum(1.0 - draws.p, 0.0))  # Pre and post: some rotation with prob. p.
        if on("rotate"):
            theta = draws.gated("rotate", (draws.uniform("rotate") * 2.0 - 1.0) * math.pi * ROTATE_MAX, 0.0, p=p_rotate)
            inverse = inverse @ _rotate2d(tf.cos(-theta), tf.sin(-theta))
        if on("aniso"):
            s = draws.gated("aniso", _exp2(draws.normal("aniso") * ANISO_STD), 1.0)
            inverse = inverse @ _scale2d(1.0 / s, s)
        if on("rotate"):
            theta = draws.gated("rotate", (draws.uniform("rotate") * 2.0 - 1.0) * math.pi * ROTATE_MAX, 0.0, p=p_rotate)
            inverse = inverse @ _rotate2d(tf.cos(-theta), tf.sin(-theta))
        if on("xfrac"):
            tx, ty = draws.normal("xfrac") * XFRAC_STD * width, draws.normal("xfrac") * XFRAC_STD * height
            tx, ty = draws.gated("xfrac", tx, 0.0, both=ty)
            inverse = inverse @ _translate2d(-tx, -ty)
        return inverse

    def _colour_matrix(self, draws, batch):
        """Per-image 4x4 homogeneous RGB matrix, applied to values about 0 (mid-grey)."""
        on = lambda name: name in self.transforms
        eye = tf.eye(4, batch_shape=[batch])
        luma = tf.constant(_LUMA)
        luma_outer = tf.tensordot(luma, luma, axes=0)  # [4, 4]: projection onto the grey axis.
        matrix = eye
        if on("brightness"):
            b = draws.gated("brightness", draws.normal("brightness") * BRIGHTNESS_STD, 0.0)
            matrix = _matrices([[1.0, 0.0, 0.0, b], [0.0, 1.0, 0.0, b], [0.0, 0.0, 1.0, b], [0.0, 0.0, 0.0, 1.0]]) @ matrix
        if on("contrast"):
            c = draws.gated("contrast", _exp2(draws.normal("contrast") * CONTRAST_STD), 1.0)
            matrix = _matrices([[c, 0.0, 0.0, 0.0], [0.0, c, 0.0, 0.0], [0.0, 0.0, c, 0.0], [0.0, 0.0, 0.0, 1.0]]) @ matrix
        if on("lumaflip"):
            flip = draws.gated("lumaflip", tf.cast(draws.uniform("lumaflip") < 0.5, tf.float32), 0.0)
            matrix = (eye - 2.0 * luma_outer * flip[:, None, None]) @ matrix  # Householder reflection.
        if on("hue"):
            theta = draws.gated("hue", (draws.uniform("hue") * 2.0 - 1.0) * math.pi * HUE_MAX, 0.0)
            matrix = _rotate_about_luma(theta) @ matrix
        if on("saturation"):
            s = draws.gated("saturation", _exp2(draws.normal("saturation") * SATURATION_STD), 1.0)
            matrix = (luma_outer + (eye - luma_outer) * s[:, None, None]) @ matrix
        return matrix

    @staticmethod
    def _colour(x, matrix):
        if x.shape[-1] == 3:
            return tf.einsum("bij,bhwj->bhwi", matrix[:, :3, :3], x) + matrix[:, None, None, :3, 3]
        # Grey maps to grey (hue and saturation keep it): grey -> mean row sum * grey + mean offset.
        scale = tf.reduce_mean(tf.reduce_sum(matrix[:, :3, :3], axis=-1), axis=-1)
        offset = tf.reduce_mean(matrix[:, :3, 3], axis=-1)
        return x * scale[:, None, None, None] + offset[:, None, None, None]

    # ------------------------------------------------------------- controller
    def accumulate(self, real_logits) -> None:
        """Adds ``sum(sign(real_logits))`` and their count to the running sums, summed across replicas (the global batch's).

        Args:
            real_logits: the discriminator's logits of this replica's real images.
        """
        logits = tf.cast(real_logits, tf.float32)
        stats = tf.stack([tf.reduce_sum(tf.sign(logits)), tf.cast(tf.size(logits), tf.float32)])
        stats = cross_replica_sum(tf.stop_gradient(stats))
        self.acc_sum.assign_add(stats[0])
        self.acc_count.assign_add(stats[1])

    def maybe_update(self, step, batch_size) -> None:
        """Every `interval` steps (``step % interval == 0``, ``step > 0``), measures `rt`, moves `p`, resets the sums.

        Graph-safe (branch-free `tf.where` on scalars); `p` stays put under `fixed_p` and when nothing
        was accumulated.

        Args:
            step: the training step (int or scalar tensor), counted after this step's update.
            batch_size: real images per step over all replicas: the global batch (int or scalar tensor).
        """
        step = tf.cast(step, tf.int64)
        count = tf.convert_to_tensor(self.acc_count)
        due = tf.logical_and(tf.logical_and(step > 0, step % self.interval == 0), count > 0.0)
        rt = tf.convert_to_tensor(self.acc_sum) / tf.maximum(count, 1.0)
        p = tf.convert_to_tensor(self.p)
        if self.fixed_p is None:
            adjust = tf.sign(rt - self.target) * tf.cast(batch_size, tf.float32) * self.interval / self.speed_images
            self.p.assign(tf.where(due, tf.clip_by_value(p + adjust, 0.0, 1.0), p))
        self.rt.assign(tf.where(due, rt, tf.convert_to_tensor(self.rt)))
        self.acc_sum.assign(tf.where(due, 0.0, tf.convert_to_tensor(self.acc_sum)))
        self.acc_count.assign(tf.where(due, 0.0, count))

    def checkpoint_objects(self) -> dict:
        """The state a resumed run restores, for `tf.train.Checkpoint`."""
        return {"ada_p": self.p, "ada_rt": self.rt, "ada_sum": self.acc_sum, "ada_count": self.acc_count}

    def get_config(self):
        return {
            "target": self.target,
            "interval": self.interval,
            "speed_images": self.speed_images,
            "initial_p": self.initial_p,
            "transforms": list(self.transforms),
            "fixed_p": self.fixed_p,
        }


def _rotate_about_luma(theta):
    """Per-image 4x4 rotation by `theta` about the grey axis (Rodrigues)."""
    v = 1.0 / math.sqrt(3.0)
    cos, sin = tf.cos(theta), tf.sin(theta)
    a = v * v * (1.0 - cos)  # The v v^T (1 - cos) term; every entry of v v^T is 1/3.
    s = v * sin
    return _matrices(
        [
            [cos + a, a - s, a + s, 0.0],
            [a + s, cos + a, a - s, 0.0],
            [a - s, a + s, cos + a, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ]
    )


class _Draws:
    """Stateless per-image draws: transform `name` gets seeds folded from its index in ADA_TRANSFORMS,
    so its draws do not depend on which other transforms are on. Each draw is this replica's rows of the
    global batch's (`replica_share`): one process draws its `batch` as before.

    Args:
        seed: int ``[2]``, the same on every replica.
        batch: this replica's images.
        p: the probability of each transform.
    """

    def __init__(self, seed, batch, p):
        self.seed = seed
        self.batch = batch
        self.p = p
        self.counts = {}

    def _seed(self, name):
        count = self.counts.get(name, 0)
        self.counts[name] = count + 1
        base = tf.random.experimental.stateless_fold_in(self.seed, ADA_TRANSFORMS.index(name))
        return tf.random.experimental.stateless_fold_in(base, count)

    def uniform(self, name):
        seed = self._seed(name)
        return replica_share(lambda rows: tf.random.stateless_uniform([rows], seed), self.batch)

    def normal(self, name):
        seed = self._seed(name)
        return replica_share(lambda rows: tf.random.stateless_normal([rows], seed), self.batch)

    def gated(self, name, value, identity, p=None, both=None):
        """`value` where a Bernoulli(p) draw per image says so, else `identity` (also for `both`, same draw)."""
        chosen = self.uniform(name) < (self.p if p is None else p)
        pick = lambda v: tf.where(chosen, v, tf.cast(identity, tf.convert_to_tensor(v).dtype))
        return pick(value) if both is None else (pick(value), pick(both))
