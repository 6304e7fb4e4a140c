"""Quality of an exported generator: type and colour accuracy, Frechet distance with its floor."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Sequence

import numpy as np
import tensorflow as tf

from shoes_generator.evaluation.frechet import frechet_distance
from shoes_generator.evaluation.reference import real_shoes
from shoes_generator.export import label_vocabularies, sample
from shoes_generator.metrics import ClassifierFeatures


def requested_labels(vocabularies: dict[str, list[str]], count: int) -> dict[str, np.ndarray]:
    """`count` label rows cycling through every combination of the vocabularies (balanced)."""
    names = sorted(vocabularies)
    combos = list(itertools.product(*(vocabularies[name] for name in names)))
    rows = [combos[i % len(combos)] for i in range(count)]
    return {name: np.asarray([row[k] for row in rows]) for k, name in enumerate(names)}


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

    def __call__(self, seeds: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        inputs = {"seed": np.asarray(seeds, np.int64), **{name: np.asarray(values, object) for name, values in labels.items()}}
        return self.client.predict(inputs, output_filter=["images"])["images"]


def generate(source, count: int, seed: int = 0, batch_size: int = 250) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`count` ``uint8`` samples and the labels asked for, from a loaded SavedModel's ``serving_default``
    or a `ServedSampler`.

    Args:
        source: the loaded SavedModel (see `shoes_generator.export`) or a `ServedSampler`.
        count: how many samples.
        seed: first noise seed (samples use seeds ``seed .. seed + count - 1``).
        batch_size: samples per call.
    """
    served = isinstance(source, ServedSampler)
    vocabularies = source.vocabularies if served else label_vocabularies(source)
    labels = requested_labels(vocabularies, count) if vocabularies else {}
    images = []
    for start in range(0, count, batch_size):
        stop = min(count, start + batch_size)
        seeds, chunk = np.arange(seed + start, seed + stop), {name: values[start:stop] for name, values in labels.items()}
        images.append(source(seeds, chunk) if served else sample(source, seeds, chunk)["images"].numpy())
    return np.concatenate(images), labels


def feature_metrics(images: np.ndarray, real_test: np.ndarray, real_train: np.ndarray, metrics, extractor) -> dict:
    """FID / KID / precision-recall of `images` against real test shoes under `extractor`, with the
    real-train-vs-real-test floor beside each (keys suffixed with the extractor's name)."""
    from shoes_generator.metrics import compare, features_of

    def stats(array):
        return features_of((array[i : i + 250] for i in range(0, len(array), 250)), extractor)

    test = stats(real_test)
    fake, floor = compare(test, stats(images), metrics), compare(test, stats(real_train), metrics)
    report = {f"{key}_{extractor.name}": round(float(value), 4) for key, value in fake.items()}
    report.update({f"{key}_{extractor.name}_floor_real_vs_real": round(float(value), 4) for key, value in floor.items()})
    return report


def label_accuracy(
    key: str,
    asked: np.ndarray,
    found: np.ndarray,
    vocabulary: Sequence[str],
    judge_classes: Sequence[str],
    per_label_key: str | None = None,
) -> dict:
    """``{key: share of samples found as asked}``, or ``{key + "_note": why}`` when the judge cannot read the labels.

    A judge that only outputs `judge_classes` would count every other label
    wrong, so the accuracy is reported only when `vocabulary` is a subset of them.

    Args:
        key: the report key, e.g. "type_accuracy".
        asked: ``[N]`` labels the samples were generated with.
        found: ``[N]`` labels the judge read from the samples.
        vocabulary: the model's vocabulary of this label.
        judge_classes: every label the judge can output.
        per_label_key: also report ``{label: share}`` under this key.
    """
    asked, found = np.asarray(asked), np.asarray(found)
    if asked.shape != found.shape:
        raise ValueError(f"asked and found must have the same shape. Received: shapes {asked.shape} and {found.shape}")
    unknown = [name for name in vocabulary if name not in set(judge_classes)]
    if unknown:
        return {
            f"{key}_note": f"omitted: the judge only knows {list(judge_classes)}; "
            f"the model's labels {unknown} are not among them and would always count as wrong"
        }
    report = {key: round(float(np.mean(found == asked)), 4)}
    if per_label_key:
        report[per_label_key] = {name: round(float(np.mean(found[asked == name] == name)), 3) for name in sorted(set(asked))}
    return report


def within_group_spread(features: np.ndarray, groups: np.ndarray, max_per_group: int = 64) -> float:
    """Mean pairwise feature distance among items of the same group, averaged over groups.

    A generator that ignores its noise (mode collapse) draws near-identical
    shoes for one set of labels: its spread falls far below the real shoes'.

    Args:
        features: ``[N, D]`` features.
        groups: ``[N]`` group keys (e.g. "red|sneaker").
        max_per_group: items used per group (bounds the cost).
    """
    spreads = []
    for key in np.unique(groups):
        members = features[groups == key][:max_per_group]
        if len(members) < 2:
            continue
        distances = np.sqrt(((members[:, None, :] - members[None, :, :]) ** 2).sum(-1))
        spreads.append(distances[np.triu_indices(len(members), 1)].mean())
    if not spreads:
        raise ValueError(f"No group holds two items; cannot measure a spread. Received: {len(features)} items in {len(np.unique(groups))} groups")
    return float(np.mean(spreads))


def evaluate_saved_model(
    path: str | Path | None,
    count: int = 2000,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    reference_limit: int | None = None,
    metrics=(),
    metric_features=None,
    server: ServedSampler | None = None,
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

    Args:
        path: a SavedModel directory written by `export_generator`.
        count: generated samples (and real shoes on each side of the floor).
        seed: first noise seed.
        cache_dir: the classifier cache.
        reference_limit: at most this many real shoes per split (tests).
        metrics: extra feature metrics ("fid", "kid", "pr"; see `shoes_generator.metrics`).
        metric_features: their feature extractor (default: the project classifier's features).
        server: measure this served model instead of `path`.
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES
    from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch

    model = server if server is not None else tf.saved_model.load(str(path))
    vocabularies = server.vocabularies if server is not None else label_vocabularies(model)
    images, labels = generate(model, count, seed)
    image_size = images.shape[1]
    colored = "color" in labels
    classifier = ClassifierFeatures(image_size, cache_dir)
    features = classifier.judge
    fake_features, fake_types = features(images)
    limit = min(count, reference_limit) if reference_limit else count
    real_test, test_categories, test_colors = real_shoes("test", image_size, colored, limit, seed=7)
    real_train, _, _ = real_shoes("train", image_size, colored, limit, seed=11)
    test_features, _ = features(real_test)
    train_features, _ = features(real_train)
    report = {
        "model": str(path) if server is None else f"served {server.client.model} at {server.client.target}",
        "samples": int(len(images)),
        "image_size": int(image_size),
        "classifier_test_accuracy": classifier.info["test_accuracy"],
        "frechet_distance": round(frechet_distance(fake_features, test_features), 3),
        "frechet_floor_real_vs_real": round(frechet_distance(train_features, test_features), 3),
    }
    if labels:
        cells = np.asarray(["|".join(values) for values in zip(*(labels[name] for name in sorted(labels)))])
        real_cells = np.asarray([f"{color}|{category}" for color, category in zip(test_colors, test_categories)])
        report["within_label_spread"] = round(within_group_spread(fake_features, cells), 3)
        report["within_label_spread_real"] = round(within_group_spread(test_features, real_cells), 3)
    if "category" in labels:
        report.update(label_accuracy("type_accuracy", labels["category"], fake_types, vocabularies["category"], CATEGORY_NAMES))
    if colored:
        found = np.asarray(COLOR_NAMES)[classify_batch(images)[0]]
        report.update(
            label_accuracy("color_accuracy", labels["color"], found, vocabularies["color"], COLOR_NAMES, "color_accuracy_per_color")
        )
    if metrics:
        report.update(feature_metrics(images, real_test, real_train, metrics, metric_features or classifier))
    return report
