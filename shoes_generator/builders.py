"""Config -> compiled model: picks the networks by family and sets precision, optimizers and schedules."""

from __future__ import annotations

import contextlib

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


def build_gan(config: ExperimentConfig, vocabularies: Vocabularies | None = None, steps_per_epoch: int | None = None) -> GAN:
    """A compiled `GAN` for `config`, optimizers built (ready to restore a checkpoint).

    Args:
        config: the experiment.
        vocabularies: the conditioning labels (conditional family only).
        steps_per_epoch: steps of one epoch (the learning-rate decay of ``train.decay_epochs``).
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
    return _compiled(gan, config, steps_per_epoch, "g_optimizer", "d_optimizer")


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Builds layers under `precision` ("float32", "mixed_bfloat16", "mixed_float16"), then restores the policy."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _learning_rate(config: ExperimentConfig, rate: float, steps_per_epoch: int | None):
    """`rate`, or pix2pix/CycleGAN's schedule: constant, then linear decay to 0 over the last `decay_epochs`."""
    train = config.train
    if not train.decay_epochs or not steps_per_epoch:
        return rate
    from shoes_generator.schedules import LinearDecay

    return LinearDecay(rate, (train.epochs - train.decay_epochs) * steps_per_epoch, train.decay_epochs * steps_per_epoch)


def _compiled(model: keras.Model, config: ExperimentConfig, steps_per_epoch: int | None, *optimizers: str) -> keras.Model:
    """`model` compiled with one Adam per name in `optimizers` (the first at ``train.g_lr``, a second at
    ``train.d_lr``; both with the ``decay_epochs`` schedule), its optimizers built (ready to restore a checkpoint)."""
    train = config.train
    rates = (train.g_lr, train.d_lr)
    adams = {
        name: keras.optimizers.Adam(_learning_rate(config, rate, steps_per_epoch), beta_1=train.beta_1, beta_2=train.beta_2)
        for name, rate in zip(optimizers, rates)
    }
    model.compile(**adams, jit_compile=train.jit_compile, steps_per_execution=train.steps_per_execution)
    model.build_optimizers()
    return model


def build_image_to_image(config: ExperimentConfig, steps_per_epoch: int | None = None, mask_input: bool = False) -> keras.Model:
    """A compiled `Pix2Pix` or `CycleGAN` for `config`, optimizers built (ready to restore a checkpoint).

    Args:
        config: the experiment (family "pix2pix" or "cyclegan").
        steps_per_epoch: steps of one epoch (sets the learning-rate decay).
        mask_input: pix2pix with a mask channel beside the input (photo + mask).
    """
    model, data, train = config.model, config.data, config.train
    size, channels = data.image_size, data.channels
    with dtype_policy(train.precision):
        if model.family == "pix2pix":
            from shoes_generator.gans.pix2pix import Pix2Pix
            from shoes_generator.models.patchgan import build_patchgan_discriminator
            from shoes_generator.models.unet import build_unet_generator

            source = channels + (1 if mask_input else 0)
            generator = build_unet_generator(
                size, in_channels=source, out_channels=channels, base_filters=model.g_filters, norm=model.norm,
                depth=model.unet_depth or None,
            )
            discriminator = build_patchgan_discriminator(
                size, in_channels=source, target_channels=channels, base_filters=model.d_filters, n_layers=model.d_layers,
                norm=model.norm,
            )
            wrapper = Pix2Pix(generator, discriminator, lambda_l1=train.lambda_l1, loss=train.loss, mask_input=mask_input)
        else:
            from shoes_generator.gans.cyclegan import CycleGAN
            from shoes_generator.models.patchgan import build_patchgan_discriminator
            from shoes_generator.models.resnet_generator import build_resnet_generator

            def generator(name):
                return build_resnet_generator(size, channels, base_filters=model.g_filters, n_blocks=model.resnet_blocks,
                                              norm=model.norm, name=name)

            def discriminator(name):
                return build_patchgan_discriminator(size, in_channels=channels, base_filters=model.d_filters, n_layers=model.d_layers,
                                                    norm=model.norm, conditional=False, name=name)

            wrapper = CycleGAN(
                generator("generator_ab"), generator("generator_ba"), discriminator("discriminator_a"), discriminator("discriminator_b"),
                lambda_cycle=train.lambda_cycle, lambda_identity=train.lambda_identity, pool_size=train.pool_size, loss=train.loss,
                seed=train.seed,
            )
    return _compiled(wrapper, config, steps_per_epoch, "g_optimizer", "d_optimizer")


def build_segmentation(config: ExperimentConfig, steps_per_epoch: int | None = None) -> keras.Model:
    """A compiled `Segmenter` for `config` (family "segmentation"), optimizer built (ready to restore a checkpoint).

    Args:
        config: the experiment: ``model.segmenter`` picks the network, ``model.g_filters`` its base
            filters, ``data.classes`` its outputs, ``train.g_lr`` / ``beta_1`` / ``beta_2`` the Adam optimizer.
        steps_per_epoch: steps of one epoch (the learning-rate decay of ``train.decay_epochs``).
    """
    from shoes_generator.segmentation.segmenter import Segmenter
    from shoes_generator.segmentation.train import build_segmenter

    model, train = config.model, config.train
    options = {"base_filters": model.g_filters, **({"depth": model.unet_depth or None} if model.segmenter == "unet" else {})}
    with dtype_policy(train.precision):
        network = build_segmenter(model.segmenter, config.data.image_size, len(config.data.classes), **options)
        segmenter = Segmenter(network, name=f"{model.segmenter}_segmentation")
    return _compiled(segmenter, config, steps_per_epoch, "optimizer")


def build_model(config: ExperimentConfig, vocabularies: Vocabularies | None = None, steps_per_epoch: int | None = None) -> keras.Model:
    """The compiled training model of any family: `GAN`, `Pix2Pix`, `CycleGAN` or `Segmenter`.

    Args:
        config: the experiment.
        vocabularies: the conditioning labels (conditional family only).
        steps_per_epoch: steps of one epoch (the learning-rate decay of ``train.decay_epochs``).
    """
    if config.segmentation:
        return build_segmentation(config, steps_per_epoch)
    if config.image_to_image:
        return build_image_to_image(config, steps_per_epoch, mask_input=config.data.source == "triplets")
    return build_gan(config, vocabularies, steps_per_epoch)
