"""Sketch -> shoe pairs from Fashion-MNIST: each shoe and its edge map, as `shoes-data edges` draws it.

Targets are the grayscale shoes (light on black, framed 28 -> 32 like
`fmnist.fmnist_shoes`), inputs their sketches (dark lines on white, from
`imaging.edges.edge_map`). Sketching takes about 1.5 ms a shoe, so the arrays
are computed once per split and cached beside the shoe classifier.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm import tqdm

from shoes_generator.data.fmnist import FRAME_SIZE, SOURCE_SIZE, load_shoe_arrays
from shoes_generator.data.pipeline import PipelineOptions, fit_image, to_float
from shoes_generator.evaluation.classifier import default_cache_dir
from shoes_generator.imaging.edges import edge_map


def sketch_arrays(split: str = "train", limit: int | None = None, cache_dir: str | Path | None = None):
    """``(shoes uint8 [N, 32, 32], sketches uint8 [N, 32, 32], categories [N])`` of a split.

    Args:
        split: "train" or "test".
        limit: at most this many shoes (the first ones; only whole splits are cached).
        cache_dir: where the sketches are cached (default: `default_cache_dir`).
    """
    shoes, categories = framed_shoe_arrays(split, limit)
    cache = Path(cache_dir or default_cache_dir()) / f"fmnist_sketches_{split}_{len(shoes)}.npz"
    if cache.is_file():
        return shoes, np.load(cache)["sketches"], categories
    sketches = np.stack([edge_map(np.repeat(shoe[..., None], 3, -1)) for shoe in tqdm(shoes, desc=f"sketching {split} shoes", mininterval=5)])
    if limit is None:  # Whole splits are cached; small limited sets are quick to redo.
        save_arrays(cache, sketches=sketches)
    return shoes, sketches, categories


def save_arrays(path: Path, **arrays: np.ndarray) -> Path:
    """Writes `arrays` to the ``.npz`` `path` through a temporary file, so a killed writer leaves no torn cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.stem + ".partial.npz")
    np.savez_compressed(temporary, **arrays)
    return temporary.replace(path)


def framed_shoe_arrays(split: str = "train", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(shoes uint8 [N, 32, 32], categories [N])``: a split's shoes framed 28 -> 32 like `fmnist.fmnist_shoes`.

    Args:
        split: "train" or "test".
        limit: at most this many shoes (the first ones).
    """
    gray, categories = load_shoe_arrays(split, limit=limit)
    margin = (FRAME_SIZE - SOURCE_SIZE) // 2
    return np.pad(gray, [(0, 0), (margin, margin), (margin, margin)]), categories


def sketch_pair_elements(split: str, options: PipelineOptions, limit: int | None = None) -> tuple[tf.data.Dataset, int]:
    """Unbatched ``{"input": sketch, "target": shoe, "category"}`` dicts (RGB, [-1, 1], `options.image_size`) and their count."""
    shoes, sketches, categories = sketch_arrays(split, limit)
    return pair_elements(shoes, sketches, categories, options), len(shoes)


def pair_elements(shoes: np.ndarray, sketches: np.ndarray, categories: np.ndarray, options: PipelineOptions) -> tf.data.Dataset:
    """Aligned uint8 ``[N, 32, 32]`` shoes and sketches (and their categories) as unbatched
    ``{"input": sketch, "target": shoe, "category"}`` dicts, RGB (or 1 channel), [-1, 1], `options.image_size`."""

    def _prepare(example):
        def fitted(image):
            image = fit_image(to_float(image[..., None]), options.image_size, "resize")
            return tf.image.grayscale_to_rgb(image) if options.channels == 3 else image

        return {"input": fitted(example["sketch"]), "target": fitted(example["shoe"]), "category": example["category"]}

    columns = {"shoe": shoes, "sketch": sketches, "category": categories}
    return tf.data.Dataset.from_tensor_slices(columns).map(_prepare, num_parallel_calls=options.num_parallel_calls, deterministic=True)
