"""The `cyclegan` family: unpaired translation between two domains (sneakers <-> boots, one brand's
design language <-> another's) with cycle consistency (Zhu et al. 2017), and its presets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shoes_generator.configs import IMAGE_SOURCES, DataConfig, ExperimentConfig, TrainConfig, register_preset
from shoes_generator.families.base import Family, register_family
from shoes_generator.families.pix2pix import PatchGANModel, check_norm


@dataclasses.dataclass
class CycleGANModel(PatchGANModel):
    """Two ResNet generators and two unconditional PatchGANs.

    Attributes:
        resnet_blocks: residual blocks per generator (9 at 256 px, 6 at 128 px).
    """

    family: str = "cyclegan"
    resnet_blocks: int = 9


def cyclegan_columns(model, examples) -> tuple[list, list[str]]:
    """The per-epoch picture's columns: A | A->B | A->B->A | B | B->A | B->A->B."""
    a, b = examples["a"], examples["b"]
    ab = model.generator_ab(a, training=False)
    ba = model.generator_ba(b, training=False)
    columns = [a, ab, model.generator_ba(ab, training=False), b, ba, model.generator_ab(ba, training=False)]
    return columns, ["A", "A->B", "A->B->A", "B", "B->A", "B->A->B"]


class CycleGANFamily(Family):
    name = "cyclegan"
    model_config = CycleGANModel
    sources = IMAGE_SOURCES  # Two domains selected from one set of labelled images.
    translator = cycle_translator = True
    blendable = True  # export_cyclegan writes blend_pixels.

    def validate(self, config) -> None:
        data = config.data
        if not (data.domain_a and data.domain_b):
            raise ValueError("model.family='cyclegan' needs data.domain_a and data.domain_b (e.g. category=sneaker). "
                             f"Received: domain_a={data.domain_a!r}, domain_b={data.domain_b!r}")
        check_norm(config)

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        from shoes_generator.builders import compiled, dtype_policy
        from shoes_generator.gans.cyclegan import CycleGAN
        from shoes_generator.models.patchgan import build_patchgan_discriminator
        from shoes_generator.models.resnet_generator import build_resnet_generator

        model, data, train = config.model, config.data, config.train
        size, channels = data.image_size, data.channels

        def generator(name):
            return build_resnet_generator(size, channels, base_filters=model.g_filters, n_blocks=model.resnet_blocks,
                                          norm=model.norm, name=name)

        def discriminator(name):
            return build_patchgan_discriminator(size, in_channels=channels, base_filters=model.d_filters, n_layers=model.d_layers,
                                                norm=model.norm, conditional=False, name=name)

        with dtype_policy(train.precision):
            wrapper = CycleGAN(
                generator("generator_ab"), generator("generator_ba"), discriminator("discriminator_a"), discriminator("discriminator_b"),
                lambda_cycle=train.lambda_cycle, lambda_identity=train.lambda_identity, pool_size=train.pool_size, loss=train.loss,
                seed=train.seed,
            )
        return compiled(wrapper, config, steps_per_epoch, "g_optimizer", "d_optimizer")

    def sample_callback(self, config, data, run_dir: Path):
        from shoes_generator.callbacks import translation_grid

        return translation_grid(config, data, run_dir, cyclegan_columns)

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """Both directions and the alpha blend (see `export_cyclegan`)."""
        from shoes_generator.export import export_cyclegan

        return export_cyclegan(model, config.data.image_size, path)

    def evaluate(self, saved_model, config, options, metrics=()) -> dict:
        from shoes_generator.evaluation.translation_eval import evaluate_cyclegan

        return evaluate_cyclegan(saved_model, config, options.samples, options.cache)


register_family(CycleGANFamily())


@register_preset
def cyclegan_sneaker2boot() -> ExperimentConfig:
    """Sneakers <-> ankle boots on Fashion-MNIST (unpaired), sized for a CPU demo: 32 px, ResNet
    generators with 6 blocks and 32 filters, LSGAN, lambda_cycle 10, identity 0.5, pool 50, batch 8."""
    return ExperimentConfig(
        name="cyclegan_sneaker2boot",
        data=DataConfig(source="fmnist", image_size=32, channels=3, domain_a="category=sneaker", domain_b="category=ankle_boot"),
        model=CycleGANModel(g_filters=32, d_filters=32, resnet_blocks=6, d_layers=2, norm="instance"),
        train=TrainConfig(batch_size=8, epochs=6, decay_epochs=2, steps_per_epoch=300, loss="least_squares", ema_decay=0.0,
                          precision="mixed_bfloat16", sample_columns=6, checkpoint_every=150),
    )


@register_preset
def cyclegan_brands() -> ExperimentConfig:
    """One brand's design language -> another's on UT-Zappos (``--data`` the image tree), the paper's
    256 px settings: 9-block ResNet generators, 70x70 PatchGANs, LSGAN, lambda_cycle 10, identity 0.5,
    pool 50, batch 1, 100 + 100 decaying epochs."""
    return ExperimentConfig(
        name="cyclegan_brands",
        data=DataConfig(source="folder", image_size=256, channels=3, flip=True, domain_a="brand=Nike", domain_b="brand=adidas"),
        model=CycleGANModel(g_filters=64, d_filters=64, resnet_blocks=9, d_layers=3, norm="instance"),
        train=TrainConfig(batch_size=1, epochs=200, decay_epochs=100, loss="least_squares", ema_decay=0.0, precision="mixed_bfloat16",
                          sample_columns=4, checkpoint_every=2000),
    )
