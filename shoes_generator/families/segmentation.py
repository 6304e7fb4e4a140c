"""The `segmentation` family: a U-Net or FCN that labels every pixel (shoe vs background, or a shoe's
parts), trained by Keras's own train step, and its presets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from shoes_generator.configs import DataConfig, ExperimentConfig, ModelConfig, TrainConfig, register_preset
from shoes_generator.families.base import Family, register_family
from shoes_generator.data.names import PART_CLASSES

SEGMENTERS = ("unet", "fcn")


@dataclasses.dataclass
class SegmentationModel(ModelConfig):
    """The segmentation network.

    Attributes:
        segmenter: "unet" or "fcn".
        g_filters: its base filters.
        unet_depth: U-Net downsamplings (0: log2 of the image size).
    """

    family: str = "segmentation"
    segmenter: str = "unet"
    g_filters: int = 64
    unet_depth: int = 0


def segmentation_columns(model, examples) -> tuple[list, list[str]]:
    """The per-epoch picture's columns: image | predicted classes | labelled classes (coloured by `class_colors`)."""
    from shoes_generator.imaging.palette import class_colors

    predicted = np.argmax(np.asarray(model(examples["image"], training=False)), axis=-1)
    labelled = np.round(examples["mask"][..., 0]).astype(np.int64)
    return [examples["image"], *(class_colors(c) / 127.5 - 1.0 for c in (predicted, labelled))], ["image", "predicted", "labels"]


class SegmentationFamily(Family):
    name = "segmentation"
    model_config = SegmentationModel
    sources = ("fmnist_masks", "fmnist_parts", "segments")
    segmenter = True

    def validate(self, config) -> None:
        data = config.data
        if data.domain_a or data.domain_b or data.labels or data.channels != 3:
            raise ValueError(
                "A segmenter reads RGB images and learns data.classes: data.domain_a, data.domain_b and data.labels do not apply "
                f"and data.channels must be 3. Received: domain_a={data.domain_a!r}, domain_b={data.domain_b!r}, "
                f"labels={data.labels!r}, channels={data.channels}"
            )
        if config.model.segmenter not in SEGMENTERS:
            raise ValueError(f"model.segmenter must be one of {list(SEGMENTERS)}. Received: model.segmenter={config.model.segmenter!r}")
        if len(data.classes) < 2 or len(set(data.classes)) != len(data.classes):
            raise ValueError(f"data.classes must name two or more distinct classes, background first. Received: data.classes={data.classes!r}")
        if data.source == "fmnist_masks" and len(data.classes) != 2:
            raise ValueError(f"fmnist_masks has two classes (background, shoe). Received: data.classes={data.classes!r}")
        if data.source == "fmnist_parts" and tuple(data.classes) != PART_CLASSES:
            raise ValueError(f"fmnist_parts has the classes {list(PART_CLASSES)}, in that order. Received: data.classes={data.classes!r}")

    def build(self, config, vocabularies=None, steps_per_epoch=None):
        """A compiled `Segmenter`: ``model.segmenter`` picks the network, ``data.classes`` its outputs,
        ``train.g_lr`` / ``beta_1`` / ``beta_2`` the Adam optimizer."""
        from shoes_generator.builders import compiled, dtype_policy
        from shoes_generator.segmentation.segmenter import Segmenter
        from shoes_generator.segmentation.train import build_segmenter

        model = config.model
        options = {"base_filters": model.g_filters, **({"depth": model.unet_depth or None} if model.segmenter == "unet" else {})}
        with dtype_policy(config.train.precision):
            network = build_segmenter(model.segmenter, config.data.image_size, len(config.data.classes), **options)
            segmenter = Segmenter(network, name=f"{model.segmenter}_segmentation")
        return compiled(segmenter, config, steps_per_epoch, "optimizer")

    def sample_callback(self, config, data, run_dir: Path):
        from shoes_generator.callbacks import translation_grid

        return translation_grid(config, data, run_dir, segmentation_columns)

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """`segment` / `serving_default` and `class_names` (see `export_segmenter`)."""
        from shoes_generator.segmentation.export import export_segmenter

        return export_segmenter(model.network, config.data.image_size, path, config.data.classes)

    def evaluate(self, saved_model, config, options, metrics=()) -> dict:
        from shoes_generator.segmentation.evaluate import evaluate_exported_segmenter

        return evaluate_exported_segmenter(saved_model, config, options.samples)


register_family(SegmentationFamily())


def _segmenter_preset(name: str, segmenter: str) -> ExperimentConfig:
    """Shoe vs background on coloured Fashion-MNIST shoes (masks as `shoes-data masks` draws them):
    32 px, 32 base filters, Adam 1e-3, batch 64, 3 epochs over 6,000 shoes, flips."""
    return ExperimentConfig(
        name=name,
        data=DataConfig(source="fmnist_masks", image_size=32, channels=3, limit=6000, flip=True, classes=("background", "shoe")),
        model=SegmentationModel(segmenter=segmenter, g_filters=32),
        train=TrainConfig(batch_size=64, epochs=3, g_lr=1e-3, beta_1=0.9, ema_decay=0.0, sample_columns=8, checkpoint_every=0),
    )


@register_preset
def segment_fmnist_unet() -> ExperimentConfig:
    """U-Net segmenter (the pix2pix U-Net, a logits head, no dropout): shoe vs background, 32 px."""
    return _segmenter_preset("segment_fmnist_unet", "unet")


@register_preset
def segment_fmnist_fcn() -> ExperimentConfig:
    """FCN-8s-style segmenter (strided convs to 1/8, upsampled scores plus skips): shoe vs background, 32 px."""
    return _segmenter_preset("segment_fmnist_fcn", "fcn")


@register_preset
def segment_fmnist_parts() -> ExperimentConfig:
    """Shoe parts (`PART_CLASSES`: background, sole, heel, upper, shaft, opening) of coloured Fashion-MNIST
    shoes, labelled by `label_parts`: 32 px U-Net, 32 base filters, Adam 1e-3, batch 64, 8 epochs over the 18,000
    train shoes (about 4 minutes on one CPU core), flips (the labels mirror with the image)."""
    return ExperimentConfig(
        name="segment_fmnist_parts",
        data=DataConfig(source="fmnist_parts", image_size=32, channels=3, flip=True, classes=PART_CLASSES),
        model=SegmentationModel(segmenter="unet", g_filters=32),
        train=TrainConfig(batch_size=64, epochs=8, g_lr=1e-3, beta_1=0.9, ema_decay=0.0, sample_columns=8, checkpoint_every=0),
    )


@register_preset
def segment_parts() -> ExperimentConfig:
    """Shoe parts from label PNGs (``--data`` a folder with ``image/`` and ``label/``, or
    ``--set data.label_path=``): background / sole / heel / upper, 128 px U-Net, batch 8, 40 epochs."""
    return ExperimentConfig(
        name="segment_parts",
        data=DataConfig(source="segments", image_size=128, channels=3, flip=True, classes=("background", "sole", "heel", "upper")),
        model=SegmentationModel(segmenter="unet", g_filters=32),
        train=TrainConfig(batch_size=8, epochs=40, g_lr=1e-3, beta_1=0.9, ema_decay=0.0, sample_columns=6, checkpoint_every=500),
    )
