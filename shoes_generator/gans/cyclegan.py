"""`CycleGAN`: unpaired translation between two domains (Zhu et al. 2017) trained with `fit`.

Batches are dicts ``{"a": [B, S, S, C], "b": [B, S, S, C]}`` in ``[-1, 1]``
(`shoes_generator.data.unpaired`). Each step follows pytorch-CycleGAN-and-pix2pix:
one generator update over both generators (adversarial + cycle + identity
terms, the discriminators only judging), then one discriminator update over
both discriminators, each judging real images against fakes drawn from an
`ImagePool` history, with its loss halved.
`call()` is inference (``training=False``): ``{"a"} -> {"a_to_b"}`` and/or
``{"b"} -> {"b_to_a"}``.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.gans.adversarial import AdversarialModel, apply_gradients, scaled_loss
from shoes_generator.gans.image_pool import ImagePool
from shoes_generator.gans.pix2pix import l1_distance, patch_gan_criterion


@keras.saving.register_keras_serializable(package="shoes_generator")
class CycleGAN(AdversarialModel):
    """Two generators and two discriminators trained against each other with cycle consistency.

    Args:
        generator_ab: domain A -> domain B image (float32 output in ``[-1, 1]``),
            e.g. `shoes_generator.models.resnet_generator.build_resnet_generator`.
        generator_ba: domain B -> domain A image.
        discriminator_a: image -> logits (any shape), judging domain A
            (`build_patchgan_discriminator(conditional=False)`).
        discriminator_b: the same for domain B.
        lambda_cycle: weight of both cycle L1 terms (the reference's lambda_A = lambda_B = 10).
        lambda_identity: identity L1 weight, relative to `lambda_cycle` (0.5;
            0 skips the identity passes).
        pool_size: generated images each discriminator's history keeps (50; 0: none).
        loss: "least_squares" (the reference's LSGAN) or "non_saturating"
            (BCE on logits, its "vanilla").
        seed: seed of the pools' draws (pool B uses ``seed + 1``).

    `g_optimizer` steps both generators and `d_optimizer` both discriminators, as in the reference.
    """

    NETWORK_KEYS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    TRACKED = ("g_loss", "g_gan", "cycle", "identity", "d_a", "d_b")

    def __init__(
        self,
        generator_ab: keras.Model,
        generator_ba: keras.Model,
        discriminator_a: keras.Model,
        discriminator_b: keras.Model,
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        pool_size: int = 50,
        loss: str = "least_squares",
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if lambda_cycle < 0 or lambda_identity < 0 or pool_size < 0:
            raise ValueError(
                "lambda_cycle, lambda_identity and pool_size must be >= 0. "
                f"Received: lambda_cycle={lambda_cycle}, lambda_identity={lambda_identity}, pool_size={pool_size}"
            )
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.lambda_cycle = float(lambda_cycle)
        self.lambda_identity = float(lambda_identity)
        self.pool_size = int(pool_size)
        self.loss_name = loss
        self.criterion = patch_gan_criterion(loss)
        self.seed = int(seed)
        # Each pool holds fakes of the domain its discriminator judges.
        self.pool_a = ImagePool(self.pool_size, self._image_shape(generator_ba, "generator_ba"), seed=self.seed, name="pool_a")
        self.pool_b = ImagePool(self.pool_size, self._image_shape(generator_ab, "generator_ab"), seed=self.seed + 1, name="pool_b")

    def extra_checkpoint_objects(self) -> dict:
        """Both image pools (their images, fill counts and RNG states)."""
        return {"pool_a": self.pool_a, "pool_b": self.pool_b}

    @staticmethod
    def _image_shape(generator, role):
        shape = tuple(generator.output_shape[1:])
        if len(shape) != 3 or None in shape:
            raise ValueError(f"{role} must output images of a fixed shape (H, W, C). Received: output_shape={generator.output_shape}")
        return shape

    @property
    def generator_variables(self) -> list:
        return self.generator_ab.trainable_variables + self.generator_ba.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        return self.discriminator_a.trainable_variables + self.discriminator_b.trainable_variables

    # ---------------------------------------------------------------- inference
    def call(self, inputs, training=False):
        """Translation: ``{"a": images}`` -> ``{"a_to_b": G_AB(a)}``, ``{"b": images}`` ->
        ``{"b_to_a": G_BA(b)}``, both when both are given."""
        if not isinstance(inputs, dict) or not {"a", "b"} & set(inputs):
            received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise ValueError(f"CycleGAN inputs are a dict with 'a' and/or 'b'. Received: {received}")
        outputs = {}
        if "a" in inputs:
            outputs["a_to_b"] = self.generator_ab(inputs["a"], training=training)
        if "b" in inputs:
            outputs["b_to_a"] = self.generator_ba(inputs["b"], training=training)
        return outputs

    # -------------------------------------------------------------- the steps
    @staticmethod
    def _split(data):
        if isinstance(data, tuple):
            data = data[0]
        missing = [key for key in ("a", "b") if key not in data]
        if missing:
            raise ValueError(f"CycleGAN batches need the keys ['a', 'b']. Missing: {missing}. Received keys: {sorted(data)}")
        return data["a"], data["b"]

    def _cycle(self, real_a, real_b, training):
        """Both translations and both reconstructions, and the summed cycle L1."""
        fake_b = self.generator_ab(real_a, training=training)
        fake_a = self.generator_ba(real_b, training=training)
        cycle = l1_distance(self.generator_ba(fake_b, training=training), real_a) + l1_distance(
            self.generator_ab(fake_a, training=training), real_b
        )
        return fake_a, fake_b, cycle

    def train_step(self, data):
        real_a, real_b = self._split(data)
        with tf.GradientTape() as tape:
            fake_a, fake_b, cycle = self._cycle(real_a, real_b, training=True)
            g_gan = self.criterion(self.discriminator_b(fake_b, training=True), True) + self.criterion(
                self.discriminator_a(fake_a, training=True), True
            )
            identity = tf.constant(0.0)
            if self.lambda_identity > 0:
                identity = l1_distance(self.generator_ab(real_b, training=True), real_b) + l1_distance(
                    self.generator_ba(real_a, training=True), real_a
                )
            g_loss = g_gan + self.lambda_cycle * cycle + self.lambda_identity * self.lambda_cycle * identity
            scaled = scaled_loss(self.g_optimizer, g_loss)
        apply_gradients(self.g_optimizer, tape, scaled, self.generator_variables)

        pooled_a = self.pool_a.query(tf.stop_gradient(fake_a))
        pooled_b = self.pool_b.query(tf.stop_gradient(fake_b))
        with tf.GradientTape() as tape:
            d_a = self._discriminator_loss(self.discriminator_a, real_a, pooled_a)
            d_b = self._discriminator_loss(self.discriminator_b, real_b, pooled_b)
            scaled = scaled_loss(self.d_optimizer, d_a + d_b)
        apply_gradients(self.d_optimizer, tape, scaled, self.discriminator_variables)
        self.step.assign_add(1)
        return self._track(g_loss=g_loss, g_gan=g_gan, cycle=cycle, identity=identity, d_a=d_a, d_b=d_b)

    def _discriminator_loss(self, discriminator, real, fake):
        real_logits = discriminator(real, training=True)
        fake_logits = discriminator(fake, training=True)
        return 0.5 * (self.criterion(real_logits, True) + self.criterion(fake_logits, False))

    def test_step(self, data):
        real_a, real_b = self._split(data)
        _, _, cycle = self._cycle(real_a, real_b, training=False)
        return self._track(cycle=cycle)

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "lambda_cycle": self.lambda_cycle,
            "lambda_identity": self.lambda_identity,
            "pool_size": self.pool_size,
            "loss": self.loss_name,
            "seed": self.seed,
        }
