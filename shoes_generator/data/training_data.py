"""A `DataConfig` -> the resumable, endless stream of batches `GAN.fit` consumes."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from shoes_generator.configs import DataConfig
from shoes_generator.data.pipeline import PipelineOptions
from shoes_generator.labels import Vocabularies


@dataclasses.dataclass
class TrainingData:
    """The training stream and what the run needs to know about it.

    Attributes:
        batches: one epoch of batches (finite, reshuffled on every pass).
        steps_per_epoch: full batches in one pass.
        vocabularies: label vocabularies (None for unlabelled data).
        labels: the conditioning labels, encoded to int32 ids in `stream`.
    """

    batches: tf.data.Dataset
    steps_per_epoch: int
    vocabularies: Vocabularies | None
    labels: tuple[str, ...]

    def stream(self, start_step: int = 0) -> tf.data.Dataset:
        """Endless batches from global step `start_step` on, labels as ids.

        The order depends only on the seeds, so a resumed run sees exactly the
        batches the uninterrupted run would have seen.

        Args:
            start_step: batches already consumed by earlier (killed) runs.
        """
        stream = self.batches.repeat()
        keep = ["image", *self.labels]
        stream = stream.map(lambda batch: {key: batch[key] for key in keep})
        if self.vocabularies is not None and self.labels:
            stream = stream.map(self.vocabularies.encoder())
        return stream.skip(start_step).prefetch(tf.data.AUTOTUNE)


def pipeline_options(config: DataConfig, batch_size: int, seed: int) -> PipelineOptions:
    """The pipeline options of a training run."""
    return PipelineOptions(
        image_size=config.image_size,
        channels=config.channels,
        batch_size=batch_size,
        shuffle=True,
        cache=config.cache,
        seed=seed,
        flip=config.flip,
    )


def training_data(config: DataConfig, batch_size: int, seed: int, split: str = "train") -> TrainingData:
    """Builds the training data of `config`.

    Args:
        config: the data section of the experiment.
        batch_size: examples per batch.
        seed: shuffling seed.
        split: "train" or "test" (Fashion-MNIST sources).

    Raises:
        ValueError: the data cannot give the requested labels, or holds less
            than one batch.
    """
    options = pipeline_options(config, batch_size, seed)
    if config.source in ("fmnist", "fmnist_color"):
        from shoes_generator.data import fmnist

        colored = config.source == "fmnist_color"
        batches = fmnist.fmnist_shoes(split, options, colored=colored, seed=config.seed, limit=config.limit)
        vocabularies = Vocabularies(fmnist.vocabularies(colored))
    else:
        raise ValueError(f"Unsupported data.source for training. Received: source={config.source!r}")
    unknown = sorted(set(config.labels) - set(vocabularies.names))
    if unknown:
        raise ValueError(f"data.labels {unknown} are not in the data. Available labels: {list(vocabularies.names)}")
    steps = int(batches.cardinality())
    if steps < 1:
        raise ValueError(f"The training data holds less than one batch of {batch_size} (source={config.source!r}).")
    return TrainingData(batches, steps, vocabularies, tuple(config.labels))
