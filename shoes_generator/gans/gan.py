"""`GAN`: a keras.Model that owns a generator and a discriminator and trains with `fit`.

Batches are dicts: ``{"image": float [B, H, W, C] in [-1, 1], <label>: int32 [B], ...}``
(string labels are turned into ids by `shoes_generator.labels.Vocabularies`).
`call()` is inference with the EMA generator: ``{"z", <label>...} -> images``.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.gans.adversarial import AdversarialModel, apply_gradients, replica_share, scaled_loss
from shoes_generator.gans.ema import clone_for_ema, ema_update
from shoes_generator.losses import get_loss, gradient_penalty, mode_seeking_penalty, paired_labels


@keras.saving.register_keras_serializable(package="shoes_generator")
class GAN(AdversarialModel):
    """Adversarial training of `generator` against `discriminator` with `model.fit`.

    Args:
        generator: ``z`` (or ``{"z", <label>...}``) -> image, float32 output.
        discriminator: image (or ``{"image", <label>...}``) -> logit ``[B, 1]``.
        latent_dim: size of ``z``.
        label_names: the conditioning labels, in the generator's input names.
        label_sizes: label name -> vocabulary size; lets the EMA generator's
            BatchNorm statistics be recomputed from random labels.
        loss: "non_saturating", "hinge", "least_squares" or "wgan_gp".
        gp_weight: WGAN-GP penalty weight.
        d_steps: discriminator updates per generator update (each on the same
            real batch, as in the DCGAN and CycleGAN recipes).
        ema_decay: decay of the generator's weight average; 0 disables it.
        mode_seeking: weight of the mode-seeking term (Mao et al. 2019, MSGAN):
            the generator step pairs the two halves of its batch under the same
            labels and penalizes ``1 / (|G(z1) - G(z2)| / |z1 - z2|)``, so the
            noise keeps mattering (against mode collapse). 0 disables it.
        seed: seed of the noise drawn during training.
    """

    NETWORK_KEYS = ("generator", "discriminator")
    TRACKED = ("d_loss", "g_loss", "d_real", "d_fake", "gp")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        label_names: Sequence[str] = (),
        label_sizes: dict | None = None,
        loss: str = "non_saturating",
        gp_weight: float = 10.0,
        d_steps: int = 1,
        ema_decay: float = 0.999,
        mode_seeking: float = 0.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if d_steps < 1:
            raise ValueError(f"d_steps must be >= 1. Received: d_steps={d_steps}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must lie in [0, 1). Received: ema_decay={ema_decay}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.label_names = tuple(label_names)
        self.label_sizes = {name: int(size) for name, size in (label_sizes or {}).items()}
        self.loss_name = loss
        self.adversarial = get_loss(loss)
        self.gp_weight = float(gp_weight)
        self.d_steps = int(d_steps)
        self.ema_decay = float(ema_decay)
        self.mode_seeking = float(mode_seeking)
        self.seed = int(seed)
        self.ema_generator = clone_for_ema(generator) if ema_decay > 0 else None
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")

    def extra_checkpoint_objects(self) -> dict:
        """The EMA generator and the noise RNG state."""
        return {"ema_generator": self.ema_generator, "noise_seed": self.noise_seed.state}

    # ---------------------------------------------------------------- networks
    @property
    def sampler(self) -> keras.Model:
        """The generator used for samples and export: the EMA copy when enabled."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def refresh_sampler_statistics(self, batches: int = 40, batch_size: int = 64, seed: int = 0) -> None:
        """Recomputes the EMA generator's BatchNorm statistics for its own (averaged) weights.

        The live generator's moving statistics belong to the live weights; the
        averaged weights get theirs from `batches` forward passes in training
        mode on fixed-seed noise and uniformly drawn labels, starting from
        mean 0 and variance 1 each time, so the result depends on the weights
        and `seed` only (a run's own export and a later `shoes-export` agree).
        A no-op without EMA or BatchNorm.

        Args:
            batches: forward passes (BatchNorm momentum 0.9 converges in ~40).
            batch_size: samples per pass.
            seed: seed of the noise and labels (the training RNG is untouched).
        """
        if self.ema_generator is None or not any(
            isinstance(layer, keras.layers.BatchNormalization) for layer in self.ema_generator.layers
        ):
            return
        missing = [name for name in self.label_names if name not in self.label_sizes]
        if missing:
            return  # Without vocabulary sizes, keep the copied statistics.
        for layer in self.ema_generator.layers:  # From fixed statistics: a function of the weights and `seed` only.
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.moving_mean.assign(tf.zeros_like(layer.moving_mean))
                layer.moving_variance.assign(tf.ones_like(layer.moving_variance))
        rng = np.random.default_rng(seed)
        for _ in range(batches):
            z = rng.standard_normal((batch_size, self.latent_dim)).astype("float32")
            labels = {name: rng.integers(0, self.label_sizes[name], batch_size).astype("int32") for name in self.label_names}
            self._refresh_step(self._generator_inputs(z, labels))

    @tf.function
    def _refresh_step(self, inputs):
        self.ema_generator(inputs, training=True)

    def _generator_inputs(self, z, labels):
        return {"z": z, **labels} if self.label_names else z

    def _discriminator_inputs(self, image, labels):
        return {"image": image, **labels} if self.label_names else image

    def call(self, inputs, training=False):
        """EMA-generator inference: ``{"z", <label>...}`` (or ``z``) -> images."""
        return self.sampler(inputs, training=training)

    # -------------------------------------------------------------- the steps
    def _split(self, data):
        data = self._batch(data, ("image", *self.label_names))
        return data["image"], {name: data[name] for name in self.label_names}

    def _noise(self, batch_size):
        """``z`` for a batch: under several replicas each keeps its rows of the global batch's draw."""
        return replica_share(lambda rows: keras.random.normal([rows, self.latent_dim], seed=self.noise_seed), batch_size)

    def _discriminator_loss(self, real, labels, training):
        fake = self.generator(self._generator_inputs(self._noise(tf.shape(real)[0]), labels), training=training)
        real_logits = self.discriminator(self._discriminator_inputs(real, labels), training=training)
        fake_logits = self.discriminator(self._discriminator_inputs(fake, labels), training=training)
        loss = self.adversarial.discriminator(real_logits, fake_logits)
        gp = tf.constant(0.0)
        if self.adversarial.needs_gradient_penalty:
            critic = lambda image: self.discriminator(self._discriminator_inputs(image, labels), training=training)
            gp = gradient_penalty(critic, real, fake, seed=self.noise_seed, scale=1024.0 if self.uses_float16 else 1.0)
            loss = loss + self.gp_weight * gp
        return loss, real_logits, fake_logits, gp

    def _generator_loss(self, labels, batch_size, training):
        if self.mode_seeking > 0:  # Row i and row half + i share their labels.
            labels = paired_labels(labels, batch_size)
        z = self._noise(batch_size)
        fake = self.generator(self._generator_inputs(z, labels), training=training)
        fake_logits = self.discriminator(self._discriminator_inputs(fake, labels), training=training)
        loss = self.adversarial.generator(fake_logits)
        if self.mode_seeking > 0:
            loss = loss + self.mode_seeking * mode_seeking_penalty(fake, z)
        return loss

    def train_step(self, data):
        real, labels = self._split(data)
        for _ in range(self.d_steps):
            with tf.GradientTape() as tape:
                d_loss, real_logits, fake_logits, gp = self._discriminator_loss(real, labels, training=True)
                scaled = scaled_loss(self.d_optimizer, d_loss)
            apply_gradients(self.d_optimizer, tape, scaled, self.discriminator_variables)
        with tf.GradientTape() as tape:
            g_loss = self._generator_loss(labels, tf.shape(real)[0], training=True)
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, tape, scaled, self.generator_variables)
        self.step.assign_add(1)
        if self.ema_generator is not None:
            ema_update(self.ema_generator, self.generator, self.ema_decay, self.step)
        return self._track_losses(d_loss, g_loss, real_logits, fake_logits, gp)

    def test_step(self, data):
        real, labels = self._split(data)
        d_loss, real_logits, fake_logits, gp = self._discriminator_loss(real, labels, training=False)
        g_loss = self._generator_loss(labels, tf.shape(real)[0], training=False)
        return self._track_losses(d_loss, g_loss, real_logits, fake_logits, gp)

    def _track_losses(self, d_loss, g_loss, real_logits, fake_logits, gp):
        return self._track(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=tf.reduce_mean(self.adversarial.score(tf.cast(real_logits, tf.float32))),
            d_fake=tf.reduce_mean(self.adversarial.score(tf.cast(fake_logits, tf.float32))),
            gp=gp,
        )

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "latent_dim": self.latent_dim,
            "label_names": list(self.label_names),
            "label_sizes": dict(self.label_sizes),
            "loss": self.loss_name,
            "gp_weight": self.gp_weight,
            "d_steps": self.d_steps,
            "ema_decay": self.ema_decay,
            "mode_seeking": self.mode_seeking,
            "seed": self.seed,
        }
