"""Accuracy of the dominant-colour classifier on the coloured Fashion-MNIST shoes (known colours).

Prints JSON: overall and per-colour accuracy, the confusion matrix (rows: true
colour, columns: predicted), for the lossless images and, with --jpeg-quality,
after a JPEG round trip (closer to real product photos). Target: >= 0.95.

    .venv/bin/python benchmarks/dominant_color_accuracy.py --split test
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time

import numpy as np
from PIL import Image

from shoes_generator.data.fmnist import SPLITS, colored_shoe_arrays
from shoes_generator.imaging.colors import COLOR_NAMES, classify_batch

TARGET = 0.95


def jpeg_round_trip(images: np.ndarray, quality: int) -> np.ndarray:
    """The images after JPEG encoding at `quality` and decoding."""
    out = np.empty_like(images)
    for index, image in enumerate(images):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
        out[index] = np.asarray(Image.open(buffer).convert("RGB"))
    return out


def score(truth: np.ndarray, images: np.ndarray) -> dict:
    """Overall and per-colour accuracy and the confusion matrix of the classifier on `images`."""
    start = time.perf_counter()
    predicted, _ = classify_batch(images)
    seconds = time.perf_counter() - start
    confusion = np.zeros((len(COLOR_NAMES), len(COLOR_NAMES)), np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    per_color = confusion.diagonal() / np.maximum(confusion.sum(1), 1)
    return {
        "accuracy": round(float((predicted == truth).mean()), 4),
        "per_color": {name: round(float(value), 4) for name, value in zip(COLOR_NAMES, per_color)},
        "confusion": {"labels": list(COLOR_NAMES), "rows": "true colour", "columns": "predicted", "matrix": confusion.tolist()},
        "classify_seconds": round(seconds, 2),
        "images_per_second": round(len(images) / seconds, 1),
    }


def main(argv: list[str] | None = None) -> dict:
    """Runs the benchmark and prints its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=(*SPLITS, "both"), default="test", help="test: 3,000 shoes; train: 18,000")
    parser.add_argument("--size", type=int, default=64, help="image side (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="colour assignment seed (default 0)")
    parser.add_argument("--jpeg-quality", type=int, default=90, help="also score after a JPEG round trip at this quality; 0 to skip")
    args = parser.parse_args(argv)
    results = {"benchmark": "dominant_color_accuracy", "command": " ".join(["python", *sys.argv]), "target": TARGET}
    results.update(split=args.split, size=args.size, seed=args.seed)
    images, truths = [], []
    start = time.perf_counter()
    for split in SPLITS if args.split == "both" else (args.split,):
        split_images, colors, _ = colored_shoe_arrays(split, args.size, args.seed)
        images.append(split_images)
        truths.append(np.array([COLOR_NAMES.index(color) for color in colors]))
    images, truth = np.concatenate(images), np.concatenate(truths)
    results.update(images=len(images), colorize_seconds=round(time.perf_counter() - start, 2))
    results.update(score(truth, images))
    results["meets_target"] = results["accuracy"] >= TARGET
    if args.jpeg_quality:
        jpeg = score(truth, jpeg_round_trip(images, args.jpeg_quality))
        results["jpeg"] = {"quality": args.jpeg_quality, **{k: jpeg[k] for k in ("accuracy", "per_color", "confusion")}}
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
