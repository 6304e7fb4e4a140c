"""Quality of an exported generator: type and colour accuracy, Frechet distance with its floor.

Samples are generated, measured and dropped one batch at a time
(`sample_batches`, `measure_samples`). Each batch is folded into bounded
accumulators (`shoes_generator.evaluation.streaming.SetMeasures`), so memory
does not grow with the sample count.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from shoes_generator.cli_common import UsageError
from shoes_generator.evaluation.reference import real_shoes
from shoes_generator.evaluation.registry import GENERATOR, metrics_for, resolve_metrics
from shoes_generator.evaluation.streaming import SetMeasures
from shoes_generator.export import label_vocabularies, sample
from shoes_generator.metrics import ClassifierFeatures, FeatureStats, compare


def requested_labels(vocabularies: dict[str, list[str]], count: int, start: int = 0) -> dict[str, np.ndarray]:
    """`count` label rows cycling through every combination of the vocabularies (balanced).

    Args:
        vocabularies: label name -> its values.
        count: how many rows.
        start: position of the first row in the cycle (a batch of a longer request).
    """
    names = sorted(vocabularies)
    combos = list(itertools.product(*(vocabularies[name] for name in names)))
    rows = [combos[(start + i) % len(combos)] for i in range(count)]
    return {name: np.asarray([row[k] for row in rows]) for k, name in enumerate(names)}


class SavedModelSampler:
    """A loaded generator SavedModel called in process, with the interface of `ServedSampler`.

    Args:
        model: the loaded SavedModel (see `shoes_generator.export`).
        description: how reports name the model (e.g. its path).

    Raises:
        UsageError: the SavedModel is not a noise generator (no ``seed`` input): the wrong model was given.
    """

    def __init__(self, model, description: str = "saved model"):
        inputs = model.signatures["serving_default"].structured_input_signature[1] if "serving_default" in model.signatures else {}
        if "seed" not in inputs:
            raise UsageError(
                f"{description} is not a noise generator: its serving_default takes {sorted(inputs)}, not a seed. "
                "Image-to-image models and segmenters are scored on their held-out data: give their run directory."
            )
        self.model, self.description = model, description
        self.vocabularies = label_vocabularies(model)

    def __call__(self, seeds: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        return sample(self.model, seeds, labels)["images"].numpy()


class ServedSampler:
    """A served generator (TF Serving or shoes-serve) asked through the thin gRPC client.

    Args:
        target: ``host:port`` of the gRPC API.
        name: the model name.
    """

    def __init__(self, target: str, name: str = "shoes"):
        from serving.client import ShoesClient

        self.client = ShoesClient(target, name, timeout=120)
        self.vocabularies = self.client.labels()
        self.description = f"served {self.client.model} at {self.client.target}"

    def __call__(self, seeds: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        inputs = {"seed": np.asarray(seeds, np.int64), **{name: np.asarray(values, object) for name, values in labels.items()}}
        return self.client.predict(inputs, output_filter=["images"])["images"]


def sample_batches(source, count: int, seed: int = 0, batch_size: int = 250) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Yields ``(uint8 images [B, H, W, 3], labels asked {name: [B]})`` for `count` samples, generating each batch on demand.

    Args:
        source: a sampler (``(seeds, labels) -> uint8 images`` with ``vocabularies``, e.g. a
            `ServedSampler`) or a loaded SavedModel (wrapped in a `SavedModelSampler`).
        count: how many samples.
        seed: first noise seed (samples use seeds ``seed .. seed + count - 1``).
        batch_size: samples per call (``B <= batch_size``).
    """
    if count < 1 or batch_size < 1:
        raise ValueError(f"Need count >= 1 and batch_size >= 1. Received: count={count}, batch_size={batch_size}")
    sampler = source if hasattr(source, "vocabularies") else SavedModelSampler(source)
    for start in range(0, count, batch_size):
        size = min(batch_size, count - start)
        labels = requested_labels(sampler.vocabularies, size, start) if sampler.vocabularies else {}
        yield np.asarray(sampler(np.arange(seed + start, seed + start + size), labels)), labels


def generate(source, count: int, seed: int = 0, batch_size: int = 250) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All `count` ``uint8`` samples and the labels asked for, in memory at once (`sample_batches` streams them).

    Args:
        source: a loaded SavedModel or a sampler (see `sample_batches`).
        count: how many samples.
        seed: first noise seed (samples use seeds ``seed .. seed + count - 1``).
        batch_size: samples per call.
    """
    batches = list(sample_batches(source, count, seed, batch_size))
    labels = {name: np.concatenate([chunk[name] for _, chunk in batches]) for name in batches[0][1]}
    return np.concatenate([images for images, _ in batches]), labels


def measure_samples(source, count: int, measures_for: Callable[[int], SetMeasures], seed: int = 0, batch_size: int = 250) -> SetMeasures:
    """Generates `count` samples batch by batch and folds each into measures, dropping the images.

    Args:
        source: a loaded SavedModel or a sampler (see `sample_batches`).
        count: how many samples.
        measures_for: image side -> the `SetMeasures` to fill (called once, on the first batch).
        seed: first noise seed.
        batch_size: samples per call.
    """
    measures = None
    for images, labels in sample_batches(source, count, seed, batch_size):
        measures = measures_for(int(images.shape[1])) if measures is None else measures
        measures.add(images, labels)
    return measures


def feature_metrics(real_test: FeatureStats, fake: FeatureStats, real_train: FeatureStats, metrics: Sequence[str], name: str) -> dict:
    """FID / KID / precision-recall of `fake` against real test shoes, with the real-train-vs-real-test
    floor beside each (keys suffixed with the extractor's `name`).

    Args:
        real_test: statistics of real test shoes (with kept rows for "kid" and "pr").
        fake: statistics of the generated shoes.
        real_train: statistics of real train shoes.
        metrics: names of registered "samples" metrics, e.g. "fid", "kid", "pr" (see `shoes_generator.metrics.compare`).
        name: the extractor's name, e.g. "classifier".
    """
    fake_values, floor = compare(real_test, fake, metrics), compare(real_test, real_train, metrics)
    report = {f"{key}_{name}": round(float(value), 4) for key, value in fake_values.items()}
    report.update({f"{key}_{name}_floor_real_vs_real": round(float(value), 4) for key, value in floor.items()})
    return report


def judge_metrics(real_test: FeatureStats, fake: FeatureStats, real_train: FeatureStats) -> dict:
    """The generators' always-reported registered "samples" metrics (the Frechet distance) of the judge's
    features, fake vs real test shoes, then real train vs real test shoes as the floor
    (``frechet_distance`` -> ``frechet_floor_real_vs_real``).

    Args:
        real_test: the judge's statistics of real test shoes.
        fake: the judge's statistics of the generated shoes.
        real_train: the judge's statistics of real train shoes.
    """
    report = {}
    for metric in metrics_for(GENERATOR, kind="samples", optional=False):
        report.update(metric.rounded(metric.compute(real_test, fake)))
        floor = metric.rounded(metric.compute(real_test, real_train))
        report.update({f"{key.removesuffix('_distance')}_floor_real_vs_real": value for key, value in floor.items()})
    return report


def label_report(fake: SetMeasures, real_test: SetMeasures, vocabularies: dict[str, list[str]]) -> dict:
    """Within-label spreads (generated and real) and the registered "labels" metrics (type / colour
    accuracy) of the labels a generator takes.

    Args:
        fake: measures of the generated shoes.
        real_test: measures of real test shoes (with their label cells).
        vocabularies: the generator's label vocabularies.
    """
    report = {}
    if vocabularies:
        report["within_label_spread"] = round(fake.groups.spread(), 3)
        report["within_label_spread_real"] = round(real_test.groups.spread(), 3)
    for metric in metrics_for(GENERATOR, kind="labels"):
        if metric.label in vocabularies:
            report.update(metric.rounded(metric.compute(fake.tallies[metric.label], vocabularies[metric.label])))
    return report


def evaluate_saved_model(
    path: str | Path | None,
    count: int = 2000,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    reference_limit: int | None = None,
    metrics=(),
    metric_features=None,
    server: ServedSampler | None = None,
    batch_size: int = 250,
    max_per_group: int = 64,
    reservoir: int = 10000,
) -> dict:
    """Type accuracy, colour accuracy and Frechet distances of the generator exported at `path`.

    An accuracy is left out, with a ``<key>_note`` saying why, when the model's
    labels are not all ones the judge knows (e.g. UT-Zappos categories: the
    classifier knows the Fashion-MNIST shoe types only).

    The Frechet distance uses the project classifier's 128-d features, against
    real test shoes; the floor is the distance between real train and real test
    shoes of the same count, the best a generator can expect. For labelled
    models, ``within_label_spread`` (mean feature distance between samples of
    the same labels) beside ``within_label_spread_real`` (the same for real
    shoes of one colour and type) shows whether the noise still matters.

    Samples are generated and measured `batch_size` at a time and then dropped:
    memory does not grow with `count` (see `SetMeasures`).

    Args:
        path: a SavedModel directory written by `export_generator`.
        count: generated samples (and real shoes on each side of the floor).
        seed: first noise seed.
        cache_dir: the classifier cache.
        reference_limit: at most this many real shoes per split (tests).
        metrics: extra feature metrics: registered optional "samples" metrics of generators
            ("fid", "kid", "pr"; see `shoes_generator.evaluation.registry`).
        metric_features: their feature extractor (default: the project classifier's features).
        server: measure this served model instead of `path`.
        batch_size: samples generated and measured at a time.
        max_per_group: samples per label cell used for the within-label spreads.
        reservoir: feature rows kept per set for KID and precision / recall (when `metrics` asks for them).
    """
    metrics = [metric.name for metric in resolve_metrics(metrics, kind="samples", model=GENERATOR, user="the generator evaluation")]
    sampler = server if server is not None else SavedModelSampler(tf.saved_model.load(str(path)), str(path))

    def measures_for(image_size: int) -> SetMeasures:
        return SetMeasures(ClassifierFeatures(image_size, cache_dir), metric_features, reservoir if metrics else 0, max_per_group)

    fake = measure_samples(sampler, count, measures_for, seed, batch_size)
    colored, limit = "color" in sampler.vocabularies, min(count, reference_limit) if reference_limit else count
    test_images, test_categories, test_colors = real_shoes("test", fake.image_size, colored, limit, seed=7)
    real_test = fake.like().add_arrays(test_images, {"category": test_categories, "color": test_colors}, batch_size)
    real_train = fake.like().add_arrays(real_shoes("train", fake.image_size, colored, limit, seed=11)[0], {}, batch_size)
    report = {
        "model": sampler.description,
        "samples": fake.features.count,
        "image_size": fake.image_size,
        "classifier_test_accuracy": fake.classifier.info["test_accuracy"],
        **judge_metrics(real_test.features, fake.features, real_train.features),
        **label_report(fake, real_test, sampler.vocabularies),
    }
    if metrics:
        report.update(feature_metrics(real_test.metric_features, fake.metric_features, real_train.metric_features, metrics, fake.extractor.name))
    return report
