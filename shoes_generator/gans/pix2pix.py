"""`Pix2Pix`: paired image-to-image translation (Isola et al. 2017) trained with `fit`.

Batches are dicts ``{"input": [B, S, S, C], "target": [B, S, S, 3]}`` in
``[-1, 1]``, plus ``"mask": [B, S, S, 1]`` when ``mask_input`` (the generator
and the discriminator's "input" then see ``concat([input, mask], -1)``).
Each step follows pytorch-CycleGAN-and-pix2pix: one generator pass, a
discriminator update on (input, target) vs (input, G(input)) with the loss
halved, then a generator update on the adversarial loss of the updated
discriminator plus ``lambda_l1 * |target - G(input)|``.
`call()` is inference with the generator (``training=False``).
"""

from __future__ import annotations

from typing import Callable

import keras
import tensorflow as tf

from shoes_generator.gans.adversarial import AdversarialModel, apply_gradients, scaled_loss

PATCH_LOSSES = ("non_saturating", "least_squares")


def patch_gan_criterion(loss: str) -> Callable[[tf.Tensor, bool], tf.Tensor]:
    """The reference's ``GANLoss``: ``(logits, target_is_real) -> scalar`` mean over every patch, in float32.

    "non_saturating" is binary cross-entropy on logits (the reference's
    "vanilla"); "least_squares" the mean squared distance to 1 or 0 (LSGAN).

    Raises:
        ValueError: unknown `loss` (the message lists the known ones).
    """
    if loss not in PATCH_LOSSES:
        raise ValueError(f"Unknown patch GAN loss. Expected one of {list(PATCH_LOSSES)}. Received: loss={loss!r}")

    def criterion(logits, target_is_real: bool):
        logits = tf.cast(logits, tf.float32)
        if loss == "least_squares":
            return tf.reduce_mean(tf.square(logits - (1.0 if target_is_real else 0.0)))
        return tf.reduce_mean(tf.nn.softplus(-logits if target_is_real else logits))

    return criterion


def l1_distance(a, b) -> tf.Tensor:
    """Mean absolute difference, in float32."""
    return tf.reduce_mean(tf.abs(tf.cast(a, tf.float32) - tf.cast(b, tf.float32)))


@keras.saving.register_keras_serializable(package="shoes_generator")
class Pix2Pix(AdversarialModel):
    """Conditional adversarial training of a U-Net `generator` against a PatchGAN `discriminator`.

    Args:
        generator: ``[B, S, S, C (+1 with mask)] -> [B, S, S, 3]`` in ``[-1, 1]``, float32 output.
        discriminator: ``{"input": [B, S, S, C (+1)], "target": [B, S, S, 3]} -> logits [B, P, P, 1]``
            (`shoes_generator.models.patchgan.build_patchgan_discriminator` with ``conditional=True``).
        lambda_l1: weight of the L1 term in the generator's loss (pix2pix: 100).
        loss: "non_saturating" (BCE on the patch logits, the reference's
            "vanilla") or "least_squares".
        mask_input: batches carry a "mask" joined to "input" on channels.
    """

    TRACKED = ("d_loss", "g_gan", "g_l1", "l1")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        lambda_l1: float = 100.0,
        loss: str = "non_saturating",
        mask_input: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if lambda_l1 < 0:
            raise ValueError(f"lambda_l1 must be >= 0. Received: lambda_l1={lambda_l1}")
        discriminator_inputs = sorted(tensor.name for tensor in discriminator.inputs)
        if discriminator_inputs != ["input", "target"]:
            raise ValueError(
                "Pix2Pix needs a conditional discriminator with inputs named 'input' and 'target' "
                f"(build_patchgan_discriminator(conditional=True)). Received: inputs={discriminator_inputs}"
            )
        self.generator = generator
        self.discriminator = discriminator
        self.lambda_l1 = float(lambda_l1)
        self.loss_name = loss
        self.criterion = patch_gan_criterion(loss)
        self.mask_input = bool(mask_input)

    # ---------------------------------------------------------------- inference
    def generator_input(self, inputs):
        """The generator's input: ``concat([input, mask], -1)`` (or ``input``) for a dict, a tensor as is."""
        if not isinstance(inputs, dict):
            return inputs
        required = ["input", "mask"] if self.mask_input else ["input"]
        missing = [key for key in required if key not in inputs]
        if missing:
            raise ValueError(f"Pix2Pix inputs need the keys {required}. Missing: {missing}. Received keys: {sorted(inputs)}")
        image = inputs["input"]
        if not self.mask_input:
            return image
        return tf.concat([image, tf.cast(inputs["mask"], image.dtype)], axis=-1)

    def call(self, inputs, training=False):
        """Generator inference: a dict batch (or the generator's input tensor) -> images ``[B, S, S, 3]``."""
        return self.generator(self.generator_input(inputs), training=training)

    def translate(self, batch) -> tf.Tensor:
        """The generator's outputs (``training=False``) for a dict batch; "target" is ignored."""
        return self(batch, training=False)

    # -------------------------------------------------------------- the steps
    def _split(self, data):
        if isinstance(data, tuple):
            data = data[0]
        if "target" not in data:
            raise ValueError(f"Pix2Pix batches need a 'target'. Received keys: {sorted(data)}")
        return self.generator_input(data), data["target"]

    def _judge(self, source, image):
        return self.discriminator({"input": source, "target": image}, training=True)

    def train_step(self, data):
        source, target = self._split(data)
        with tf.GradientTape() as g_tape:
            fake = self.generator(source, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    real_logits = self._judge(source, target)
                    fake_logits = self._judge(source, tf.stop_gradient(fake))
                    d_loss = 0.5 * (self.criterion(real_logits, True) + self.criterion(fake_logits, False))
                    scaled = scaled_loss(self.d_optimizer, d_loss)
                apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator_variables)
            g_gan = self.criterion(self._judge(source, fake), True)
            g_l1 = l1_distance(target, fake)
            scaled = scaled_loss(self.g_optimizer, g_gan + self.lambda_l1 * g_l1)
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator_variables)
        self.step.assign_add(1)
        return self._track(d_loss=d_loss, g_gan=g_gan, g_l1=g_l1)

    def test_step(self, data):
        source, target = self._split(data)
        return self._track(l1=l1_distance(target, self.generator(source, training=False)))

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "lambda_l1": self.lambda_l1,
            "loss": self.loss_name,
            "mask_input": self.mask_input,
        }
