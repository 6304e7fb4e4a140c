"""`shoes-eval` of a pattern-transfer export, on prints it never saw in training.

Twelve held-out prints (`shoes_generator.data.patterns.pattern_pairs` of the test split: held-out
colourings and textures), each on an object that is not a shoe, are sent as PNG ``pattern_bytes``:

- ``pattern_top1``: each shoe drawn by ``serving_default`` (every type, `seeds` seeds) is described by
  `texture_descriptor` inside its own foreground, and so is each of the twelve exemplars inside its
  object; the share of shoes whose nearest exemplar is the one they were given (chance 1/12);
  ``sketch_pattern_top1`` the same for ``with_sketch`` (held-out sketches); ``oracle_top1`` for the
  real print rendered on ten held-out shoes each, the ceiling the descriptor allows;
- ``type_accuracy`` (and ``type_accuracy_per_type``): the project classifier's type of each ``serving_default``
  shoe against the requested type, read on its silhouette (the foreground filled with one grey: the shape alone, as the issue's
  "classifier on grey levels" means it); ``grey_type_accuracy`` read on its grey levels. The print
  itself fools a classifier trained on plain shoes: the real held-out shoes in their prints score
  ``real_grey_type_accuracy`` on grey levels (about 0.79) but ``real_type_accuracy`` on their
  silhouettes (about 0.93), so the silhouette is the fair judge of the shape.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.evaluation.spade_eval import png_bytes, signature_images

PATTERNS = 12
SEEDS = 4


def held_out_prints(image_size: int, count: int = PATTERNS, shoes_per_print: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """`count` held-out prints, each on one exemplar object and on `shoes_per_print` held-out test shoes.

    Returns:
        ``exemplar`` ``[count, S, S, 3]`` (print i on its object; its ``kind``, ``object``, ``pattern_id``),
        ``sketch`` and ``category`` of one shoe per print, and ``all_shoe``, ``all_category``, ``all_print`` (the print's index) of every shoe.
    """
    from shoes_generator.data.patterns import pattern_pairs

    pairs = pattern_pairs("test", image_size, count * shoes_per_print, seed=seed, num_patterns=count)
    prints = np.arange(len(pairs["shoe"])) % count  # Example i wears print i % count; every print keeps one exemplar.
    return {
        **{key: pairs[key][:count] for key in ("exemplar", "sketch", "category", "kind", "object", "pattern_id")},
        "all_shoe": pairs["shoe"], "all_category": pairs["category"], "all_print": prints,
    }


def top1(outputs: np.ndarray, given: np.ndarray, exemplars: np.ndarray) -> float:
    """The share of `outputs` whose nearest exemplar (by `nearest_exemplar`, each image described inside its own
    foreground: the object, or the shoe) is the one they were `given` (indices)."""
    from shoes_generator.imaging.patterns import nearest_exemplar, texture_descriptors

    return float(np.mean(nearest_exemplar(texture_descriptors(outputs), texture_descriptors(exemplars)) == given))


def grey(images: np.ndarray) -> np.ndarray:
    """RGB images as grey levels, repeated on three channels (what the type judge reads)."""
    levels = np.round(images.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).astype(np.uint8)
    return np.repeat(levels[..., None], 3, axis=-1)


SILHOUETTE_GREY = 120


def silhouettes(images: np.ndarray) -> np.ndarray:
    """Each image's foreground (`foreground_mask`) filled with one grey on white: the shape without the print."""
    from shoes_generator.imaging.masks import foreground_mask

    masks = np.stack([foreground_mask(image) > 0 for image in images])[..., None]
    return np.where(masks, np.uint8(SILHOUETTE_GREY), np.uint8(255)) * np.ones((1, 1, 1, 3), np.uint8)


def draw_types(model, exemplars: np.ndarray, types, seeds: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``serving_default`` shoes of every exemplar x type x `seeds` seeds: ``(images, exemplar index, type)``.

    Exemplar p's seeds are ``p * seeds`` to ``p * seeds + seeds - 1``: every print draws other shapes, so a
    type's accuracy is read on ``len(exemplars) * seeds`` shapes, not on `seeds` shapes repeated per print
    (a typed shoe's shape barely depends on its print).

    Args:
        model: the loaded SavedModel.
        exemplars: ``uint8 [P, S, S, 3]`` exemplar objects (sent as PNG).
        types: the type names asked for.
        seeds: seeds per exemplar and type.
    """
    rows = [(p, t, p * seeds + s) for p in range(len(exemplars)) for t in types for s in range(seeds)]
    encoded = [png_bytes(e) for e in exemplars]
    inputs = {
        "pattern_bytes": np.asarray([encoded[p] for p, _, _ in rows], object),
        "category": np.asarray([t for _, t, _ in rows], object),
        "seed": np.asarray([s for _, _, s in rows], np.int64),
    }
    images = signature_images(model.signatures["serving_default"], inputs)
    return images, np.asarray([p for p, _, _ in rows]), np.asarray([t for _, t, _ in rows])


def draw_sketched(model, exemplars: np.ndarray, sketches: np.ndarray) -> np.ndarray:
    """``with_sketch`` shoes: exemplar i's print in the shape of sketch i."""
    return signature_images(model.signatures["with_sketch"], {
        "pattern_bytes": np.asarray([png_bytes(e) for e in exemplars], object),
        "image_bytes": np.asarray([png_bytes(s) for s in sketches], object),
    })


def evaluate_pattern(saved_model: str | Path, config, cache_dir=None, patterns: int = PATTERNS, seeds: int = SEEDS) -> dict:
    """The held-out figures of a pattern-transfer export (see the module docstring).

    Args:
        saved_model: the exported SavedModel directory.
        config: the run's config.
        cache_dir: the shoe classifier's cache.
        patterns: held-out prints (12 in the issue's protocol).
        seeds: seeds per print and type.
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES
    from shoes_generator.metrics import ClassifierFeatures

    model = tf.saved_model.load(str(saved_model))
    held = held_out_prints(config.data.image_size, patterns, seed=config.data.seed)
    exemplars = held["exemplar"]
    shoes, given, types = draw_types(model, exemplars, CATEGORY_NAMES, seeds)
    sketched = draw_sketched(model, exemplars, held["sketch"])
    classifier = ClassifierFeatures(config.data.image_size, cache_dir)

    def type_accuracy(images, wanted, render) -> float:
        return round(float(np.mean(classifier.judge(render(images))[1] == wanted)), 4)

    silhouette_types = classifier.judge(silhouettes(shoes))[1]

    index = np.arange(patterns)
    return {
        "model": str(saved_model),
        "family": config.model.family,
        "held_out": "held-out colourings and textures on the Fashion-MNIST test shoes",
        "patterns": patterns,
        "shoes": int(len(shoes)),
        "pattern_top1": round(top1(shoes, given, exemplars), 4),
        "sketch_pattern_top1": round(top1(sketched, index, exemplars), 4),
        "oracle_top1": round(top1(held["all_shoe"], held["all_print"], exemplars), 4),
        "oracle_shoes": int(len(held["all_shoe"])),
        "chance": round(1.0 / patterns, 4),
        "type_accuracy": round(float(np.mean(silhouette_types == types)), 4),
        "type_accuracy_per_type": {name: round(float(np.mean(silhouette_types[types == name] == name)), 4) for name in CATEGORY_NAMES},
        "real_type_accuracy": type_accuracy(held["all_shoe"], held["all_category"], silhouettes),
        "grey_type_accuracy": type_accuracy(shoes, types, grey),
        "real_grey_type_accuracy": type_accuracy(held["all_shoe"], held["all_category"], grey),
        "classifier_test_accuracy": classifier.info.get("test_accuracy"),
    }
