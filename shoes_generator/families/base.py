"""`Family`: what a model family declares, and the registry the generic code looks families up in.

The trainer, `shoes-train`, `shoes-export`, `shoes-eval`, the callbacks and the config
validation ask the family of a run (``config.family``) instead of testing its name. A
family module defines a `Family` subclass, registers one instance with `register_family`
and registers its presets with `shoes_generator.configs.register_preset`. This module and
the family modules import TensorFlow only inside methods, so configs stay light.
"""

from __future__ import annotations

from pathlib import Path

_FAMILIES: dict[str, "Family"] = {}

# What a family can declare it does (each a `Family` attribute, False unless the family sets it True).
# Metrics apply by them (`shoes_generator.evaluation.registry.Metric.applies_to`): a registered family
# gets every metric of what it declares, with no edit to the metric registry.
CAPABILITIES = {
    "noise_generator": "draws images from noise, and from labels when it takes them",
    "translator": "turns an input image into an output image",
    "paired_translator": "learns from input and target pairs, so its outputs have targets",
    "cycle_translator": "translates both ways between two domains; a round trip should give the input back",
    "segmenter": "gives every pixel a class",
}


class Family:
    """One model family.

    Attributes:
        name: the ``model.family`` value.
        model_config: its model section (a dataclass subclassing `configs.ModelConfig`).
        sources: the ``data.source`` values it trains on.
        noise_generator: draws images from noise (gets FID/KID/PR during training and
            `shoes-eval --metrics`).
        translator, paired_translator, cycle_translator, segmenter: the other `CAPABILITIES`;
            together with ``noise_generator`` they choose the metrics that apply to the family.
        blendable: its export has the ``blend_pixels`` signature (an ``alpha`` between the input
            and its translation), which ``shoes-explore blend`` draws.
    """

    name: str = ""
    model_config: type = None
    sources: tuple[str, ...] = ()
    noise_generator: bool = False
    translator: bool = False
    paired_translator: bool = False
    cycle_translator: bool = False
    segmenter: bool = False
    blendable: bool = False

    def capabilities(self) -> tuple[str, ...]:
        """The `CAPABILITIES` this family declares (set True), in their order."""
        return tuple(name for name in CAPABILITIES if getattr(self, name, False))

    def validate(self, config) -> None:
        """Family-specific checks of an experiment; raises ValueError naming the field and the value received."""

    def training_data(self, config):
        """The run's `TrainingData` (examples, batching, vocabularies)."""
        from shoes_generator.data.training_data import training_data

        return training_data(config.data, config.train.batch_size, config.train.seed)

    def build(self, config, vocabularies=None, steps_per_epoch: int | None = None):
        """The compiled training model, optimizers built (ready to restore a checkpoint).

        Args:
            config: the experiment.
            vocabularies: the data's label vocabularies (None when unlabelled).
            steps_per_epoch: steps of one epoch (the learning-rate decay of ``train.decay_epochs``).
        """
        raise NotImplementedError(f"Family {self.name!r} does not build a model.")

    def sample_callback(self, config, data, run_dir: Path):
        """The run's per-epoch picture (a `keras.callbacks.Callback` writing ``samples/``)."""
        raise NotImplementedError(f"Family {self.name!r} draws no per-epoch picture.")

    def extra_callbacks(self, config, run_dir: Path) -> list:
        """More per-epoch callbacks of the family's own (plots of what it logs), run after `MetricsLog` and the picture."""
        return []

    def export(self, model, config, vocabularies, path: Path) -> Path:
        """Writes the trained `model` as a servable SavedModel at `path`; returns `path`."""
        raise NotImplementedError(f"Family {self.name!r} has no export.")

    def evaluate(self, saved_model: Path, config, options, metrics=()) -> dict:
        """The `shoes-eval` report of a run's exported model.

        Args:
            saved_model: the SavedModel directory.
            config: the run's experiment.
            options: the parsed `shoes-eval` command line (``samples``, ``seed``, ``cache``, ...).
            metrics: the feature metrics asked for with ``--metrics`` (noise generators).
        """
        raise NotImplementedError(f"Family {self.name!r} has no evaluation.")


def register_family(family: Family) -> Family:
    """Registers `family` under its name (a name registered twice is an error)."""
    if not family.name or family.model_config is None or not family.sources:
        raise ValueError(f"A family needs a name, a model_config and its sources. Received: {type(family).__name__}")
    if family.name in _FAMILIES and type(_FAMILIES[family.name]) is not type(family):
        raise ValueError(f"Family {family.name!r} is registered already (by {type(_FAMILIES[family.name]).__name__}).")
    _FAMILIES[family.name] = family
    return family


def unregister_family(name: str) -> None:
    """Removes the family registered as `name` (tests that register a toy family clean up with it)."""
    _FAMILIES.pop(name, None)


def get_family(name: str) -> Family:
    """The family registered as `name`.

    Raises:
        ValueError: no such family (the message lists the registered ones).
    """
    if name not in _FAMILIES:
        raise ValueError(f"model.family must be one of {sorted(_FAMILIES)}. Received: model.family={name!r}")
    return _FAMILIES[name]


def registered_families() -> dict[str, Family]:
    """Every registered family by name."""
    return dict(_FAMILIES)


def families_for_source(source: str) -> list[str]:
    """The families that train on data source `source`."""
    return sorted(name for name, family in _FAMILIES.items() if source in family.sources)
