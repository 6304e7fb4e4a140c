"""Quality of an exported generator: type and colour accuracy, Frechet distance with its floor."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.evaluation.classifier import feature_extractor, load_or_train_classifier
from shoes_generator.evaluation.frechet import frechet_distance
from shoes_generator.evaluation.reference import real_shoes


def requested_labels(vocabularies: dict[str, list[str]], count: int) -> dict[str, np.ndarray]:
    """`count` label rows cycling through every combination of the vocabularies (balanced)."""
    names = sorted(vocabularies)
    combos = list(itertools.product(*(vocabularies[name] for name in names)))
    rows = [combos[i % len(combos)] for i in range(count)]
    return {name: np.asarray([row[k] for row in rows]) for k, name in enumerate(names)}


def generate(saved_model, count: int, seed: int = 0, batch_size: int = 250) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`count` ``uint8`` samples from a SavedModel's ``serving_default`` and the labels asked for.

    Args:
        saved_model: the loaded SavedModel (see `shoes_generator.export`).
        count: how many samples.
        seed: first noise seed (samples use seeds ``seed .. seed + count - 1``).
        batch_size: samples per call.
    """
    signature = saved_model.signatures["serving_default"]
    vocabularies = {}
    if "labels" in saved_model.signatures:
        vocabularies = {k: [v.decode() for v in t.numpy()] for k, t in saved_model.signatures["labels"]().items()}
    labels = requested_labels(vocabularies, count) if vocabularies else {}
    images = []
    for start in range(0, count, batch_size):
        stop = min(count, start + batch_size)
        inputs = {name: tf.constant(values[start:stop]) for name, values in labels.items()}
        out = signature(seed=tf.range(seed + start, seed + stop, dtype=tf.int64), **inputs)
        images.append(out["images"].numpy())
    return np.concatenate(images), labels


def evaluate_saved_model(
    path: str | Path, count: int = 2000, seed: int = 0, cache_dir: str | Path | None = None, reference_limit: int | None = None
) -> dict:
    """Type accuracy, colour accuracy and Frechet distances of the generator exported at `path`.

    The Frechet distance uses the project classifier's 128-d features, against
    real test shoes; the floor is the distance between real train and real test
    shoes of the same count, the best a generator can expect.

    Args:
        path: a SavedModel directory written by `export_generator`.
        count: generated samples (and real shoes on each side of the floor).
        seed: first noise seed.
        cache_dir: the classifier cache.
        reference_limit: at most this many real shoes per split (tests).
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES
    from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch

    model = tf.saved_model.load(str(path))
    images, labels = generate(model, count, seed)
    image_size = images.shape[1]
    colored = "color" in labels
    classifier, info = load_or_train_classifier(image_size, cache_dir)
    extractor = feature_extractor(classifier)

    def features(x):
        feats, logits = extractor.predict(x.astype("float32"), batch_size=256, verbose=0)
        return feats, np.asarray(CATEGORY_NAMES)[logits.argmax(1)]

    fake_features, fake_types = features(images)
    limit = min(count, reference_limit) if reference_limit else count
    real_test, _, _ = real_shoes("test", image_size, colored, limit, seed=7)
    real_train, _, _ = real_shoes("train", image_size, colored, limit, seed=11)
    test_features, _ = features(real_test)
    train_features, _ = features(real_train)
    report = {
        "model": str(path),
        "samples": int(len(images)),
        "image_size": int(image_size),
        "classifier_test_accuracy": info["test_accuracy"],
        "frechet_distance": round(frechet_distance(fake_features, test_features), 3),
        "frechet_floor_real_vs_real": round(frechet_distance(train_features, test_features), 3),
    }
    if "category" in labels:
        report["type_accuracy"] = round(float(np.mean(fake_types == labels["category"])), 4)
    if colored:
        found = np.asarray(COLOR_NAMES)[classify_batch(images)[0]]
        report["color_accuracy"] = round(float(np.mean(found == labels["color"])), 4)
        report["color_accuracy_per_color"] = {
            name: round(float(np.mean(found[labels["color"] == name] == name)), 3) for name in sorted(set(labels["color"]))
        }
    return report
