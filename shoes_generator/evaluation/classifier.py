"""Small Fashion-MNIST shoe-type classifiers the project trains once and caches.

Two kinds, each cached per image size:

- ``project`` (`build_shoe_classifier`): judges generated shoes (type accuracy) and
  gives the features of the Frechet distance. Trained on the grayscale (light on black)
  and the coloured (catalogue colours on white, as `fmnist_color`) shoes alike, so it
  reads the outputs of both kinds of generator. `shoes-eval` trains it on first use.
- ``crosscheck`` (`build_crosscheck_classifier`): a second, independently trained judge
  for figures that should not rest on one classifier. Another architecture (strided
  convolutions, batch norm, global max pooling, random shifts while training) and other
  data: grey shoes light on black and dark on white, and shoes tinted in random RGB
  colours (not the catalogue's) with a simpler shading model than `colorize`.

One command trains (or retrains) them ahead:

    python -m shoes_generator.evaluation.classifier --image-size 32 [--kind crosscheck] [--cache DIR] [--retrain]
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


def build_crosscheck_classifier(image_size: int, num_classes: int = 3, width: int = 32) -> keras.Model:
    """The second judge: images ``[B, S, S, 3]`` in 0..255 -> class logits, with a ``features`` layer.

    Deliberately unlike `build_shoe_classifier`: a 5x5 stem, stride-2 convolutions with
    batch norm instead of pooling, global max pooling, and random shifts of up to 2 px
    (6%) while training.

    Args:
        image_size: input side.
        num_classes: shoe types.
        width: filters of the stem.
    """
    image = keras.Input((image_size, image_size, 3), name="image")
    x = keras.layers.Rescaling(1 / 255.0, name="to_unit")(image)
    x = keras.layers.RandomTranslation(0.06, 0.06, fill_mode="nearest", name="shift")(x)
    x = keras.layers.Conv2D(width, 5, padding="same", use_bias=False, name="stem")(x)
    for block, filters in enumerate((width, width * 2, width * 4, width * 4)):
        if block:
            x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"down{block}")(x)
        x = keras.layers.BatchNormalization(momentum=0.9, name=f"norm{block}")(x)
        x = keras.layers.ReLU(name=f"relu{block}")(x)
    x = keras.layers.GlobalMaxPooling2D(name="gmp")(x)
    features = keras.layers.Dense(64, activation="relu", name=FEATURES_LAYER)(x)
    return keras.Model(image, keras.layers.Dense(num_classes, name="logits")(features), name="crosscheck_classifier")


def random_tints(gray: np.ndarray, seed: int = 0) -> np.ndarray:
    """Grey shoes (``uint8 [N, S, S, 3]``, light on black) tinted in random RGB colours on white.

    Opacity rises with brightness (full from 2/3 of white) and the colour darkens to 40%
    in the shoe's dark parts; not the catalogue colours nor `colorize`'s shading.

    Args:
        gray: light-on-black shoes, as `real_shoes(..., colored=False)` gives them.
        seed: seed of the colours.
    """
    level = gray[..., :1].astype(np.float32) / 255.0
    colors = np.random.default_rng(seed).uniform(0, 255, (len(gray), 1, 1, 3)).astype(np.float32)
    alpha = np.clip(level * 1.5, 0.0, 1.0)
    tinted = alpha * colors * (0.4 + 0.6 * level) + (1.0 - alpha) * 255.0
    return np.round(tinted).astype(np.uint8)


def crosscheck_shoes(split: str, image_size: int, limit: int | None = None, seed: int = 0):
    """The cross-check judge's shoes: grey light on black, grey dark on white, and randomly tinted.

    Args:
        split: "train" or "test".
        image_size: side in pixels.
        limit: at most this many shoes of each kind.
        seed: seed of the tints.

    Returns:
        ``uint8 [3N, S, S, 3]`` images and their category names.
    """
    from shoes_generator.evaluation.reference import real_shoes

    gray, categories, _ = real_shoes(split, image_size, False, limit, seed)
    images = np.concatenate([gray, 255 - gray, random_tints(gray, seed + (split == "test"))])
    return images, np.concatenate([categories] * 3)


def _project_shoes(split: str, image_size: int, limit: int | None, seed: int):
    """The project judge's shoes: grayscale and catalogue-coloured, as the generators train on them."""
    from shoes_generator.evaluation.reference import real_shoes

    parts = [real_shoes(split, image_size, colored, limit, seed + 101) for colored in (False, True)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


# kind -> (builder, shoes of a split, cache file stem).
CLASSIFIER_KINDS = {
    "project": (build_shoe_classifier, _project_shoes, "fmnist_shoe_classifier"),
    "crosscheck": (build_crosscheck_classifier, crosscheck_shoes, "fmnist_shoe_crosscheck"),
}


def _kind(kind: str):
    if kind not in CLASSIFIER_KINDS:
        raise ValueError(f"Unknown classifier kind {kind!r}; known: {sorted(CLASSIFIER_KINDS)}")
    return CLASSIFIER_KINDS[kind]


def classifier_path(image_size: int, cache_dir: str | Path | None = None, kind: str = "project") -> Path:
    """Where the classifier of `kind` and `image_size` is cached."""
    return Path(cache_dir or default_cache_dir()) / f"{_kind(kind)[2]}_{image_size}px.keras"


def load_or_train_classifier(
    image_size: int, cache_dir: str | Path | None = None, epochs: int = 3, limit: int | None = None, seed: int = 0,
    retrain: bool = False, kind: str = "project",
) -> tuple[keras.Model, dict]:
    """The cached classifier of `kind` for `image_size`, trained first if absent.

    Args:
        image_size: the generators' output side.
        cache_dir: the cache folder (default `default_cache_dir()`).
        epochs: training epochs when it has to be trained.
        limit: train on at most this many shoes (tests).
        seed: seed of the colour assignment and initialisation.
        retrain: train and cache it again even when a cached one exists.
        kind: "project" (the judge of `shoes-eval`) or "crosscheck" (see the module docstring).

    Returns:
        The model and its info (test accuracy, classes).
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    build, shoes, _ = _kind(kind)
    path = classifier_path(image_size, cache_dir, kind)
    info_path = path.with_suffix(".json")
    if path.is_file() and info_path.is_file() and not retrain:
        return keras.models.load_model(path), json.loads(info_path.read_text())
    logger.warning("Training the %s shoe classifier for %d px (cached at %s)", kind, image_size, path)
    keras.utils.set_random_seed(seed)
    index = {name: i for i, name in enumerate(CATEGORY_NAMES)}
    splits = {}
    for split in ("train", "test"):
        images, categories = shoes(split, image_size, limit, seed)
        splits[split] = (images, np.array([index[c] for c in categories]))
    (train_x, train_y), (test_x, test_y) = splits["train"], splits["test"]
    model = build(image_size, len(CATEGORY_NAMES))
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(train_x, train_y, batch_size=128, epochs=epochs, verbose=0, shuffle=True)
    _, accuracy = model.evaluate(test_x, test_y, batch_size=256, verbose=0)
    info = {"kind": kind, "image_size": image_size, "classes": list(CATEGORY_NAMES), "test_accuracy": round(float(accuracy), 4),
            "epochs": epochs}
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    info_path.write_text(json.dumps(info, indent=2) + "\n")
    return model, info


def predict_types(classifier: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The category name (`CATEGORY_NAMES`) `classifier` gives each ``uint8 [N, S, S, 3]`` image."""
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    return np.asarray(CATEGORY_NAMES)[np.argmax(classifier.predict(images, batch_size=batch_size, verbose=0), axis=1)]


def feature_extractor(classifier: keras.Model) -> keras.Model:
    """Images -> (``features`` ``[B, 128]``, logits ``[B, C]``)."""
    return keras.Model(classifier.inputs, [classifier.get_layer(FEATURES_LAYER).output, classifier.outputs[0]])


def main(argv: list[str] | None = None) -> int:
    """Trains (or loads) the cached classifier of each ``--image-size`` and prints its info as JSON."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m shoes_generator.evaluation.classifier",
        description="Train the shoe-type classifier shoes-eval judges with (about a minute per size) and cache it; "
        "--kind crosscheck trains the second, independent judge instead.",
    )
    parser.add_argument("--kind", choices=sorted(CLASSIFIER_KINDS), default="project",
                        help="project: the judge of shoes-eval; crosscheck: the independent second judge (default: project)")
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
        _, info = load_or_train_classifier(size, args.cache, args.epochs, args.limit, retrain=args.retrain, kind=args.kind)
        report[str(size)] = {**info, "path": str(classifier_path(size, args.cache, args.kind))}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
