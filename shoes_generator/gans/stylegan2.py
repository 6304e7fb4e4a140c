"""`StyleGAN2`: mapping + synthesis against a residual discriminator, with ADA, trained by `model.fit`.

The objective of Karras et al. 2020 ("Analyzing and improving the image quality of
StyleGAN") as the ADA paper trains it: the non-saturating logistic loss, lazy R1 on
the reals every ``r1_interval`` steps (weighted by the interval, as lazy regularization
asks), optional path-length regularization every ``pl_interval`` steps, style mixing
(two latents, crossover at a random layer) with probability ``style_mixing``, an EMA
copy of both generator networks, and adaptive discriminator augmentation of every image
the discriminator sees (real and generated; the generator's gradient goes through it).

Where it differs from stylegan2-ada-pytorch, on purpose: R1 and path length are added to the main
steps' losses on their intervals (no separate regularization step, so no ``mb_ratio`` adjustment
of Adam's rate and betas); the style-mixing crossover is drawn per image, not per batch; path length
runs on every second example of the batch (its labels, fresh latents).

Under a `tf.distribute` strategy of N replicas it trains as one process with the same global batch
and data order: every per-example draw (latents, style-mixing layer and flag, the path-length ``y``,
the synthesis noise, ADA's parameters) is per example of the global batch (each replica keeps its rows
of the global draw, `replica_share`), and the statistics that move variables (ADA's ``r_t``, the
path-length mean) are summed over the replicas. What stays per replica: the discriminator's minibatch
standard deviation groups (as in stylegan2-ada's multi-GPU training).

Batches are dicts ``{"image": float [B, H, W, C] in [-1, 1], <label>: int32 [B], ...}``.
`call()` is inference with the EMA networks: ``{"z", <label>...}`` (or ``z``) -> images.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.gans.ada import AdaptiveAugment
from shoes_generator.gans.adversarial import (
    AdversarialModel,
    apply_gradients,
    cross_replica_sum,
    replica_share,
    replicas_in_sync,
    scaled_loss,
)
from shoes_generator.gans.ema import clone_for_ema, ema_update
from shoes_generator.gans.inversion import invert_ws, nearest_centre

PL_DECAY = 0.01  # The path-length mean's moving-average rate (the paper's).
PL_BATCH_SHRINK = 2  # Path length on every 2nd example of the batch (stylegan2-ada's pl_batch_shrink).


def _f32(x):
    return tf.cast(x, tf.float32)


def broadcast_ws(w: tf.Tensor, num_ws: int) -> tf.Tensor:
    """``[B, w_dim]`` -> ``[B, num_ws, w_dim]``: the same w for every synthesis layer."""
    return tf.tile(w[:, None, :], [1, num_ws, 1])


def crossover(ws: tf.Tensor, style_ws: tf.Tensor, layer: tf.Tensor) -> tf.Tensor:
    """Style mixing: layers below `layer` (``int [B]``) from `ws`, the rest from `style_ws` (both ``[B, num_ws, w_dim]``)."""
    index = tf.range(tf.shape(ws)[1], dtype=tf.int64)[None, :]
    coarse = index < tf.cast(layer, tf.int64)[:, None]
    return tf.where(coarse[..., None], ws, style_ws)


def label_combination_ids(labels: dict, label_sizes: dict, batch_size=None) -> tf.Tensor:
    """The row of each example's label combination in `StyleGAN2.average_w` (mixed radix in `label_sizes` order,
    the first label slowest): ``int64 [B]``, zeros without labels (``batch_size`` then gives B)."""
    ids = tf.zeros([batch_size], tf.int64) if batch_size is not None else None
    for name, size in label_sizes.items():
        value = tf.cast(labels[name], tf.int64)
        ids = value if ids is None else ids * size + value
    return ids


@keras.saving.register_keras_serializable(package="shoes_generator")
class StyleGAN2(AdversarialModel):
    """StyleGAN2-ADA training of `mapping` and `synthesis` against `discriminator` with `model.fit`.

    Args:
        mapping: ``{"z", <label>...}`` -> ``w`` float32 [B, w_dim].
        synthesis: ``{"w": [B, num_ws, w_dim]}`` -> images [B, H, W, C] (float32, unclipped).
        discriminator: ``{"image", <label>...}`` -> logit [B, 1].
        latent_dim: size of ``z``.
        label_names: the conditioning labels (the mapping's and discriminator's label inputs).
        label_sizes: label name -> vocabulary size (for uniformly drawn labels and `average_w`).
        r1_gamma: R1 weight gamma (the penalty is ``gamma / 2 * |grad D(real)|^2``); 0 disables it.
        r1_interval: R1 every this many steps (lazy regularization; the paper's 16).
        pl_weight: path-length regularization weight (the paper's 2; 0 disables it).
        pl_interval: path-length regularization every this many steps (the paper's 4).
        style_mixing: probability of mixing two latents in a generated image (the paper's 0.9).
        ema_decay: decay of the generator networks' weight average; 0 disables it.
        augment: `AdaptiveAugment` settings (its ``get_config()``), or None for no augmentation.
        seed: seed of the noise, labels, mixing and augmentation draws.
    """

    NETWORK_KEYS = ("mapping", "synthesis", "discriminator")
    # r1 and pl are logged as added to the losses (gamma/2 and pl_weight, times their intervals), averaged
    # over the steps that ran them.
    TRACKED = ("d_loss", "g_loss", "d_real", "d_fake", "r1", "pl")

    def __init__(
        self,
        mapping: keras.Model,
        synthesis: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        label_names: Sequence[str] = (),
        label_sizes: dict | None = None,
        r1_gamma: float = 10.0,
        r1_interval: int = 16,
        pl_weight: float = 0.0,
        pl_interval: int = 4,
        style_mixing: float = 0.9,
        ema_decay: float = 0.999,
        augment: dict | None = None,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for key, value in (("r1_interval", r1_interval), ("pl_interval", pl_interval)):
            if int(value) < 1:
                raise ValueError(f"{key} must be >= 1. Received: {key}={value}")
        if not 0.0 <= style_mixing <= 1.0:
            raise ValueError(f"style_mixing must lie in [0, 1]. Received: style_mixing={style_mixing}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie in [0, 1). Received: ema_decay={ema_decay}")
        self.mapping = mapping
        self.synthesis = synthesis
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.label_names = tuple(label_names)
        self.label_sizes = {name: int(size) for name, size in (label_sizes or {}).items()}
        missing = [name for name in self.label_names if name not in self.label_sizes]
        if missing:
            raise ValueError(f"label_sizes needs every label of label_names. Missing: {missing}")
        self.label_sizes = {name: self.label_sizes[name] for name in self.label_names}  # average_w's row order.
        self.num_ws = int(synthesis.inputs[0].shape[1])
        self.w_dim = int(synthesis.inputs[0].shape[2])
        self.r1_gamma = float(r1_gamma)
        self.r1_interval = int(r1_interval)
        self.pl_weight = float(pl_weight)
        self.pl_interval = int(pl_interval)
        self.style_mixing = float(style_mixing)
        self.ema_decay = float(ema_decay)
        self.seed = int(seed)
        self.augment_config = dict(augment) if augment is not None else None
        self.augment = AdaptiveAugment.from_config(self.augment_config) if augment is not None else None
        self.ema_mapping = clone_for_ema(mapping) if ema_decay > 0 else None
        self.ema_synthesis = clone_for_ema(synthesis) if ema_decay > 0 else None
        self.pl_mean = keras.Variable(0.0, dtype="float32", trainable=False, name="pl_mean")
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")

    def extra_checkpoint_objects(self) -> dict:
        """The EMA networks, the path-length mean, the noise RNG state and the augmentation's p and statistics."""
        objects = {
            "ema_mapping": self.ema_mapping,
            "ema_synthesis": self.ema_synthesis,
            "pl_mean": self.pl_mean,
            "noise_seed": self.noise_seed.state,
        }
        if self.augment is not None:
            objects.update(self.augment.checkpoint_objects())
        return objects

    # ---------------------------------------------------------------- networks
    @property
    def generator_variables(self) -> list:
        return self.mapping.trainable_variables + self.synthesis.trainable_variables

    @property
    def sampler_networks(self) -> tuple[keras.Model, keras.Model]:
        """The mapping and synthesis networks of samples and exports: the EMA copies when enabled."""
        if self.ema_mapping is not None:
            return self.ema_mapping, self.ema_synthesis
        return self.mapping, self.synthesis

    def refresh_sampler_statistics(self, *args, **kwargs) -> None:
        """Nothing to refresh: the networks hold no batch statistics (kept for the callbacks' protocol)."""

    def _mapping_inputs(self, z, labels):
        return {"z": z, **{name: labels[name] for name in self.label_names}}

    def _discriminator_inputs(self, image, labels):
        return {"image": image, **{name: labels[name] for name in self.label_names}}

    def ws(self, z, labels, truncation=None, w_avg=None, mapping=None) -> tf.Tensor:
        """``z`` and label ids -> ``[B, num_ws, w_dim]``, truncated toward `w_avg` rows when `truncation` (psi) is given.

        Args:
            z: ``float32 [B, latent_dim]``.
            labels: label name -> ``int32 [B]``.
            truncation: ``float32 [B]`` psi (1 = off), or None.
            w_avg: ``[B, w_dim]`` the average w of each example's labels (needed with `truncation`).
            mapping: the mapping network (default: the sampler's).
        """
        mapping = mapping or self.sampler_networks[0]
        if truncation is not None and w_avg is None:
            raise ValueError("Truncation pulls w toward the labels' average w: give w_avg (rows of average_w) with truncation.")
        w = _f32(mapping(self._mapping_inputs(z, labels), training=False))
        if truncation is not None:
            psi = tf.reshape(_f32(truncation), [-1, 1])
            w = w_avg + psi * (w - w_avg)
        return broadcast_ws(w, self.num_ws)

    def synthesize(self, ws: tf.Tensor, clip: bool = True) -> tf.Tensor:
        """``[B, num_ws, w_dim]`` -> images from the sampler's synthesis network (constant noise), in [-1, 1] when `clip`."""
        images = _f32(self.sampler_networks[1]({"w": ws}, training=False))
        return tf.clip_by_value(images, -1.0, 1.0) if clip else images

    def invert(self, images: tf.Tensor, centres: tf.Tensor, steps: int, learning_rate: float) -> tf.Tensor:
        """``W+`` latents ``[B, num_ws, w_dim]`` of `images` (``[B, H, W, C]`` in [-1, 1]; see `gans.inversion`).

        Args:
            images: the photos, fitted to the model's square.
            centres: ``[K, w_dim]`` candidate starts (`average_w`'s rows); the nearest one's shoe wins.
            steps: Adam steps.
            learning_rate: Adam's step size.
        """
        synthesize = lambda ws: self.synthesize(ws, clip=False)  # noqa: E731
        start = nearest_centre(images, centres, synthesize, self.num_ws)
        return invert_ws(images, synthesize, start, steps, learning_rate)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of the synthesized images."""
        return tuple(int(d) for d in self.synthesis.outputs[0].shape[1:])

    def call(self, inputs, training=False):
        """EMA inference: ``{"z", <label>...}`` (or ``z``) -> images in [-1, 1]."""
        if isinstance(inputs, dict):
            missing = [key for key in ("z", *self.label_names) if key not in inputs]
            if missing:
                raise ValueError(f"StyleGAN2 inputs need the keys {['z', *self.label_names]}. Missing: {missing}")
            z, labels = inputs["z"], {name: inputs[name] for name in self.label_names}
        elif self.label_names:
            raise ValueError(f"A conditional StyleGAN2 takes a dict with z and its labels {list(self.label_names)}, not a bare z.")
        else:
            z, labels = inputs, {}
        return self.synthesize(self.ws(z, labels))

    def label_combinations(self) -> list[dict[str, int]]:
        """Every combination of label ids, in `average_w`'s row order."""
        ranges = [range(self.label_sizes[name]) for name in self.label_names]
        return [dict(zip(self.label_names, combo)) for combo in itertools.product(*ranges)]

    def average_w(self, samples: int = 512, seed: int = 0) -> np.ndarray:
        """The sampler mapping's mean ``w`` per label combination: ``float32 [combinations, w_dim]`` (truncation's centres).

        Measured from `samples` fixed-seed latents per combination, so it is a function of the
        (averaged) weights and `seed` only: the run's own export and a later `shoes-export` agree,
        and it belongs to the EMA mapping that serves (a moving average kept during training
        would belong to the live one).

        Args:
            samples: latents per label combination.
            seed: seed of those latents.
        """
        z = tf.constant(np.random.default_rng(seed).standard_normal((samples, self.latent_dim)).astype("float32"))
        mapping = self.sampler_networks[0]
        rows = []
        for combo in self.label_combinations():
            labels = {name: tf.fill([samples], tf.constant(value, tf.int32)) for name, value in combo.items()}
            rows.append(tf.reduce_mean(_f32(mapping(self._mapping_inputs(z, labels), training=False)), axis=0))
        return tf.stack(rows).numpy()

    # -------------------------------------------------------------- the steps
    def _split(self, data):
        data = self._batch(data, ("image", *self.label_names))
        return data["image"], {name: data[name] for name in self.label_names}

    def _noise(self, batch_size):
        """``[batch_size, latent_dim]`` latents, per example of the global batch.

        Args:
            batch_size: this replica's examples.
        """
        return replica_share(lambda rows: keras.random.normal([rows, self.latent_dim], seed=self.noise_seed), batch_size)

    def _draw_seed(self):
        """A fresh ``int32 [2]`` stateless seed from the noise RNG (for the augmentation)."""
        return keras.random.randint([2], 0, 2**31 - 1, dtype="int32", seed=self.noise_seed)

    def _training_ws(self, labels, batch_size):
        """Latents of a generated batch with style mixing: ``[B, num_ws, w_dim]``."""
        ws = broadcast_ws(_f32(self.mapping(self._mapping_inputs(self._noise(batch_size), labels), training=True)), self.num_ws)
        if self.style_mixing <= 0:
            return ws
        style_ws = broadcast_ws(_f32(self.mapping(self._mapping_inputs(self._noise(batch_size), labels), training=True)), self.num_ws)
        layer = replica_share(lambda rows: keras.random.randint([rows], 1, self.num_ws, dtype="int32", seed=self.noise_seed), batch_size)
        mixed = replica_share(lambda rows: keras.random.uniform([rows], seed=self.noise_seed), batch_size) < self.style_mixing
        layer = tf.where(mixed, layer, self.num_ws)
        return crossover(ws, style_ws, layer)

    def _augmented(self, images):
        images = _f32(images)
        if self.augment is None:
            return images
        return tf.ensure_shape(self.augment(images, self._draw_seed()), images.shape)  # The networks need static sizes.

    def _logits(self, images, labels, training=True):
        return _f32(self.discriminator(self._discriminator_inputs(self._augmented(images), labels), training=training))

    def _r1_penalty(self, real, labels):
        """``gamma / 2 * mean |d D(augment(real)) / d real|^2``, times the interval (lazy regularization)."""
        scale = 1024.0 if self.uses_float16 else 1.0  # Keeps the inner gradient above float16's underflow.
        with tf.GradientTape() as inner:
            inner.watch(real)
            logits = self._logits(real, labels)
            total = tf.reduce_sum(logits) * scale
        grads = _f32(inner.gradient(total, real)) / scale
        penalty = tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
        return penalty * (self.r1_gamma / 2.0) * self.r1_interval

    def _path_lengths(self, labels, batch_size):
        """``|J_w^T y|`` of every `PL_BATCH_SHRINK`-th example (rows 0, 2, ...): ``float32 [ceil(B / 2)]``, ``y`` random in image space.

        Every second example (stylegan2-ada's ``pl_batch_shrink`` 2: the second synthesis pass and double
        backward cost half as much), picked by stride, so the rows are the global batch's rows 0, 2, ...
        whatever the replica count (when each replica's batch is even).

        Args:
            labels: label name -> ``int32 [B]``, this replica's.
            batch_size: this replica's examples B.
        """
        batch_size = (batch_size + PL_BATCH_SHRINK - 1) // PL_BATCH_SHRINK
        labels = {name: values[::PL_BATCH_SHRINK] for name, values in labels.items()}
        ws = self._training_ws(labels, batch_size)
        with tf.GradientTape() as inner:
            inner.watch(ws)
            images = _f32(self.synthesis({"w": ws}, training=True))
            size = tf.cast(tf.shape(images)[1] * tf.shape(images)[2], tf.float32)
            shape = tf.shape(images)[1:]
            y = replica_share(lambda rows: keras.random.normal(tf.concat([[rows], shape], 0), seed=self.noise_seed), batch_size)
            total = tf.reduce_sum(images * (y / tf.sqrt(size)))
        grads = _f32(inner.gradient(total, ws))
        return tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(grads), axis=2), axis=1))

    def _path_length_penalty(self, lengths):
        """``mean (lengths - a)^2`` times the weight and interval, ``a`` the lengths' moving mean; moves `pl_mean`.

        The mean moves by the mean of every replica's lengths (a cross-replica sum, outside any `tf.cond`),
        as one process's over the global batch; empty `lengths` (a step without the penalty) give 0 and
        leave `pl_mean` as it is.

        Args:
            lengths: `_path_lengths` of this replica, or ``[0]`` on a step without the penalty.
        """
        count = tf.cast(tf.size(lengths), tf.float32)
        total, global_count = tf.unstack(cross_replica_sum(tf.stack([tf.reduce_sum(lengths), count])))
        mean = self.pl_mean + PL_DECAY * (total / tf.maximum(global_count, 1.0) - self.pl_mean)
        self.pl_mean.assign(tf.where(global_count > 0, tf.stop_gradient(mean), self.pl_mean))
        penalty = tf.reduce_sum(tf.square(lengths - mean)) / tf.maximum(count, 1.0)  # As the reference: the mean is not detached.
        return penalty * self.pl_weight * self.pl_interval

    def _lazily(self, interval: int, weight: float, penalty, otherwise=None):
        """``(penalty(), True)`` on steps divisible by `interval`, else ``(otherwise, False)``; no graph at all when
        `weight` is 0 (then ``(0, False)``).

        Args:
            interval: steps between two runs of `penalty`.
            weight: the penalty's weight (0: off).
            penalty: ``() -> tensor``, built in a `tf.cond` branch (no cross-replica sums inside).
            otherwise: what a step without it gives, shaped like `penalty()`'s result (default a scalar 0).
        """
        if weight <= 0:
            return tf.constant(0.0), tf.constant(False)
        otherwise = tf.constant(0.0) if otherwise is None else otherwise
        due = tf.equal(self.step % interval, 0)
        return tf.cond(due, penalty, lambda: otherwise), due

    def train_step(self, data):
        real, labels = self._split(data)
        real = _f32(real)
        batch_size = tf.shape(real)[0]

        fake = tf.stop_gradient(self.synthesis({"w": self._training_ws(labels, batch_size)}, training=True))
        with tf.GradientTape() as tape:  # The discriminator's step: the generator's activations stay off the tape.
            real_logits = self._logits(real, labels)
            fake_logits = self._logits(fake, labels)
            d_loss = tf.reduce_mean(tf.nn.softplus(fake_logits)) + tf.reduce_mean(tf.nn.softplus(-real_logits))
            r1, did_r1 = self._lazily(self.r1_interval, self.r1_gamma, lambda: self._r1_penalty(real, labels))
            scaled = scaled_loss(self.d_optimizer, d_loss + r1)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator_variables)

        with tf.GradientTape() as tape:
            fake = self.synthesis({"w": self._training_ws(labels, batch_size)}, training=True)
            g_loss = tf.reduce_mean(tf.nn.softplus(-self._logits(fake, labels)))
            lengths, did_pl = self._lazily(self.pl_interval, self.pl_weight, lambda: self._path_lengths(labels, batch_size), tf.zeros([0]))
            pl = self._path_length_penalty(lengths) if self.pl_weight > 0 else tf.constant(0.0)
            scaled = scaled_loss(self.g_optimizer, g_loss + pl)
        apply_gradients(self.g_optimizer, tape, scaled, self.generator_variables)

        self.step.assign_add(1)
        if self.ema_mapping is not None:
            ema_update(self.ema_mapping, self.mapping, self.ema_decay, self.step)
            ema_update(self.ema_synthesis, self.synthesis, self.ema_decay, self.step)
        logs = self._track(d_loss=d_loss, g_loss=g_loss, d_real=tf.reduce_mean(tf.sigmoid(real_logits)),
                           d_fake=tf.reduce_mean(tf.sigmoid(fake_logits)))
        self.trackers["r1"].update_state(r1, sample_weight=tf.cast(did_r1, tf.float32))
        self.trackers["pl"].update_state(pl, sample_weight=tf.cast(did_pl, tf.float32))
        logs.update(r1=self.trackers["r1"].result(), pl=self.trackers["pl"].result())
        if self.augment is not None:
            self.augment.accumulate(real_logits)
            self.augment.maybe_update(self.step, batch_size * replicas_in_sync())  # The global batch's images.
            logs.update(ada_p=tf.identity(self.augment.p), ada_rt=tf.identity(self.augment.rt))
        return logs

    def test_step(self, data):
        real, labels = self._split(data)
        real = _f32(real)
        fake = self.synthesis({"w": self._training_ws(labels, tf.shape(real)[0])}, training=False)
        real_logits = self._logits(real, labels, training=False)
        fake_logits = self._logits(fake, labels, training=False)
        d_loss = tf.reduce_mean(tf.nn.softplus(fake_logits)) + tf.reduce_mean(tf.nn.softplus(-real_logits))
        return self._track(d_loss=d_loss, g_loss=tf.reduce_mean(tf.nn.softplus(-fake_logits)),
                           d_real=tf.reduce_mean(tf.sigmoid(real_logits)), d_fake=tf.reduce_mean(tf.sigmoid(fake_logits)))

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "label_names": list(self.label_names),
            "label_sizes": dict(self.label_sizes),
            "r1_gamma": self.r1_gamma,
            "r1_interval": self.r1_interval,
            "pl_weight": self.pl_weight,
            "pl_interval": self.pl_interval,
            "style_mixing": self.style_mixing,
            "ema_decay": self.ema_decay,
            "augment": self.augment_config,
            "seed": self.seed,
        }
