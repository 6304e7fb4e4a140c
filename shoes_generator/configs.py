"""Typed experiment configs and the named presets `shoes-train --config` picks from.

Every preset ``NAME`` has a tiny variant ``NAME_tiny`` (16 px, 8 filters, a few
steps) that trains in seconds, for tests. Values are overridden with dotted
keys: ``override(config, ["train.batch_size=64", "data.image_size=32"])``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Callable

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
DATA_SOURCES = (
    "fmnist", "fmnist_color", "folder", "manifest", "tfrecords", "pairs", "triplets", "fmnist_edges", "fmnist_sketches", "fmnist_masks",
    "fmnist_parts", "segments", "fmnist_patterns", "patterns",
)
PATH_SOURCES = ("folder", "manifest", "tfrecords", "pairs", "triplets", "segments", "patterns")
IMAGE_SOURCES = ("fmnist", "fmnist_color", "folder", "manifest", "tfrecords")  # Single images (with labels), not pairs or label maps.
SKETCH_SOURCES = ("fmnist_edges", "fmnist_sketches")  # Fashion-MNIST sketch -> shoe pairs, each with its shoe's category.
# The fields of the one flat model section every run's config.json held before each family had its own:
# an old run's file still loads, the fields its family does not use are dropped.
LEGACY_MODEL_FIELDS = frozenset((
    "family", "latent_dim", "g_filters", "d_filters", "embed_dim", "spectral_norm", "d_batch_norm", "minibatch_std",
    "unet_depth", "resnet_blocks", "d_layers", "norm", "segmenter",
))


@dataclasses.dataclass
class DataConfig:
    """Where training images come from and how they are shaped.

    Attributes:
        source: "fmnist" (grayscale Fashion-MNIST shoes), "fmnist_color" (tinted
            into the 11 catalogue colours), "folder", "manifest", "tfrecords";
            for pix2pix "pairs" (``A|B`` images), "triplets" (input/mask/target
            folders), "fmnist_edges" (Fashion-MNIST shoes and their sketches) or "fmnist_sketches"
            (the same, each training sketch drawn in a random one of many line styles);
            for segmentation "fmnist_masks" (coloured Fashion-MNIST shoes on white and
            their foreground masks), "fmnist_parts" (the same shoes and their part maps,
            `PART_CLASSES`) or "segments" (images beside label PNGs); for pattern transfer
            "fmnist_patterns" (prints on objects and on Fashion-MNIST shoes, made in memory) or
            "patterns" (a folder as `shoes-data patterns` writes it).
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
    """The networks: the base of every family's own model section (`shoes_generator.families`).

    Attributes:
        family: the registered family name ("dcgan", "conditional", "pix2pix", "cyclegan",
            "segmentation", ...); its section class holds the rest.
    """

    family: str = "dcgan"


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


def section_class(section: str, family: str = "dcgan") -> type:
    """The dataclass of config section `section` ("data", "model", "train"); the model section is `family`'s own."""
    if section == "model":
        from shoes_generator.families import get_family

        return get_family(family).model_config
    return SECTIONS[section]


@dataclasses.dataclass
class ExperimentConfig:
    """A whole training run: data, model and training settings."""

    name: str
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=lambda: section_class("model")())
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    @property
    def family(self):
        """The registered `Family` of this experiment (its build, data, pictures, export and evaluation)."""
        from shoes_generator.families import get_family

        return get_family(self.model.family)

    def validate(self, require_path: bool = True) -> "ExperimentConfig":
        """Checks the choices; raises ValueError naming the bad field and value.

        Args:
            require_path: whether a path-based source must already have ``data.path``
                (presets leave it to ``shoes-train --data``).
        """
        checks = [("data.source", self.data.source, DATA_SOURCES), ("train.precision", self.train.precision, PRECISIONS)]
        for key, value, allowed in checks:
            if value not in allowed:
                raise ValueError(f"{key} must be one of {list(allowed)}. Received: {key}={value!r}")
        family = self.family  # Raises for an unregistered family, naming the registered ones.
        if self.data.source not in family.sources:
            from shoes_generator.families import families_for_source

            raise ValueError(
                f"model.family={family.name!r} trains on {', '.join(family.sources)}: data.source and model.family go together "
                f"(data.source={self.data.source!r} is for {families_for_source(self.data.source)}). "
                f"Received: model.family={family.name!r}, data.source={self.data.source!r}"
            )
        family.validate(self)
        if self.data.direction not in ("AtoB", "BtoA"):
            raise ValueError(f"data.direction must be 'AtoB' or 'BtoA'. Received: data.direction={self.data.direction!r}")
        if not 0 <= self.train.decay_epochs <= self.train.epochs:
            raise ValueError(f"train.decay_epochs must lie in [0, train.epochs={self.train.epochs}]. Received: {self.train.decay_epochs}")
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
        if self.train.metrics_every and not family.noise_generator:
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

    def to_dict(self) -> dict:
        """A JSON-ready dict (what `config.json` holds)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> "ExperimentConfig":
        """Rebuilds a config from `to_dict` output (unknown keys are an error)."""
        kwargs = {"name": values["name"]}
        family = values.get("model", {}).get("family", "dcgan")
        for section in SECTIONS:
            klass = section_class(section, family)
            fields = dict(values.get(section, {}))
            known = {field.name for field in dataclasses.fields(klass)}
            unknown = set(fields) - known
            if section == "model" and unknown <= LEGACY_MODEL_FIELDS:  # A run written before families had own sections.
                fields, unknown = {key: value for key, value in fields.items() if key in known}, set()
            if unknown:
                raise ValueError(f"Unknown {section} settings {sorted(unknown)}. Known: {sorted(known)}")
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
        family = values["model"]["family"]
        klass = section_class(section, family) if section in SECTIONS else None
        annotations = {f.name: f.type for f in dataclasses.fields(klass)} if klass else {}
        if field not in annotations:
            known = sorted(f"{s}.{f.name}" for s in SECTIONS for f in dataclasses.fields(section_class(s, family)))
            raise ValueError(f"Unknown setting {key!r} (model settings are {family!r}'s). Known settings: {', '.join(known)}")
        try:
            values[section][field] = _parse_value(text.strip(), annotations[field])
            if key.strip() == "model.family":  # The new family's section: keep the fields it shares with the old one.
                kept = {f.name for f in dataclasses.fields(section_class("model", values["model"]["family"]))}
                values["model"] = {name: value for name, value in values["model"].items() if name in kept}
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


TINY_MODEL = {
    "latent_dim": 16, "g_filters": 8, "d_filters": 8, "embed_dim": 4, "unet_depth": 0, "resnet_blocks": 2, "d_layers": 2,
    "w_dim": 16, "mapping_depth": 2, "channel_base": 64, "channel_max": 8, "ada_kimg": 0.1, "invert_steps": 5, "spade_hidden": 8, "style_dim": 8,
}


def tiny(config: ExperimentConfig) -> ExperimentConfig:
    """The seconds-long variant of `config`: 16 px, 8 filters, batch 4, 2 steps x 2 epochs."""
    fields = {field.name for field in dataclasses.fields(config.model)}
    return dataclasses.replace(
        config,
        name=f"{config.name}_tiny",
        data=dataclasses.replace(config.data, image_size=16, limit=32, jitter=False),
        model=dataclasses.replace(config.model, **{key: value for key, value in TINY_MODEL.items() if key in fields}),
        train=dataclasses.replace(
            config.train, batch_size=4, epochs=2, steps_per_epoch=2, checkpoint_every=1, sample_columns=2,
            decay_epochs=min(config.train.decay_epochs, 1), pool_size=min(config.train.pool_size, 4),
        ),
    )


def get_preset(name: str) -> ExperimentConfig:
    """A fresh, validated copy of the preset `name` (presets live with their families).

    Raises:
        ValueError: unknown preset (the message lists them).
    """
    if name not in PRESETS:
        raise ValueError(f"Unknown preset. Known presets: {sorted(PRESETS)}. Received: config={name!r}")
    return PRESETS[name]().validate(require_path=False)


import shoes_generator.families  # noqa: E402,F401  (registers the families and their presets; they import this module)
