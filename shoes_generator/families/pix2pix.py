"""The `pix2pix` family: paired image-to-image translation (a sketch -> a shoe, a worn photo + mask ->
a product shot) with a U-Net against a conditional PatchGAN (Isola et al. 2017), and its presets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from shoes_generator.configs import SKETCH_SOURCES, DataConfig, ExperimentConfig, ModelConfig, TrainConfig, register_preset
from shoes_generator.families.base import Family, register_family

NORMS = ("instance", "batch")


@dataclasses.dataclass
class PatchGANModel(ModelConfig):
    """What the image-to-image families share: a generator against PatchGAN discriminators.

    Attributes:
        g_filters: the generator's base filters (ngf).
        d_filters: the PatchGAN's first-layer filters (ndf).
        d_layers: PatchGAN strided layers (3: the 70x70 PatchGAN at 256 px).
        norm: "instance" (the default for served models) or "batch".
    """

    g_filters: int = 64
    d_filters: int = 64
    d_layers: int = 3
    norm: str = "instance"


@dataclasses.dataclass
class Pix2PixModel(PatchGANModel):
    """A U-Net generator against a conditional PatchGAN.

    Attributes:
        unet_depth: U-Net downsamplings (0: log2 of the image size, as unet_256 = 8).
    """

    family: str = "pix2pix"
    unet_depth: int = 0


def check_norm(config) -> None:
    """Raises ValueError unless ``model.norm`` is one of `NORMS`."""
    if config.model.norm not in NORMS:
        raise ValueError(f"model.norm must be one of {list(NORMS)}. Received: model.norm={config.model.norm!r}")


def pix2pix_columns(model, examples) -> tuple[list, list[str]]:
    """The per-epoch picture's columns: input | output | target (the model joins a mask itself)."""
    return [examples["input"], model.translate(examples), examples["target"]], ["input", "output", "target"]


class Pix2PixFamily(Family):
    name = "pix2pix"
    model_config = Pix2PixModel
    sources = ("pairs", "triplets", *SKETCH_SOURCES)
    translator = paired_translator = True

    def validate(self, config) -> None:
        check_norm(config)

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        from shoes_generator.builders import compiled, dtype_policy
        from shoes_generator.gans.pix2pix import Pix2Pix
        from shoes_generator.models.patchgan import build_patchgan_discriminator
        from shoes_generator.models.unet import build_unet_generator

        model, data, train = config.model, config.data, config.train
        mask_input = data.source == "triplets"
        source = data.channels + (1 if mask_input else 0)
        with dtype_policy(train.precision):
            generator = build_unet_generator(
                data.image_size, in_channels=source, out_channels=data.channels, base_filters=model.g_filters, norm=model.norm,
                depth=model.unet_depth or None,
            )
            discriminator = build_patchgan_discriminator(
                data.image_size, in_channels=source, target_channels=data.channels, base_filters=model.d_filters,
                n_layers=model.d_layers, norm=model.norm,
            )
            wrapper = Pix2Pix(generator, discriminator, lambda_l1=train.lambda_l1, loss=train.loss, mask_input=mask_input)
        return compiled(wrapper, config, steps_per_epoch, "g_optimizer", "d_optimizer")

    def sample_callback(self, config, data, run_dir: Path):
        from shoes_generator.callbacks import translation_grid

        return translation_grid(config, data, run_dir, pix2pix_columns)

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """`serving_default` and `from_pixels`: an image (and a mask, for photo + mask runs) -> the translated image."""
        from shoes_generator.export import Route, export_routes

        channels = config.data.channels
        images = (("image", channels), ("mask", 1)) if model.mask_input else (("image", channels),)

        def translate(inputs):
            batch = {"input": inputs["image"], **({"mask": inputs["mask"]} if model.mask_input else {})}
            return model.generator(model.generator_input(batch), training=False)

        return export_routes({"serving_default": Route(translate, images)}, config.data.image_size, path, [model.generator])

    def evaluate(self, saved_model, config, options, metrics=()) -> dict:
        from shoes_generator.evaluation.translation_eval import evaluate_pix2pix

        return evaluate_pix2pix(saved_model, config, options.samples, options.cache)


register_family(Pix2PixFamily())


@register_preset
def pix2pix_edges2shoes() -> ExperimentConfig:
    """pix2pix on edges2shoes ``A|B`` folders, the paper's settings: unet_256, 70x70 PatchGAN,
    lambda_L1 100, Adam 2e-4/0.5, batch 1, jitter (286 -> 256 crop) and flips, 15 epochs."""
    return ExperimentConfig(
        name="pix2pix_edges2shoes",
        data=DataConfig(source="pairs", image_size=256, channels=3, flip=True, jitter=True, direction="AtoB"),
        model=Pix2PixModel(g_filters=64, d_filters=64, unet_depth=8, d_layers=3, norm="instance"),
        train=TrainConfig(batch_size=1, epochs=15, ema_decay=0.0, precision="mixed_bfloat16", sample_columns=4, checkpoint_every=2000),
    )


@register_preset
def pix2pix_fmnist_edges() -> ExperimentConfig:
    """Sketch -> shoe on Fashion-MNIST (sketches drawn from the shoes), sized for a CPU demo: 32 px,
    a 5-level U-Net with 32 base filters, batch 16, bf16, 10 epochs of 400 steps (the last 4 decaying)."""
    return ExperimentConfig(
        name="pix2pix_fmnist_edges",
        data=DataConfig(source="fmnist_edges", image_size=32, channels=3, flip=True),
        model=Pix2PixModel(g_filters=32, d_filters=32, d_layers=2, norm="instance"),
        train=TrainConfig(batch_size=16, epochs=10, decay_epochs=4, steps_per_epoch=400, ema_decay=0.0,
                          precision="mixed_bfloat16", sample_columns=8, checkpoint_every=200),
    )


@register_preset
def pix2pix_fmnist_sketches() -> ExperimentConfig:
    """`pix2pix_fmnist_edges`'s network trained on sketches as people draw them: each training sketch in a
    random one of six line styles (`imaging.sketch_styles.TRAIN_STYLES`: detectors, thresholds, stroke
    widths, jitter, dropped and broken strokes, simplified outlines), 4 per shoe, half of the pairs
    reframed; 30 epochs of 400 steps (the last 12 decaying), three times the edges preset's."""
    config = pix2pix_fmnist_edges()
    return dataclasses.replace(
        config, name="pix2pix_fmnist_sketches", data=dataclasses.replace(config.data, source="fmnist_sketches"),
        train=dataclasses.replace(config.train, epochs=30, decay_epochs=12),
    )


@register_preset
def pix2pix_mask2product() -> ExperimentConfig:
    """Worn photo + its mask -> frontal product shot (input/mask/target triplet folders), 128 px,
    unet_128 with a 4-channel input, 70x70 PatchGAN, lambda_L1 100, batch 1."""
    return ExperimentConfig(
        name="pix2pix_mask2product",
        data=DataConfig(source="triplets", image_size=128, channels=3, flip=True, jitter=True),
        model=Pix2PixModel(g_filters=64, d_filters=64, unet_depth=7, d_layers=3, norm="instance"),
        train=TrainConfig(batch_size=1, epochs=100, decay_epochs=50, ema_decay=0.0, precision="mixed_bfloat16", sample_columns=4,
                          checkpoint_every=2000),
    )
