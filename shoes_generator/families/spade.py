"""The `spade` family: shoes drawn from part maps (SPADE / GauGAN, Park et al. 2019), a style encoder
choosing their look, and its presets.

It trains on the segmentation data (a photo and its part map: ``fmnist_parts`` from
`shoes-data parts`' labeller, or a ``segments`` folder of photos beside class-index PNGs). Its
export (`shoes_generator.export.spade`) serves ``serving_default`` (``label_map_bytes`` + ``seed``),
``with_style`` (+ ``style_bytes``) and ``class_names``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from shoes_generator.configs import DataConfig, ExperimentConfig, ModelConfig, TrainConfig, register_preset
from shoes_generator.families.base import Family, register_family


@dataclasses.dataclass
class SPADEModel(ModelConfig):
    """The SPADE networks and the weights of the generator's losses (the paper's unless a preset says otherwise).

    Attributes:
        latent_dim: size of ``z`` (256 in the paper).
        g_filters: the generator's channels at full resolution (ngf; x16 at most) and the style encoder's first conv.
        d_filters: the discriminators' first conv (ndf).
        d_layers: conv layers of each discriminator before its logits (4 in the paper).
        d_scales: discriminators at successively halved resolutions (2).
        spade_hidden: hidden channels of every SPADE layer's shared conv (128).
        spectral: spectral normalization in the generator (the discriminators always have it).
        feat_weight: feature-matching weight (10).
        kld_weight: the style encoder's KL weight (0.05).
        l1_weight: L1 distance to the photo, in place of the VGG loss (0 in the paper).
        vgg_weight: VGG19 perceptual loss weight (10 in the paper; needs the ImageNet weights, which
            cannot be downloaded offline: 0 does without, and any other value fails with how to get them).
    """

    family: str = "spade"
    latent_dim: int = 256
    g_filters: int = 64
    d_filters: int = 64
    d_layers: int = 4
    d_scales: int = 2
    spade_hidden: int = 128
    spectral: bool = True
    feat_weight: float = 10.0
    kld_weight: float = 0.05
    l1_weight: float = 0.0
    vgg_weight: float = 0.0


def spade_columns(model, examples) -> tuple[list, list[str]]:
    """The per-epoch picture: part map | a shoe from a fixed seed | the photo's own style | the photo."""
    import tensorflow as tf

    from shoes_generator.export.generator import noise_from_seeds
    from shoes_generator.imaging.palette import class_colors

    images, class_map = examples["image"], examples["mask"]
    parts = model.one_hot(class_map)
    count = int(images.shape[0])
    from_seed = model.synthesize(parts, noise_from_seeds(tf.range(count, dtype=tf.int64), model.z_dim))
    styled = model.synthesize(parts, model.style(images, tf.zeros([count, model.z_dim]))[0])
    colored = class_colors(np.round(np.asarray(class_map)[..., 0])) / 127.5 - 1.0
    return [colored, from_seed, styled, images], ["parts", "seed", "own style", "photo"]


class SPADEFamily(Family):
    name = "spade"
    model_config = SPADEModel
    sources = ("fmnist_parts", "segments", "fmnist_masks")

    def validate(self, config) -> None:
        data, model = config.data, config.model
        if data.labels or data.domain_a or data.domain_b or data.channels != 3:
            raise ValueError(
                "SPADE draws RGB shoes from part maps: data.labels, data.domain_a and data.domain_b do not apply and "
                f"data.channels must be 3. Received: labels={data.labels!r}, domain_a={data.domain_a!r}, "
                f"domain_b={data.domain_b!r}, channels={data.channels}"
            )
        if len(data.classes) < 2 or len(set(data.classes)) != len(data.classes):
            raise ValueError(f"data.classes must name two or more distinct part classes, background first. Received: {data.classes!r}")
        sizes = {"latent_dim": model.latent_dim, "g_filters": model.g_filters, "d_filters": model.d_filters,
                 "spade_hidden": model.spade_hidden, "d_scales": model.d_scales}
        small = {name: value for name, value in sizes.items() if value < 1}
        if small or model.d_layers < 2:
            raise ValueError(f"SPADE's sizes must be >= 1 and model.d_layers >= 2. Received: {small or {'d_layers': model.d_layers}}")
        train = config.train
        if train.loss != "hinge" or train.d_steps != 1 or train.mode_seeking:
            raise ValueError(
                "SPADE trains with the hinge loss (plus feature matching and KL), one discriminator step per generator "
                f"step and no mode seeking (the style encoder's z does that work). Received: train.loss={train.loss!r}, "
                f"train.d_steps={train.d_steps}, train.mode_seeking={train.mode_seeking}"
            )
        weights = {name: getattr(model, name) for name in ("feat_weight", "kld_weight", "l1_weight", "vgg_weight")}
        negative = {name: value for name, value in weights.items() if value < 0}
        if negative:
            raise ValueError(f"SPADE's loss weights must be >= 0. Received: {negative}")

    def networks(self, config, dtype=None):
        """``(generator, discriminator, encoder)`` of `config`."""
        from shoes_generator.models.spade import build_multiscale_discriminator, build_spade_generator, build_style_encoder

        model, size, classes = config.model, config.data.image_size, len(config.data.classes)
        generator = build_spade_generator(size, classes, model.g_filters, model.latent_dim, model.spade_hidden, model.spectral, dtype=dtype)
        discriminator = build_multiscale_discriminator(size, classes, model.d_filters, model.d_layers, model.d_scales, dtype=dtype)
        encoder = build_style_encoder(size, model.g_filters, model.latent_dim, dtype=dtype)
        return generator, discriminator, encoder

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        """A compiled `SPADEGAN` (the paper's TTUR: ``train.g_lr`` for generator + encoder, ``train.d_lr`` for the discriminators)."""
        from shoes_generator.builders import compiled
        from shoes_generator.gans.spade import SPADEGAN
        from shoes_generator.models.spade import discriminator_outputs_per_scale
        from shoes_generator.perceptual import VGGLoss

        model, train = config.model, config.train
        dtype = None if train.precision == "float32" else train.precision
        generator, discriminator, encoder = self.networks(config, dtype)
        perceptual = VGGLoss() if model.vgg_weight > 0 else None
        gan = SPADEGAN(
            generator, discriminator, encoder, discriminator_outputs_per_scale(model.d_layers),
            lambda_feat=model.feat_weight, lambda_kld=model.kld_weight, lambda_l1=model.l1_weight,
            lambda_vgg=model.vgg_weight, perceptual=perceptual, seed=train.seed,
        )
        return compiled(gan, config, steps_per_epoch, "g_optimizer", "d_optimizer")

    def sample_callback(self, config, data, run_dir: Path):
        from shoes_generator.callbacks import translation_grid

        return translation_grid(config, data, run_dir, spade_columns)

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """`export_spade`'s signatures: part map (+ seed, + style image) -> shoe, and the class names."""
        from shoes_generator.export.spade import export_spade

        return export_spade(model, config.data.image_size, config.data.classes, path)

    def evaluate(self, saved_model, config, options, metrics=()) -> dict:
        from shoes_generator.evaluation.spade_eval import evaluate_spade

        return evaluate_spade(saved_model, config, options.samples, cache_dir=options.cache)


register_family(SPADEFamily())


def _spade_train(**overrides) -> TrainConfig:
    """SPADE's objective and optimizer (hinge loss; TTUR: Adam 1e-4 / 4e-4, betas 0 / 0.9), no EMA, the project's bookkeeping."""
    values = dict(batch_size=16, epochs=10, loss="hinge", g_lr=1e-4, d_lr=4e-4, beta_1=0.0, beta_2=0.9, ema_decay=0.0,
                  precision="float32", sample_columns=8, checkpoint_every=500)
    return TrainConfig(**{**values, **overrides})


@register_preset
def spade_fmnist_parts() -> ExperimentConfig:
    """Coloured Fashion-MNIST shoes from their part maps (`shoes-data parts`' labeller), 32 px, sized for
    about 15 minutes on 2 CPU cores (float32): ngf 32, SPADE hidden 64, no spectral norm in the generator
    (20% of its step here), two 3-layer discriminators, L1 weight 10 standing in for the VGG loss,
    batch 16, 12 epochs of 300 steps."""
    from shoes_generator.imaging.parts import PART_CLASSES

    return ExperimentConfig(
        name="spade_fmnist_parts",
        data=DataConfig(source="fmnist_parts", image_size=32, channels=3, flip=True, classes=PART_CLASSES),
        model=SPADEModel(latent_dim=64, g_filters=32, d_filters=32, d_layers=3, spade_hidden=64, spectral=False, l1_weight=10.0),
        train=_spade_train(epochs=12, steps_per_epoch=300),
    )


@register_preset
def spade_folder256() -> ExperimentConfig:
    """A catalogue folder (``--data`` holding ``image/`` and ``label/``, class-index PNGs as `shoes-data parts`
    writes them) at 256 px, the paper's networks (ngf 64, hidden 128, two 4-layer discriminators), batch 4."""
    from shoes_generator.imaging.parts import PART_CLASSES

    return ExperimentConfig(
        name="spade_folder256",
        data=DataConfig(source="segments", image_size=256, channels=3, flip=True, classes=PART_CLASSES),
        model=SPADEModel(),
        train=_spade_train(batch_size=4, epochs=50, precision="mixed_bfloat16", sample_columns=4, checkpoint_every=2000),
    )
