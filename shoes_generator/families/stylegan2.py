"""The `stylegan2` family: StyleGAN2 with adaptive discriminator augmentation (Karras et al. 2020, both
papers), conditional on any number of label vocabularies or unconditional, and its presets.

Its exports add the ``w`` space to the generator's signatures: ``mapping``, ``synthesis``, ``mix``
(combining two sneakers) and ``truncated`` toward each label combination's average ``w``
(`shoes_generator.export.stylegan2`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shoes_generator.configs import DataConfig, ExperimentConfig, ModelConfig, TrainConfig, register_preset
from shoes_generator.families.base import register_family
from shoes_generator.families.noise import NoiseFamily

SIGNATURES = frozenset(("mapping", "synthesis", "mix", "invert"))  # What tells a StyleGAN2 export (served or loaded).
STYLE_PREFIX = "style_"  # The second shoe's labels in the mix signature (export.stylegan2.STYLE_PREFIX).
RESERVED_INPUTS = frozenset(("seed", "style_seed", "truncation", "crossover", "w", "name", "image_bytes"))  # Its signatures' other inputs.


@dataclasses.dataclass
class StyleGAN2Model(ModelConfig):
    """The StyleGAN2 networks and their regularizers (the paper's values unless the preset scales them).

    Attributes:
        latent_dim: size of ``z``.
        w_dim: size of ``w`` (the style vector).
        mapping_depth: mapping layers (8 in the paper, 2 in ADA's small-data configs).
        mapping_lr_multiplier: the mapping network's learning-rate multiplier (0.01).
        embed_dim: label embedding size (0: w_dim).
        channel_base: feature maps at resolution r are ``min(channel_base // r, channel_max)``.
        channel_max: the most feature maps of any layer.
        mbstd_group: the discriminator's minibatch standard deviation group size.
        r1_gamma: R1 regularization weight gamma (ADA's heuristic: 0.0002 * resolution^2 / batch).
        r1_interval: lazy R1 every this many steps (16).
        pl_weight: path-length regularization weight (2 in the paper; 0 turns it off).
        pl_interval: path-length regularization every this many steps (4).
        style_mixing: probability of mixing two latents in a training image (0.9).
        ada: adaptive discriminator augmentation on (false: no augmentation at all).
        ada_target: the overfitting heuristic's target: ``r_t = E[sign(D(real))]`` (0.6).
        ada_interval: adjust ``p`` every this many steps (4).
        ada_kimg: thousands of images for ``p`` to move from 0 to 1 (500 in the paper).
        ada_p: a fixed augmentation probability instead of the adaptive one (None: adaptive).
        invert_steps: Adam steps of the exported ``invert`` signature (its served cost is bounded by them).
        invert_lr: their step size.
    """

    family: str = "stylegan2"
    latent_dim: int = 512
    w_dim: int = 512
    mapping_depth: int = 8
    mapping_lr_multiplier: float = 0.01
    embed_dim: int = 0
    channel_base: int = 16384
    channel_max: int = 512
    mbstd_group: int = 4
    r1_gamma: float = 10.0
    r1_interval: int = 16
    pl_weight: float = 0.0
    pl_interval: int = 4
    style_mixing: float = 0.9
    ada: bool = True
    ada_target: float = 0.6
    ada_interval: int = 4
    ada_kimg: float = 500.0
    ada_p: float | None = None
    invert_steps: int = 100
    invert_lr: float = 0.05


def augment_config(model: StyleGAN2Model) -> dict | None:
    """The `AdaptiveAugment` settings of `model` (None with ``ada`` off)."""
    if not model.ada:
        return None
    return {
        "target": model.ada_target,
        "interval": model.ada_interval,
        "speed_images": int(model.ada_kimg * 1000),
        "fixed_p": model.ada_p,
    }


class StyleGAN2Family(NoiseFamily):
    """StyleGAN2-ADA: conditional when ``data.labels`` names labels, else unconditional."""

    name = "stylegan2"
    model_config = StyleGAN2Model

    def validate(self, config) -> None:
        model, train = config.model, config.train
        if train.precision == "mixed_float16":
            raise ValueError(
                "StyleGAN2 runs in float32 or mixed_bfloat16: float16 would need the paper's activation clamping (its "
                "unclamped skip sums and R1's second-order gradients overflow). Received: train.precision='mixed_float16'"
            )
        clashes = [name for name in config.data.labels if name in RESERVED_INPUTS or name.startswith(STYLE_PREFIX)]
        if clashes:
            raise ValueError(
                f"StyleGAN2's served signatures take {sorted(RESERVED_INPUTS)} and style_<label> inputs beside the labels: "
                f"rename these labels. Received: data.labels={config.data.labels!r}"
            )
        if model.embed_dim < 0:
            raise ValueError(f"model.embed_dim must be >= 0 (0: w_dim). Received: model.embed_dim={model.embed_dim}")
        if train.loss != "non_saturating" or train.mode_seeking or train.d_steps != 1:
            raise ValueError(
                "StyleGAN2 trains with the non-saturating logistic loss, one discriminator step per generator step and no "
                f"mode seeking (style mixing and R1 do that work). Received: train.loss={train.loss!r}, "
                f"train.mode_seeking={train.mode_seeking}, train.d_steps={train.d_steps}"
            )
        positive = {"model.latent_dim": model.latent_dim, "model.w_dim": model.w_dim, "model.mapping_depth": model.mapping_depth,
                    "model.channel_base": model.channel_base, "model.channel_max": model.channel_max,
                    "model.mbstd_group": model.mbstd_group, "model.r1_interval": model.r1_interval,
                    "model.pl_interval": model.pl_interval, "model.ada_interval": model.ada_interval,
                    "model.invert_steps": model.invert_steps}
        for key, value in positive.items():
            if value < 1:
                raise ValueError(f"{key} must be >= 1. Received: {key}={value}")
        if model.r1_gamma < 0 or model.pl_weight < 0 or model.ada_kimg <= 0 or model.mapping_lr_multiplier <= 0 or model.invert_lr <= 0:
            raise ValueError(
                "model.r1_gamma and model.pl_weight must be >= 0; model.ada_kimg, model.mapping_lr_multiplier and model.invert_lr > 0. "
                "Received: "
                f"r1_gamma={model.r1_gamma}, pl_weight={model.pl_weight}, ada_kimg={model.ada_kimg}, "
                f"mapping_lr_multiplier={model.mapping_lr_multiplier}, invert_lr={model.invert_lr}"
            )
        for key, value in (("model.style_mixing", model.style_mixing), ("model.ada_target", model.ada_target)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{key} must lie in [0, 1]. Received: {key}={value}")
        if model.ada_p is not None and not 0.0 <= model.ada_p <= 1.0:
            raise ValueError(f"model.ada_p must lie in [0, 1] (or none: adaptive). Received: model.ada_p={model.ada_p}")

    def networks(self, config, vocabularies, dtype):
        """The mapping, synthesis and discriminator networks of `config` under compute `dtype`."""
        from shoes_generator.models.stylegan2 import build_mapping_network, build_stylegan_discriminator, build_synthesis_network

        model, data = config.model, config.data
        sizes = self.label_sizes(config, vocabularies)
        channels = {"channel_base": model.channel_base, "channel_max": model.channel_max}
        mapping = build_mapping_network(
            sizes, latent_dim=model.latent_dim, w_dim=model.w_dim, depth=model.mapping_depth,
            embed_dim=model.embed_dim or None, lr_multiplier=model.mapping_lr_multiplier, dtype=dtype,
        )
        synthesis = build_synthesis_network(data.image_size, data.channels, w_dim=model.w_dim, dtype=dtype, **channels)
        discriminator = build_stylegan_discriminator(
            data.image_size, data.channels, label_sizes=sizes, mbstd_group=model.mbstd_group, dtype=dtype, **channels
        )
        return mapping, synthesis, discriminator

    def label_sizes(self, config, vocabularies) -> dict:
        if not config.data.labels:
            return {}
        if vocabularies is None:
            raise ValueError("A conditional StyleGAN2 needs label vocabularies. Received: vocabularies=None")
        return {name: vocabularies.sizes[name] for name in config.data.labels}

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        from shoes_generator.builders import compiled
        from shoes_generator.gans.stylegan2 import StyleGAN2

        model, train = config.model, config.train
        dtype = None if train.precision == "float32" else train.precision
        mapping, synthesis, discriminator = self.networks(config, vocabularies, dtype)
        sizes = self.label_sizes(config, vocabularies)
        gan = StyleGAN2(
            mapping, synthesis, discriminator,
            latent_dim=model.latent_dim,
            label_names=tuple(sizes),
            label_sizes=sizes,
            r1_gamma=model.r1_gamma,
            r1_interval=model.r1_interval,
            pl_weight=model.pl_weight,
            pl_interval=model.pl_interval,
            style_mixing=model.style_mixing,
            ema_decay=train.ema_decay,
            augment=augment_config(model),
            seed=train.seed,
        )
        return compiled(gan, config, steps_per_epoch, "g_optimizer", "d_optimizer")

    def extra_callbacks(self, config, run_dir: Path) -> list:
        """With ADA, the plot of ``p`` and ``r_t`` against the target (``ada.png``) after every epoch."""
        from shoes_generator.callbacks import SeriesPlot
        from shoes_generator.runs import METRICS_FILE

        if not config.model.ada:
            return []
        return [SeriesPlot(run_dir / METRICS_FILE, run_dir / "ada.png", ("ada_p", "ada_rt"),
                           "augmentation p, overfitting r_t", reference=config.model.ada_target)]

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """The EMA networks with `export_stylegan2`'s signatures."""
        from shoes_generator.export.stylegan2 import export_stylegan2

        return export_stylegan2(model, vocabularies, path, config.model.invert_steps, config.model.invert_lr)


register_family(StyleGAN2Family())


def _stylegan2_train(**overrides) -> TrainConfig:
    """ADA's optimizer (Adam 0.0025, betas 0 / 0.99) with the project's run bookkeeping."""
    values = dict(batch_size=32, epochs=12, g_lr=0.0025, d_lr=0.0025, beta_1=0.0, beta_2=0.99, ema_decay=0.999,
                  precision="mixed_bfloat16", sample_columns=3)
    return TrainConfig(**{**values, **overrides})


@register_preset
def stylegan2_fmnist_color() -> ExperimentConfig:
    """Colour x type shoes at 32 px on the coloured Fashion-MNIST, sized for about 15 minutes on 2 CPU cores.

    The mapping depth (2) and R1 gamma (0.01) of ADA's "cifar" config, with the paper's style mixing,
    residual discriminator and minibatch-stddev group 4, and far fewer feature maps (128 at 4-8 px,
    64 at 16 px, 32 at 32 px): 40 epochs of 100 steps of 32 shoes (128,000 images; the speed benchmark
    measured 142 images/s on 2 idle Zen 3 cores). float32: mixed_bfloat16 measured no faster for this network even with AVX512-BF16
    (`benchmarks/stylegan2_speed.py`: 126 against 142 images/s) and many times slower without it.
    """
    return ExperimentConfig(
        name="stylegan2_fmnist_color",
        data=DataConfig(source="fmnist_color", image_size=32, channels=3, labels=("color", "category")),
        model=StyleGAN2Model(latent_dim=128, w_dim=128, mapping_depth=2, channel_base=1024, channel_max=128,
                             r1_gamma=0.01, ada_kimg=100.0),
        train=_stylegan2_train(epochs=40, steps_per_epoch=100, precision="float32"),
    )


@register_preset
def stylegan2_limited() -> ExperimentConfig:
    """`stylegan2_fmnist_color` on 1,000 training shoes with ADA; ``--set model.ada=false`` is the comparison without it."""
    config = stylegan2_fmnist_color()
    return dataclasses.replace(
        config, name="stylegan2_limited", data=dataclasses.replace(config.data, limit=1000),
        model=dataclasses.replace(config.model, ada_kimg=20.0),
    )


@register_preset
def stylegan2_folder256() -> ExperimentConfig:
    """256 px shoes from a catalogue folder (UT-Zappos-like; ``--data PATH``), unconditional
    (``--set data.labels=category`` conditions on folder labels)."""
    return ExperimentConfig(
        name="stylegan2_folder256",
        data=DataConfig(source="folder", image_size=256, channels=3, flip=True),
        model=StyleGAN2Model(latent_dim=512, w_dim=512, mapping_depth=8, channel_base=16384, channel_max=512,
                             r1_gamma=1.0, pl_weight=2.0),
        train=_stylegan2_train(batch_size=16, epochs=50),
    )
