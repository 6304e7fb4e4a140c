"""Typed experiment configs and the named presets `shoes-train --config` picks from.

Every preset ``NAME`` has a tiny variant ``NAME_tiny`` (16 px, 8 filters, a few
steps) that trains in seconds, for tests. Values are overridden with dotted
keys: ``override(config, ["train.batch_size=64", "data.image_size=32"])``.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Callable

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
DATA_SOURCES = (
    "fmnist", "fmnist_color", "folder", "manifest", "tfrecords", "pairs", "triplets", "fmnist_edges", "fmnist_masks", "segments",
)
PATH_SOURCES = ("folder", "manifest", "tfrecords", "pairs", "triplets", "segments")
SEGMENTATION_SOURCES = ("fmnist_masks", "segments")
FAMILIES = ("dcgan", "conditional", "pix2pix", "cyclegan", "segmentation")
IMAGE_TO_IMAGE_FAMILIES = ("pix2pix", "cyclegan")
SEGMENTERS = ("unet", "fcn")


@dataclasses.dataclass
class DataConfig:
    """Where training images come from and how they are shaped.

    Attributes:
        source: "fmnist" (grayscale Fashion-MNIST shoes), "fmnist_color" (tinted
            into the 11 catalogue colours), "folder", "manifest", "tfrecords";
            for pix2pix "pairs" (``A|B`` images), "triplets" (input/mask/target
            folders) or "fmnist_edges" (Fashion-MNIST shoes and their sketches);
            for segmentation "fmnist_masks" (coloured Fashion-MNIST shoes on white and
            their foreground masks) or "segments" (images beside label PNGs).
        path: folder, manifest CSV or TFRecord directory (not for fmnist sources);
            for "segments" the image folder (or a folder holding ``image/`` and ``label/``).
        image_size: square side in pixels (power of two).
        channels: 3 (RGB) or 1.
        labels: conditioning label columns (e.g. ``("color", "category")``).
        limit: use at most this many training examples (None: all).
        flip: random horizontal flips.
        cache: cache decoded examples in memory.
        seed: seed of colour assignment and shuffling.
        jitter: pix2pix's random jitter (resize to 286/256 of the size, random crop back).
        direction: "AtoB" or "BtoA" (which side of a pair is the input).
        domain_a: CycleGAN's domain A as a label filter, e.g. "category=sneaker".
        domain_b: CycleGAN's domain B, e.g. "category=ankle_boot" or "brand=adidas".
        label_path: "segments": the folder of label PNGs mirroring ``path`` (class index per
            pixel, or the 0/255 masks `shoes-data masks` writes); None: ``path/label``.
        classes: segmentation class names in index order (background first).
    """

    source: str = "fmnist"
    path: str | None = None
    image_size: int = 64
    channels: int = 3
    labels: tuple[str, ...] = ()
    limit: int | None = None
    flip: bool = False
    cache: bool = True
    seed: int = 0
    jitter: bool = False
    direction: str = "AtoB"
    domain_a: str | None = None
    domain_b: str | None = None
    label_path: str | None = None
    classes: tuple[str, ...] = ("background", "shoe")


@dataclasses.dataclass
class ModelConfig:
    """The networks.

    Attributes:
        family: "dcgan" (unconditional), "conditional" (label embeddings +
            projection discriminator), "pix2pix" (U-Net + PatchGAN) or "cyclegan"
            (two ResNet generators + two PatchGANs); "segmentation" (a U-Net or
            FCN segmenter, `segmenter`) learns per-pixel classes instead.
        latent_dim: noise size (nz).
        g_filters: generator feature maps of the last hidden block (ngf).
        d_filters: discriminator feature maps of the first block (ndf).
        embed_dim: label embedding size (conditional).
        spectral_norm: spectral normalization in the discriminator (conditional).
        d_batch_norm: BatchNorm in the conditional discriminator's trunk.
        minibatch_std: minibatch standard deviation channel in the conditional
            discriminator (against mode collapse).
        unet_depth: pix2pix U-Net downsamplings (0: log2 of the image size, as unet_256 = 8).
        resnet_blocks: CycleGAN generator residual blocks (9 at 256 px, 6 at 128 px).
        d_layers: PatchGAN strided layers (3: the 70x70 PatchGAN at 256 px).
        norm: "instance" (the default for served image-to-image models) or "batch".
        segmenter: the segmentation network, "unet" or "fcn" (family "segmentation").
    """

    family: str = "dcgan"
    latent_dim: int = 100
    g_filters: int = 64
    d_filters: int = 64
    embed_dim: int = 32
    spectral_norm: bool = False
    d_batch_norm: bool = True
    minibatch_std: bool = False
    unet_depth: int = 0
    resnet_blocks: int = 9
    d_layers: int = 3
    norm: str = "instance"
    segmenter: str = "unet"


@dataclasses.dataclass
class TrainConfig:
    """Optimization and run bookkeeping.

    Attributes:
        batch_size: examples per step.
        epochs: number of epochs.
        steps_per_epoch: steps in an epoch (None: one pass over the data).
        g_lr: generator learning rate.
        d_lr: discriminator learning rate.
        beta_1: Adam beta_1.
        beta_2: Adam beta_2.
        loss: "non_saturating", "hinge", "least_squares" or "wgan_gp".
        gp_weight: WGAN-GP penalty weight.
        d_steps: discriminator steps per generator step.
        ema_decay: generator EMA decay (0 disables).
        mode_seeking: weight of the mode-seeking regularizer (0 disables).
        precision: "float32", "mixed_bfloat16" or "mixed_float16".
        jit_compile: XLA-compile the train step.
        steps_per_execution: steps run per `tf.function` call.
        seed: seed of weights' noise draws and data order.
        checkpoint_every: also checkpoint every N steps (0: at epoch ends only).
        keep_checkpoints: checkpoints kept by the CheckpointManager.
        sample_columns: grid side (unconditional) or samples per label cell
            of the sample grid (conditional); rows of image-to-image grids.
        decay_epochs: the last N epochs decay the learning rates linearly to 0, for
            every family (pix2pix/CycleGAN's n_epochs_decay; 0: constant).
        lambda_l1: pix2pix's L1 weight.
        lambda_cycle: CycleGAN's cycle-consistency weight.
        lambda_identity: CycleGAN's identity weight (times lambda_cycle).
        pool_size: CycleGAN's history of generated images per discriminator.
        metrics_every: every N epochs, log FID, KID and precision/recall of fresh
            samples against the run's training images (noise generators; 0: off).
        metrics_samples: samples (and training images) those metrics use.
    """

    batch_size: int = 128
    epochs: int = 25
    steps_per_epoch: int | None = None
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    loss: str = "non_saturating"
    gp_weight: float = 10.0
    d_steps: int = 1
    ema_decay: float = 0.999
    mode_seeking: float = 0.0
    precision: str = "float32"
    jit_compile: bool = False
    steps_per_execution: int = 1
    seed: int = 0
    checkpoint_every: int = 200
    keep_checkpoints: int = 3
    sample_columns: int = 8
    decay_epochs: int = 0
    lambda_l1: float = 100.0
    lambda_cycle: float = 10.0
    lambda_identity: float = 0.5
    pool_size: int = 50
    metrics_every: int = 0
    metrics_samples: int = 1000


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclasses.dataclass
class ExperimentConfig:
    """A whole training run: data, model and training settings."""

    name: str
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def validate(self, require_path: bool = True) -> "ExperimentConfig":
        """Checks the choices; raises ValueError naming the bad field and value.

        Args:
            require_path: whether a path-based source must already have ``data.path``
                (presets leave it to ``shoes-train --data``).
        """
        checks = [
            ("data.source", self.data.source, DATA_SOURCES),
            ("model.family", self.model.family, FAMILIES),
            ("train.precision", self.train.precision, PRECISIONS),
        ]
        for key, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"{key} must be one of {list(allowed)}. Received: {key}={value!r}")
        if self.model.family == "conditional" and not self.data.labels:
            raise ValueError("model.family='conditional' needs data.labels (e.g. color,category). Received: data.labels=()")
        self._validate_image_to_image()
        self._validate_segmentation()
        if require_path and self.data.source in PATH_SOURCES and not self.data.path:
            raise ValueError(f"data.source={self.data.source!r} needs data.path. Received: data.path=None")
        from shoes_generator.losses import LOSSES

        if self.train.loss not in LOSSES:
            raise ValueError(f"train.loss must be one of {sorted(LOSSES)}. Received: train.loss={self.train.loss!r}")
        size = self.data.image_size
        if size < 8 or size & (size - 1):
            raise ValueError(f"data.image_size must be a power of two >= 8 (e.g. 32, 64, 128). Received: data.image_size={size}")
        if not 0.0 <= self.train.ema_decay < 1.0:
            raise ValueError(f"train.ema_decay must lie in [0, 1). Received: train.ema_decay={self.train.ema_decay}")
        positive = {
            "train.batch_size": self.train.batch_size,
            "train.epochs": self.train.epochs,
            "train.d_steps": self.train.d_steps,
            "train.steps_per_execution": self.train.steps_per_execution,
        }
        for key, value in positive.items():
            if value < 1:
                raise ValueError(f"{key} must be >= 1. Received: {key}={value}")
        if self.train.metrics_every < 0 or self.train.metrics_samples < 10:
            raise ValueError(f"train.metrics_every must be >= 0 and train.metrics_samples >= 10. Received: "
                             f"{self.train.metrics_every}, {self.train.metrics_samples}")
        if self.train.metrics_every and (self.image_to_image or self.segmentation):
            raise ValueError(f"train.metrics_every applies to noise generators (dcgan, conditional); score a "
                             f"{self.model.family} run with shoes-eval. Received: train.metrics_every={self.train.metrics_every}")
        per_execution = self.train.steps_per_execution
        for key, value in (("train.steps_per_epoch", self.train.steps_per_epoch), ("train.checkpoint_every", self.train.checkpoint_every)):
            if value and value % per_execution:
                raise ValueError(
                    f"{key} must be a multiple of train.steps_per_execution={per_execution} (Keras runs whole "
                    f"executions). Received: {key}={value}"
                )
        return self

    def _validate_image_to_image(self) -> None:
        family, data = self.model.family, self.data
        paired = data.source in ("pairs", "triplets", "fmnist_edges")
        if family == "pix2pix" and not paired:
            raise ValueError(f"model.family='pix2pix' trains on pairs, triplets or fmnist_edges. Received: data.source={data.source!r}")
        if paired and family != "pix2pix":
            raise ValueError(f"data.source={data.source!r} holds aligned pairs: use model.family='pix2pix'. Received: model.family={family!r}")
        if family == "cyclegan" and not (data.domain_a and data.domain_b):
            raise ValueError("model.family='cyclegan' needs data.domain_a and data.domain_b (e.g. category=sneaker). "
                             f"Received: domain_a={data.domain_a!r}, domain_b={data.domain_b!r}")
        if data.direction not in ("AtoB", "BtoA"):
            raise ValueError(f"data.direction must be 'AtoB' or 'BtoA'. Received: data.direction={data.direction!r}")
        if self.model.norm not in ("instance", "batch"):
            raise ValueError(f"model.norm must be 'instance' or 'batch'. Received: model.norm={self.model.norm!r}")
        if not 0 <= self.train.decay_epochs <= self.train.epochs:
            raise ValueError(f"train.decay_epochs must lie in [0, train.epochs={self.train.epochs}]. Received: {self.train.decay_epochs}")

    def _validate_segmentation(self) -> None:
        family, data = self.model.family, self.data
        segmented = data.source in SEGMENTATION_SOURCES
        if (family == "segmentation") != segmented:
            raise ValueError(
                f"model.family='segmentation' and data.source in {list(SEGMENTATION_SOURCES)} go together. "
                f"Received: model.family={family!r}, data.source={data.source!r}"
            )
        if not segmented:
            return
        if data.domain_a or data.domain_b or data.labels or data.channels != 3:
            raise ValueError(
                "A segmenter reads RGB images and learns data.classes: data.domain_a, data.domain_b and data.labels do not apply "
                f"and data.channels must be 3. Received: domain_a={data.domain_a!r}, domain_b={data.domain_b!r}, "
                f"labels={data.labels!r}, channels={data.channels}"
            )
        if self.model.segmenter not in SEGMENTERS:
            raise ValueError(f"model.segmenter must be one of {list(SEGMENTERS)}. Received: model.segmenter={self.model.segmenter!r}")
        if len(data.classes) < 2 or len(set(data.classes)) != len(data.classes):
            raise ValueError(f"data.classes must name two or more distinct classes, background first. Received: data.classes={data.classes!r}")
        if data.source == "fmnist_masks" and len(data.classes) != 2:
            raise ValueError(f"fmnist_masks has two classes (background, shoe). Received: data.classes={data.classes!r}")

    @property
    def image_to_image(self) -> bool:
        """Whether this is a pix2pix or CycleGAN experiment (an image in, a new image out)."""
        return self.model.family in IMAGE_TO_IMAGE_FAMILIES

    @property
    def segmentation(self) -> bool:
        """Whether this experiment trains a segmenter (an image in, a class per pixel out)."""
        return self.model.family == "segmentation"

    def to_dict(self) -> dict:
        """A JSON-ready dict (what `config.json` holds)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "ExperimentConfig":
        """Rebuilds a config from `to_dict` output (unknown keys are an error)."""
        kwargs = {"name": values["name"]}
        for section, klass in SECTIONS.items():
            fields = dict(values.get(section, {}))
            known = {field.name for field in dataclasses.fields(klass)}
            unknown = sorted(set(fields) - known)
            if unknown:
                raise ValueError(f"Unknown {section} settings {unknown}. Known: {sorted(known)}")
            for key in ("labels", "classes"):
                if key in fields:
                    fields[key] = tuple(fields[key])
            kwargs[section] = klass(**fields)
        return cls(**kwargs)


# ------------------------------------------------------------------ overrides
def _parse_value(text: str, annotation) -> object:
    """Parses `text` for a field annotated `annotation` (a string annotation)."""
    annotation = str(annotation)
    if text.lower() in ("none", "null") and "None" in annotation:
        return None
    if annotation.startswith("bool"):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true/false, received {text!r}")
    if annotation.startswith("int"):
        return int(text)
    if annotation.startswith("float"):
        return float(text)
    if annotation.startswith("tuple"):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def override(config: ExperimentConfig, assignments: list[str]) -> ExperimentConfig:
    """Applies ``section.key=value`` assignments (values parsed by the field's type).

    Args:
        config: the config to change (a copy is returned).
        assignments: e.g. ``["train.batch_size=64", "data.labels=color,category"]``.

    Raises:
        ValueError: malformed assignment, unknown key or unparsable value.
    """
    values = config.to_dict()
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        section, dot, field = key.strip().partition(".")
        if not sep or not dot:
            raise ValueError(f"Overrides look like section.key=value (e.g. train.batch_size=64). Received: {assignment!r}")
        klass = SECTIONS.get(section)
        annotations = {f.name: f.type for f in dataclasses.fields(klass)} if klass else {}
        if field not in annotations:
            known = sorted(f"{s}.{f.name}" for s, k in SECTIONS.items() for f in dataclasses.fields(k))
            raise ValueError(f"Unknown setting {key!r}. Known settings: {', '.join(known)}")
        try:
            values[section][field] = _parse_value(text.strip(), annotations[field])
        except ValueError as error:
            raise ValueError(f"Bad value for {key}: {error}. Received: {assignment!r}") from None
    return ExperimentConfig.from_dict(values).validate(require_path=False)


# -------------------------------------------------------------------- presets
PRESETS: dict[str, Callable[[], ExperimentConfig]] = {}


def register_preset(function: Callable[[], ExperimentConfig]) -> Callable[[], ExperimentConfig]:
    """Registers `function` under its name, and ``<name>_tiny`` through `tiny`."""
    name = function.__name__
    PRESETS[name] = function
    PRESETS[f"{name}_tiny"] = lambda: tiny(function())
    return function


def tiny(config: ExperimentConfig) -> ExperimentConfig:
    """The seconds-long variant of `config`: 16 px, 8 filters, batch 4, 2 steps x 2 epochs."""
    return dataclasses.replace(
        config,
        name=f"{config.name}_tiny",
        data=dataclasses.replace(config.data, image_size=16, limit=32, jitter=False),
        model=dataclasses.replace(
            config.model, latent_dim=16, g_filters=8, d_filters=8, embed_dim=4, unet_depth=0, resnet_blocks=2, d_layers=2
        ),
        train=dataclasses.replace(
            config.train, batch_size=4, epochs=2, steps_per_epoch=2, checkpoint_every=1, sample_columns=2,
            decay_epochs=min(config.train.decay_epochs, 1), pool_size=min(config.train.pool_size, 4),
        ),
    )


@register_preset
def dcgan64_paper() -> ExperimentConfig:
    """The DCGAN reference: nz 100, ngf/ndf 64, 64x64x3, Adam 2e-4/0.5, batch 128, 25 epochs."""
    return ExperimentConfig(
        name="dcgan64_paper",
        data=DataConfig(source="fmnist", image_size=64, channels=3),
        model=ModelConfig(family="dcgan", latent_dim=100, g_filters=64, d_filters=64),
        train=TrainConfig(batch_size=128, epochs=25, g_lr=2e-4, d_lr=2e-4, beta_1=0.5, ema_decay=0.0),
    )


@register_preset
def cgan_fmnist_color() -> ExperimentConfig:
    """Colour x type shoes: coloured Fashion-MNIST, 32 px, conditional BatchNorm G, projection D.

    Chosen by measurement (600 steps, `shoes-eval -n 600`; type / colour
    accuracy, Frechet distance, within-label spread with the real shoes' 2.46):
    - hinge + spectral norm (Adam 0.5/0.999, or 0.0/0.9 with TTUR): 0.34-0.37 / 0.09-0.19;
    - non-saturating + BatchNorm D: 0.98 / 0.77 / 6.06 / spread 0.85 (mode collapse:
      one shoe per label pair; with TTUR or a minibatch-stddev channel the epoch-7 sample
      grids still looked collapsed, judged by eye);
    - the same + mode seeking 1.0: 0.51 / 0.99 / 7.56 / 3.15; 0.3: 0.81 / 1.00 / 2.95 / 2.65;
    - the same + mode seeking 0.1 (this preset): 0.89 / 1.00 / 2.63 / 2.33.
    """
    return ExperimentConfig(
        name="cgan_fmnist_color",
        data=DataConfig(source="fmnist_color", image_size=32, channels=3, labels=("color", "category")),
        model=ModelConfig(
            family="conditional", latent_dim=100, g_filters=64, d_filters=64, embed_dim=32, spectral_norm=False, d_batch_norm=True
        ),
        train=TrainConfig(
            batch_size=64,
            epochs=12,
            loss="non_saturating",
            mode_seeking=0.1,
            precision="mixed_bfloat16",
            ema_decay=0.999,
            sample_columns=3,
        ),
    )


@register_preset
def pix2pix_edges2shoes() -> ExperimentConfig:
    """pix2pix on edges2shoes ``A|B`` folders, the paper's settings: unet_256, 70x70 PatchGAN,
    lambda_L1 100, Adam 2e-4/0.5, batch 1, jitter (286 -> 256 crop) and flips, 15 epochs."""
    return ExperimentConfig(
        name="pix2pix_edges2shoes",
        data=DataConfig(source="pairs", image_size=256, channels=3, flip=True, jitter=True, direction="AtoB"),
        model=ModelConfig(family="pix2pix", g_filters=64, d_filters=64, unet_depth=8, d_layers=3, norm="instance"),
        train=TrainConfig(batch_size=1, epochs=15, ema_decay=0.0, precision="mixed_bfloat16", sample_columns=4, checkpoint_every=2000),
    )


@register_preset
def pix2pix_fmnist_edges() -> ExperimentConfig:
    """Sketch -> shoe on Fashion-MNIST (sketches drawn from the shoes), sized for a CPU demo: 32 px,
    a 5-level U-Net with 32 base filters, batch 16, bf16, 10 epochs of 400 steps (the last 4 decaying)."""
    return ExperimentConfig(
        name="pix2pix_fmnist_edges",
        data=DataConfig(source="fmnist_edges", image_size=32, channels=3, flip=True),
        model=ModelConfig(family="pix2pix", g_filters=32, d_filters=32, d_layers=2, norm="instance"),
        train=TrainConfig(batch_size=16, epochs=10, decay_epochs=4, steps_per_epoch=400, ema_decay=0.0,
                          precision="mixed_bfloat16", sample_columns=8, checkpoint_every=200),
    )


@register_preset
def pix2pix_mask2product() -> ExperimentConfig:
    """Worn photo + its mask -> frontal product shot (input/mask/target triplet folders), 128 px,
    unet_128 with a 4-channel input, 70x70 PatchGAN, lambda_L1 100, batch 1."""
    return ExperimentConfig(
        name="pix2pix_mask2product",
        data=DataConfig(source="triplets", image_size=128, channels=3, flip=True, jitter=True),
        model=ModelConfig(family="pix2pix", g_filters=64, d_filters=64, unet_depth=7, d_layers=3, norm="instance"),
        train=TrainConfig(batch_size=1, epochs=100, decay_epochs=50, ema_decay=0.0, precision="mixed_bfloat16", sample_columns=4,
                          checkpoint_every=2000),
    )


@register_preset
def cyclegan_sneaker2boot() -> ExperimentConfig:
    """Sneakers <-> ankle boots on Fashion-MNIST (unpaired), sized for a CPU demo: 32 px, ResNet
    generators with 6 blocks and 32 filters, LSGAN, lambda_cycle 10, identity 0.5, pool 50, batch 8."""
    return ExperimentConfig(
        name="cyclegan_sneaker2boot",
        data=DataConfig(source="fmnist", image_size=32, channels=3, domain_a="category=sneaker", domain_b="category=ankle_boot"),
        model=ModelConfig(family="cyclegan", g_filters=32, d_filters=32, resnet_blocks=6, d_layers=2, norm="instance"),
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
        model=ModelConfig(family="cyclegan", g_filters=64, d_filters=64, resnet_blocks=9, d_layers=3, norm="instance"),
        train=TrainConfig(batch_size=1, epochs=200, decay_epochs=100, loss="least_squares", ema_decay=0.0, precision="mixed_bfloat16",
                          sample_columns=4, checkpoint_every=2000),
    )


def _segmenter_preset(name: str, segmenter: str) -> ExperimentConfig:
    """Shoe vs background on coloured Fashion-MNIST shoes (masks as `shoes-data masks` draws them):
    32 px, 32 base filters, Adam 1e-3, batch 64, 3 epochs over 6,000 shoes, flips."""
    return ExperimentConfig(
        name=name,
        data=DataConfig(source="fmnist_masks", image_size=32, channels=3, limit=6000, flip=True, classes=("background", "shoe")),
        model=ModelConfig(family="segmentation", segmenter=segmenter, g_filters=32),
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
def segment_parts() -> ExperimentConfig:
    """Shoe parts from label PNGs (``--data`` a folder with ``image/`` and ``label/``, or
    ``--set data.label_path=``): background / sole / heel / upper, 128 px U-Net, batch 8, 40 epochs."""
    return ExperimentConfig(
        name="segment_parts",
        data=DataConfig(source="segments", image_size=128, channels=3, flip=True, classes=("background", "sole", "heel", "upper")),
        model=ModelConfig(family="segmentation", segmenter="unet", g_filters=32),
        train=TrainConfig(batch_size=8, epochs=40, g_lr=1e-3, beta_1=0.9, ema_decay=0.0, sample_columns=6, checkpoint_every=500),
    )


def get_preset(name: str) -> ExperimentConfig:
    """A fresh, validated copy of the preset `name`.

    Raises:
        ValueError: unknown preset (the message lists them).
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset. Known presets: {sorted(PRESETS)}. Received: config={name!r}")
    return PRESETS[name]().validate(require_path=False)
