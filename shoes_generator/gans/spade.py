"""`SPADEGAN`: semantic image synthesis (SPADE / GauGAN, Park et al. 2019) trained with `fit`.

Batches are dicts ``{"image": [B, S, S, 3] in [-1, 1], "mask": [B, S, S, 1] class indices}``
(the segmentation data: a shoe photo and its part map). One step, as the reference's
``pix2pix_model`` with ``use_vae``:

- the style encoder gives ``mu, logvar`` of the photo, ``z = mu + exp(logvar / 2) * eps``;
- the generator draws ``G(parts, z)``;
- the multi-scale discriminator is updated on the hinge loss of (parts, photo) against
  (parts, G(parts, z)) (both in one call: instance norm keeps examples apart);
- generator and encoder are updated together on the hinge loss of the updated discriminator,
  ``lambda_feat`` x feature matching (L1 between the discriminator's features of the fake and the
  real image, every layer but the logits, averaged over scales), ``lambda_kld`` x the KL
  divergence of ``N(mu, exp(logvar))`` from ``N(0, 1)``, and ``lambda_l1`` x the L1 distance to
  the photo (0 in the paper, whose VGG loss plays that role and cannot be loaded offline here).

Inference: `synthesize(parts, z)`; a seed draws ``z ~ N(0, 1)``, a style image encodes its own.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from shoes_generator.gans.adversarial import AdversarialModel, apply_gradients, replica_share, scaled_loss
from shoes_generator.gans.pix2pix import l1_distance
from shoes_generator.losses import gaussian_kl, get_loss

# The paper's objective, the project's hinge terms: D ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``, G ``-E[D(fake)]``.
HINGE = get_loss("hinge")


def hinge_d_loss(real_logits, fake_logits) -> tf.Tensor:
    """The discriminator's hinge loss ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``, in float32 (`HINGE`'s)."""
    return HINGE.discriminator(real_logits, fake_logits)


def kl_divergence(mu, logvar) -> tf.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, 1)), summed over the latent and averaged over the batch (float32)."""
    return tf.reduce_mean(gaussian_kl(mu, logvar))


@keras.saving.register_keras_serializable(package="shoes_generator")
class SPADEGAN(AdversarialModel):
    """SPADE generator + style encoder against a multi-scale PatchGAN.

    Args:
        generator: ``{"parts": one-hot [B, S, S, C], "z": [B, z_dim]} -> [B, S, S, 3]`` (`build_spade_generator`).
        discriminator: ``{"image", "parts"} ->`` a flat list of features and logits per scale
            (`build_multiscale_discriminator`).
        encoder: ``image -> {"mu", "logvar"}`` (`build_style_encoder`).
        outputs_per_scale: the discriminator's outputs per scale (its layers + the logits).
        lambda_feat: feature-matching weight (10 in the paper).
        lambda_kld: KL weight (0.05 in the paper).
        lambda_l1: L1-to-the-photo weight (0 in the paper).
        lambda_vgg: weight of `perceptual` (10 in the paper).
        perceptual: ``(fake, real) -> loss``, e.g. `shoes_generator.perceptual.VGGLoss` (None: no perceptual loss).
        seed: seed of the ``eps`` drawn in training (its state is checkpointed).
    """

    NETWORK_KEYS = ("generator", "discriminator", "encoder")
    TRACKED = ("d_loss", "g_hinge", "g_feat", "g_kld", "g_l1", "l1")

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        encoder: keras.Model,
        outputs_per_scale: int,
        lambda_feat: float = 10.0,
        lambda_kld: float = 0.05,
        lambda_l1: float = 0.0,
        lambda_vgg: float = 0.0,
        perceptual=None,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        weights = {"lambda_feat": lambda_feat, "lambda_kld": lambda_kld, "lambda_l1": lambda_l1, "lambda_vgg": lambda_vgg}
        negative = {name: value for name, value in weights.items() if value < 0}
        if negative:
            raise ValueError(f"The loss weights must be >= 0. Received: {negative}")
        if lambda_vgg > 0 and perceptual is None:
            raise ValueError(f"lambda_vgg={lambda_vgg} needs a perceptual loss (perceptual=VGGLoss()). Received: perceptual=None")
        outputs = len(discriminator.outputs)
        if outputs_per_scale < 2 or outputs % outputs_per_scale:
            raise ValueError(
                f"The discriminator's {outputs} outputs do not split into scales of {outputs_per_scale} "
                "(its layers' features, then the logits)."
            )
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        self.outputs_per_scale = int(outputs_per_scale)
        self.lambda_feat, self.lambda_kld, self.lambda_l1 = float(lambda_feat), float(lambda_kld), float(lambda_l1)
        self.lambda_vgg, self.perceptual = float(lambda_vgg), perceptual
        self.seed = int(seed)
        self.num_classes = int(generator.input["parts"].shape[-1])
        self.z_dim = int(generator.input["z"].shape[-1])
        self.noise_seed = keras.random.SeedGenerator(seed, name="noise_seed")

    @property
    def generator_variables(self) -> list:
        """The generator and the style encoder learn together."""
        return self.generator.trainable_variables + self.encoder.trainable_variables

    def extra_checkpoint_objects(self) -> dict:
        return {"noise_seed": self.noise_seed.state}

    # ---------------------------------------------------------------- inference
    def one_hot(self, class_map) -> tf.Tensor:
        """Class indices ``[B, S, S]`` or ``[B, S, S, 1]`` -> one-hot float32 ``[B, S, S, C]``."""
        class_map = tf.convert_to_tensor(class_map)
        if class_map.shape.rank == 4:
            class_map = class_map[..., 0]
        return tf.one_hot(tf.cast(tf.round(tf.cast(class_map, tf.float32)), tf.int32), self.num_classes)

    def synthesize(self, parts, z, training: bool = False) -> tf.Tensor:
        """Images ``[B, S, S, 3]`` in [-1, 1] of one-hot `parts` and latents `z`."""
        return self.generator({"parts": parts, "z": z}, training=training)

    def style(self, images, eps, training: bool = False) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """``(z, mu, logvar)`` of style `images`: ``z = mu + exp(logvar / 2) * eps``."""
        encoded = self.encoder(images, training=training)
        mu, logvar = encoded["mu"], encoded["logvar"]
        return mu + tf.exp(0.5 * logvar) * tf.cast(eps, mu.dtype), mu, logvar

    def call(self, inputs, training=False):
        """``{"mask": class indices, "z"}`` (or ``"image"`` as the style, with ``"eps"``) -> images."""
        parts = self.one_hot(inputs["mask"])
        z = inputs["z"] if "z" in inputs else self.style(inputs["image"], inputs["eps"])[0]
        return self.synthesize(parts, z, training=training)

    # -------------------------------------------------------------- the steps
    def _judge(self, images, parts) -> list[list[tf.Tensor]]:
        """The discriminator's outputs grouped by scale: ``[[features..., logits], ...]``."""
        outputs = self.discriminator({"image": images, "parts": parts}, training=True)
        n = self.outputs_per_scale
        return [outputs[i : i + n] for i in range(0, len(outputs), n)]

    def _split_halves(self, scales, batch) -> tuple[list, list]:
        first = [[tensor[:batch] for tensor in scale] for scale in scales]
        second = [[tensor[batch:] for tensor in scale] for scale in scales]
        return first, second

    def feature_matching(self, fake_scales, real_scales) -> tf.Tensor:
        """Mean over scales of the summed L1 distances between the fake's and the (fixed) real's features."""
        per_scale = [
            tf.add_n([l1_distance(fake, tf.stop_gradient(real)) for fake, real in zip(fake_features[:-1], real_features[:-1])])
            for fake_features, real_features in zip(fake_scales, real_scales)
        ]
        return tf.add_n(per_scale) / len(per_scale)

    def train_step(self, data):
        batch = self._batch(data, ("image", "mask"))
        real, parts = batch["image"], self.one_hot(batch["mask"])
        size = tf.shape(real)[0]
        eps = replica_share(lambda rows: keras.random.normal([rows, self.z_dim], seed=self.noise_seed), size)
        both_parts = tf.concat([parts, parts], axis=0)
        with tf.GradientTape() as g_tape:
            z, mu, logvar = self.style(real, eps, training=True)
            fake = self.synthesize(parts, z, training=True)
            with g_tape.stop_recording():
                with tf.GradientTape() as d_tape:
                    real_scales, fake_scales = self._split_halves(
                        self._judge(tf.concat([real, tf.stop_gradient(fake)], axis=0), both_parts), size
                    )
                    d_loss = tf.add_n([hinge_d_loss(r[-1], f[-1]) for r, f in zip(real_scales, fake_scales)]) / len(real_scales)
                    scaled = scaled_loss(self.d_optimizer, d_loss)
                apply_gradients(self.d_optimizer, d_tape, scaled, self.discriminator_variables)
            fake_scales, real_scales = self._split_halves(self._judge(tf.concat([fake, real], axis=0), both_parts), size)
            g_hinge = tf.add_n([HINGE.generator(f[-1]) for f in fake_scales]) / len(fake_scales)
            g_feat = self.feature_matching(fake_scales, real_scales)
            g_kld = kl_divergence(mu, logvar)
            g_l1 = l1_distance(real, fake)
            total = g_hinge + self.lambda_feat * g_feat + self.lambda_kld * g_kld + self.lambda_l1 * g_l1
            if self.lambda_vgg > 0:
                total += self.lambda_vgg * self.perceptual(fake, real)
            scaled = scaled_loss(self.g_optimizer, total)
        apply_gradients(self.g_optimizer, g_tape, scaled, self.generator_variables)
        self.step.assign_add(1)
        return self._track(d_loss=d_loss, g_hinge=g_hinge, g_feat=g_feat, g_kld=g_kld, g_l1=g_l1)

    def test_step(self, data):
        batch = self._batch(data, ("image", "mask"))
        z, _, _ = self.style(batch["image"], tf.zeros([tf.shape(batch["image"])[0], self.z_dim]))
        return self._track(l1=l1_distance(batch["image"], self.synthesize(self.one_hot(batch["mask"]), z)))

    # ------------------------------------------------------------ serialization
    def get_config(self):
        return {
            **super().get_config(),
            "outputs_per_scale": self.outputs_per_scale,
            "lambda_feat": self.lambda_feat,
            "lambda_kld": self.lambda_kld,
            "lambda_l1": self.lambda_l1,
            "lambda_vgg": self.lambda_vgg,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("lambda_vgg", 0) > 0:
            from shoes_generator.perceptual import VGGLoss

            config["perceptual"] = VGGLoss()
        return super().from_config(config)
