"""Config -> compiled `GAN`: picks the networks by family and sets precision and optimizers."""

from __future__ import annotations

import keras

from shoes_generator.configs import ExperimentConfig
from shoes_generator.gans.gan import GAN
from shoes_generator.labels import Vocabularies
from shoes_generator.models.conditional import build_conditional_generator, build_projection_discriminator
from shoes_generator.models.dcgan import build_dcgan_discriminator, build_dcgan_generator


def build_networks(config: ExperimentConfig, vocabularies: Vocabularies | None) -> tuple[keras.Model, keras.Model]:
    """The generator and discriminator of `config` (dtype policy from `train.precision`).

    Args:
        config: the experiment.
        vocabularies: the conditioning labels (conditional family only).
    """
    model, data = config.model, config.data
    dtype = None if config.train.precision == "float32" else config.train.precision
    common = {"image_size": data.image_size, "channels": data.channels, "dtype": dtype}
    if model.family == "dcgan":
        generator = build_dcgan_generator(model.latent_dim, base_filters=model.g_filters, **common)
        discriminator = build_dcgan_discriminator(base_filters=model.d_filters, **common)
        return generator, discriminator
    if vocabularies is None:
        raise ValueError("The conditional family needs label vocabularies. Received: vocabularies=None")
    sizes = {name: vocabularies.sizes[name] for name in data.labels}
    generator = build_conditional_generator(
        sizes, model.latent_dim, model.embed_dim, base_filters=model.g_filters, **common
    )
    discriminator = build_projection_discriminator(
        sizes,
        base_filters=model.d_filters,
        spectral_norm=model.spectral_norm,
        batch_norm=model.d_batch_norm,
        minibatch_std=model.minibatch_std,
        **common,
    )
    return generator, discriminator


def build_gan(config: ExperimentConfig, vocabularies: Vocabularies | None = None) -> GAN:
    """A compiled `GAN` for `config`, optimizers built (ready to restore a checkpoint).

    Args:
        config: the experiment.
        vocabularies: the conditioning labels (conditional family only).
    """
    train = config.train
    generator, discriminator = build_networks(config, vocabularies)
    gan = GAN(
        generator,
        discriminator,
        latent_dim=config.model.latent_dim,
        label_names=config.data.labels if config.model.family == "conditional" else (),
        label_sizes=vocabularies.sizes if vocabularies is not None and config.model.family == "conditional" else None,
        loss=train.loss,
        gp_weight=train.gp_weight,
        d_steps=train.d_steps,
        ema_decay=train.ema_decay,
        mode_seeking=train.mode_seeking,
        seed=train.seed,
    )
    gan.compile(
        g_optimizer=keras.optimizers.Adam(train.g_lr, beta_1=train.beta_1, beta_2=train.beta_2),
        d_optimizer=keras.optimizers.Adam(train.d_lr, beta_1=train.beta_1, beta_2=train.beta_2),
        jit_compile=train.jit_compile,
        steps_per_execution=train.steps_per_execution,
    )
    gan.build_optimizers()
    return gan
