"""A small Fashion-MNIST shoe-type classifier the project trains once and caches.

It judges generated shoes (type accuracy) and gives the features of the
Frechet distance. Trained on the grayscale (light on black) and the coloured
(on white) shoes alike, so it reads the outputs of both kinds of generator.
`shoes-eval` trains it on first use; one command trains (or retrains) it ahead:

    python -m shoes_generator.evaluation.classifier --image-size 32 [--cache DIR] [--retrain]
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import keras
import numpy as np

logger = logging.getLogger("shoes_generator.evaluation")
FEATURES_LAYER = "features"


def default_cache_dir() -> Path:
    """``$SHOES_CACHE`` or ``~/.cache/shoes_generator``."""
    return Path(os.environ.get("SHOES_CACHE") or Path.home() / ".cache" / "shoes_generator")


def build_shoe_classifier(image_size: int, num_classes: int = 3, width: int = 32) -> keras.Model:
    """Images ``[B, S, S, 3]`` in 0..255 (``uint8`` or float) -> class logits; a ``features`` layer before them.

    The ``Rescaling`` layer casts, so callers pass ``uint8`` arrays as they are
    (a float32 copy of a whole data set takes 4x the memory).

    Args:
        image_size: input side.
        num_classes: shoe types.
        width: filters of the first conv block.
    """
    image = keras.Input((image_size, image_size, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name="to_unit")(image)
    for block, filters in enumerate((width, width * 2, width * 4)):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}a")(x)
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{block}b")(x)
        x = keras.layers.MaxPooling2D(name=f"pool{block}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    features = keras.layers.Dense(128, activation="relu", name=FEATURES_LAYER)(x)
    logits = keras.layers.Dense(num_classes, name="logits")(keras.layers.Dropout(0.3, name="dropout")(features))
    return keras.Model(image, logits, name="shoe_classifier")


def classifier_path(image_size: int, cache_dir: str | Path | None = None) -> Path:
    """Where the classifier of `image_size` is cached."""
    return Path(cache_dir or default_cache_dir()) / f"fmnist_shoe_classifier_{image_size}px.keras"


def load_or_train_classifier(
    image_size: int, cache_dir: str | Path | None = None, epochs: int = 3, limit: int | None = None, seed: int = 0,
    retrain: bool = False,
) -> tuple[keras.Model, dict]:
    """The cached classifier for `image_size`, trained first if absent.

    Args:
        image_size: the generators' output side.
        cache_dir: the cache folder (default `default_cache_dir()`).
        epochs: training epochs when it has to be trained.
        limit: train on at most this many shoes (tests).
        seed: seed of the colour assignment and initialisation.
        retrain: train and cache it again even when a cached one exists.

    Returns:
        The model and its info (test accuracy, classes).
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES
    from shoes_generator.evaluation.reference import real_shoes

    path = classifier_path(image_size, cache_dir)
    info_path = path.with_suffix(".json")
    if path.is_file() and info_path.is_file() and not retrain:
        return keras.models.load_model(path), json.loads(info_path.read_text())
    logger.warning("Training the shoe classifier for %d px (cached at %s)", image_size, path)
    keras.utils.set_random_seed(seed)
    index = {name: i for i, name in enumerate(CATEGORY_NAMES)}
    splits = {}
    for split in ("train", "test"):
        parts = [real_shoes(split, image_size, colored, limit, seed + 101) for colored in (False, True)]
        splits[split] = (np.concatenate([p[0] for p in parts]), np.array([index[c] for p in parts for c in p[1]]))
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    model = build_shoe_classifier(image_size, len(CATEGORY_NAMES))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(train_x, train_y, batch_size=128, epochs=epochs, verbose=0, shuffle=True)
    _, accuracy = model.evaluate(test_x, test_y, batch_size=256, verbose=0)
    info = {"image_size": image_size, "classes": list(CATEGORY_NAMES), "test_accuracy": round(float(accuracy), 4), "epochs": epochs}
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    return model, info


def feature_extractor(classifier: keras.Model) -> keras.Model:
    """Images -> (``features`` ``[B, 128]``, logits ``[B, C]``)."""
    return keras.Model(classifier.inputs, [classifier.get_layer(FEATURES_LAYER).output, classifier.outputs[0]])


def main(argv: list[str] | None = None) -> int:
    """Trains (or loads) the cached classifier of each ``--image-size`` and prints its info as JSON."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m shoes_generator.evaluation.classifier",
        description="Train the shoe-type classifier shoes-eval judges with (about a minute per size) and cache it.",
    )
    parser.add_argument("--image-size", type=int, nargs="+", default=[32], help="generator output sides (default: 32)")
    parser.add_argument("--cache", metavar="DIR", help="cache folder (default: $SHOES_CACHE or ~/.cache/shoes_generator)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default: 3)")
    parser.add_argument("--retrain", action="store_true", help="train again even when a cached classifier exists")
    parser.add_argument("--limit", type=int, help="train on at most this many shoes per split and kind (quick checks)")
    args = parser.parse_args(argv)
    bad = [size for size in args.image_size if size < 8]
    if bad or args.epochs < 1:
        parser.error(f"--image-size must be >= 8 and --epochs >= 1. Received: --image-size {args.image_size}, --epochs {args.epochs}")
    report = {}
    for size in args.image_size:
        _, info = load_or_train_classifier(size, args.cache, args.epochs, args.limit, retrain=args.retrain)
        report[str(size)] = {**info, "path": str(classifier_path(size, args.cache))}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
