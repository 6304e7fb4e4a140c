"""`shoes-eval` of a SPADE export: how well the shoes follow the part maps and the style images.

On held-out shoes (Fashion-MNIST's test split for the ``fmnist_*`` sources, else the folder's held-out
tenth), each map drawn as the label PNG a client sends, through the exported signatures:

- ``silhouette_iou``: IoU of each generated shoe's foreground (`foreground_mask`) with the map's
  non-background pixels, averaged over maps and seeds;
- ``type_accuracy``: the project classifier's type of each shoe against the type of the shoe the map
  was drawn from (Fashion-MNIST sources), beside the real photos' own accuracy;
- ``seed_spread``: the mean classifier-feature distance between shoes of one map from different seeds,
  beside ``map_spread``, the same between shoes of different maps from one seed (spread 0: the noise is
  ignored, the generator collapsed to one shoe per map);
- ``style_color_accuracy``: ``with_style`` given a style image of a known colour (another held-out
  shoe's photo): how often the shoe's dominant colour (`classify_batch`) is that colour, beside the
  real photos' own; ``style_l1``: ``with_style`` with the map's own photo as the style, L1 to the photo.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

SEEDS = 4
BATCH = 128


def png_bytes(array: np.ndarray) -> bytes:
    """A uint8 ``[H, W]`` class map (mode "L") or ``[H, W, 3]`` image as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def held_out_maps(config, count: int) -> dict[str, np.ndarray]:
    """``{"images", "maps"[, "category", "color"]}`` of `count` held-out shoes of `config`'s data."""
    source = config.data.source
    if source.startswith("fmnist"):
        from shoes_generator.data.fmnist import colored_shoe_arrays
        from shoes_generator.segmentation.data import binary_masks

        images, colors, categories = colored_shoe_arrays("test", size=config.data.image_size, limit=count)
        if source == "fmnist_parts":
            from shoes_generator.imaging.parts import label_parts_batch

            maps = label_parts_batch(images)
        else:
            maps = binary_masks(images)
        return {"images": images, "maps": maps, "category": np.asarray(categories).astype(str), "color": np.asarray(colors).astype(str)}
    from shoes_generator.segmentation.data import segmentation_arrays

    images, maps = segmentation_arrays(config.data, "test", count)
    return {"images": images, "maps": maps}


def signature_images(signature, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """`signature`'s ``images`` for `inputs`, `BATCH` examples at a time."""
    count = len(next(iter(inputs.values())))
    outputs = [
        signature(**{name: tf.constant(value[i : i + BATCH]) for name, value in inputs.items()})["images"].numpy()
        for i in range(0, count, BATCH)
    ]
    return np.concatenate(outputs)


def silhouette_iou(images: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Per image: IoU of its foreground with the map's non-background pixels."""
    from shoes_generator.imaging.masks import foreground_mask

    found = np.stack([foreground_mask(image) > 0 for image in images])
    drawn = maps > 0
    union = np.logical_or(found, drawn).sum((1, 2))
    return np.where(union > 0, np.logical_and(found, drawn).sum((1, 2)) / np.maximum(union, 1), 1.0)


def mean_pairwise_distance(features: np.ndarray) -> float:
    """Mean Euclidean distance over the pairs of rows of ``[K, D]`` `features`."""
    differences = features[:, None] - features[None]
    distances = np.sqrt((differences**2).sum(-1))
    k = len(features)
    return float(distances.sum() / (k * (k - 1))) if k > 1 else 0.0


def evaluate_spade(saved_model: str | Path, config, count: int | None = 500, cache_dir=None, seeds: int = SEEDS) -> dict:
    """The held-out figures of a SPADE export (see the module docstring).

    Args:
        saved_model: the exported SavedModel directory.
        config: the run's config.
        count: held-out maps (each drawn with `seeds` seeds).
        cache_dir: the shoe classifier's cache.
        seeds: seeds per map.
    """
    from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch
    from shoes_generator.metrics import ClassifierFeatures

    model = tf.saved_model.load(str(saved_model))
    held = held_out_maps(config, count or 500)
    images, maps = held["images"], held["maps"]
    n = len(images)
    map_bytes = np.asarray([png_bytes(m) for m in maps], object)
    photo_bytes = np.asarray([png_bytes(image) for image in images], object)
    shoes = np.stack([
        signature_images(model.signatures["serving_default"], {"label_map_bytes": map_bytes, "seed": np.full(n, seed, np.int64)})
        for seed in range(seeds)
    ], axis=1)  # [N, seeds, S, S, 3]
    flat = shoes.reshape(-1, *shoes.shape[2:])
    classifier = ClassifierFeatures(config.data.image_size, cache_dir)
    features, types = classifier.judge(flat)
    features = features.reshape(n, seeds, -1)
    own_style = signature_images(
        model.signatures["with_style"], {"label_map_bytes": map_bytes, "seed": np.zeros(n, np.int64), "style_bytes": photo_bytes}
    )
    report = {
        "model": str(saved_model),
        "family": config.model.family,
        "held_out": "test split" if config.data.source.startswith("fmnist") else "held-out tenth of the folder",
        "maps": n,
        "seeds_per_map": seeds,
        "silhouette_iou": round(float(silhouette_iou(flat, np.repeat(maps, seeds, axis=0)).mean()), 4),
        "seed_spread": round(float(np.mean([mean_pairwise_distance(f) for f in features])), 4),
        "map_spread": round(float(np.mean([mean_pairwise_distance(features[:64, s]) for s in range(seeds)])), 4),
        "style_l1": round(float(np.abs(own_style.astype(np.float32) - images.astype(np.float32)).mean() / 127.5), 4),
        "classifier_test_accuracy": classifier.info.get("test_accuracy"),
    }
    if "category" in held:
        _, real_types = classifier.judge(images)
        report["type_accuracy"] = round(float(np.mean(types.reshape(n, seeds) == held["category"][:, None])), 4)
        report["real_type_accuracy"] = round(float(np.mean(real_types == held["category"])), 4)
        donors = np.roll(np.arange(n), 1)  # Another held-out shoe's photo as the style image: its colour is known.
        styled = signature_images(model.signatures["with_style"], {"label_map_bytes": map_bytes, "seed": np.zeros(n, np.int64),
                                                      "style_bytes": photo_bytes[donors]})
        found = np.asarray(COLOR_NAMES)[classify_batch(styled)[0]]
        real_found = np.asarray(COLOR_NAMES)[classify_batch(images)[0]]
        report["style_color_accuracy"] = round(float(np.mean(found == held["color"][donors])), 4)
        report["real_color_accuracy"] = round(float(np.mean(real_found == held["color"])), 4)
    return report
