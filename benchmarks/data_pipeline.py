"""Images/s of the folder pipeline: decode + fit + jitter + flip + batch, at 64 and 256 px.

Generates a folder of 256x256 JPEG shoes in a temporary directory, then measures
every configuration (output size x ``num_parallel_calls``) side by side: each
round times every configuration once, in turn, on a fresh iterator after a
warm-up, so load from other processes hits all of them alike. Reports the
median over rounds and prints JSON.

Usage:
    .venv/bin/python benchmarks/data_pipeline.py [--images 400] [--rounds 5] [--batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from shoes_generator.data.folders import folder_dataset, folder_table  # noqa: E402
from shoes_generator.data.pipeline import PipelineOptions  # noqa: E402

SIZES = (64, 256)
PARALLEL_CALLS = (1, 2)
SOURCE_SIZE = 256


def make_jpegs(folder: Path, count: int, size: int = SOURCE_SIZE, seed: int = 0) -> None:
    """Writes `count` textured shoe-like JPEGs on white (product-photo-like file sizes)."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        color = tuple(int(c) for c in rng.integers(0, 220, 3))
        shape = Image.new("L", (size, size), 0)
        s = size / 32
        ImageDraw.Draw(shape).polygon(
            [(4 * s, 24 * s), (28 * s, 24 * s), (28 * s, 19 * s), (16 * s, 15 * s), (12 * s, 6 * s), (5 * s, 6 * s)], fill=255
        )
        texture = np.clip(np.array(color) + rng.normal(0, 18, (size, size, 3)), 0, 255).astype(np.uint8)
        image = Image.composite(Image.fromarray(texture), Image.new("RGB", (size, size), "white"), shape)
        image.save(folder / f"{index:04d}.jpg", quality=90)


def time_batches(dataset: tf.data.Dataset, warmup: int, batches: int) -> float:
    """Seconds for `batches` batches of a fresh iterator after `warmup` batches."""
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=400, help="JPEGs generated (default 400)")
    parser.add_argument("--rounds", type=int, default=5, help="measurements per configuration (default 5)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--warmup", type=int, default=3, help="batches discarded before timing (default 3)")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="shoes-bench-") as folder:
        make_jpegs(Path(folder), args.images)
        table = folder_table(folder)
        mean_kb = sum(os.path.getsize(path) for path in table.paths) / len(table) / 1024
        batches = max(1, len(table) // args.batch_size)
        configs = [(size, calls) for size in SIZES for calls in PARALLEL_CALLS]
        pipelines = {
            config: folder_dataset(
                table,
                PipelineOptions(
                    image_size=config[0],
                    batch_size=args.batch_size,
                    shuffle=False,
                    repeat=True,
                    flip=True,
                    jitter=True,
                    num_parallel_calls=config[1],
                ),
            )
            for config in configs
        }
        rates = {config: [] for config in configs}
        for _ in range(args.rounds):
            for config in configs:
                seconds = time_batches(pipelines[config], args.warmup, batches)
                rates[config].append(batches * args.batch_size / seconds)

    results = [
        {
            "image_size": size,
            "num_parallel_calls": calls,
            "images_per_s": round(statistics.median(rates[(size, calls)]), 1),
            "rounds": [round(rate, 1) for rate in rates[(size, calls)]],
        }
        for size, calls in configs
    ]
    median = {(r["image_size"], r["num_parallel_calls"]): r["images_per_s"] for r in results}
    return {
        "benchmark": "folder pipeline: read + JPEG decode + fit(pad) + jitter(286/256 resize, random crop) + flip + batch",
        "source": f"{len(table)} generated {SOURCE_SIZE}x{SOURCE_SIZE} JPEGs, {mean_kb:.1f} KB on average",
        "batch_size": args.batch_size,
        "images_per_measurement": batches * args.batch_size,
        "rounds": args.rounds,
        "results": results,
        "speedup_2_vs_1_calls": {str(size): round(median[(size, 2)] / median[(size, 1)], 2) for size in SIZES},
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "tensorflow": tf.__version__,
        "seconds": round(time.perf_counter() - began, 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
