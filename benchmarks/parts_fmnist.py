"""Part labels (`label_parts`) of the coloured Fashion-MNIST shoes: each part's share per type, and a figure.

Labels the first N shoes of a split (coloured on white, as `colored_shoe_arrays` makes them) and prints JSON:
per type (sandal, sneaker, ankle_boot) the shoes, each part's mean share of the foreground (every shoe
counts once) and the share of shoes that have the part at all; the labelling speed. Writes a figure of
8 shoes per type, each photo above its coloured part map, with a legend of the class colours.

    .venv/bin/python benchmarks/parts_fmnist.py --count 3000 --figure docs/parts_fmnist.png
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from data_tools.common import emit_summary
from shoes_generator.data.fmnist import colored_shoe_arrays
from shoes_generator.data.names import CATEGORY_NAMES
from shoes_generator.imaging.palette import class_colors
from shoes_generator.imaging.parts import PART_CLASSES, average_shares, label_parts_batch, part_shares


def shares_by_type(parts: np.ndarray, categories: np.ndarray) -> dict:
    """``{type: {shoes, shares: {part: mean share}, present: {part: share of shoes with it}}}``."""
    table = {}
    for category in CATEGORY_NAMES:
        maps = [labels for labels in parts[categories == category] if labels.any()]
        table[category] = {
            "shoes": int(np.sum(categories == category)),
            "shares": average_shares([part_shares(labels) for labels in maps]),
            "present": {name: round(float(np.mean([(labels == index).any() for labels in maps])), 3) if maps else None
                        for index, name in enumerate(PART_CLASSES) if index},
        }
    return table


def figure(images: np.ndarray, parts: np.ndarray, categories: np.ndarray, per_type: int, scale: int) -> Image.Image:
    """`per_type` shoes of each type, photo above part map, a type label per row and a legend of the classes."""
    size = images.shape[1] * scale
    gap, label_width, legend_height = 4, 90, 28
    columns = per_type
    width = label_width + columns * (size + gap)
    height = len(CATEGORY_NAMES) * (2 * size + 3 * gap) + legend_height + gap
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for row, category in enumerate(CATEGORY_NAMES):
        top = row * (2 * size + 3 * gap)
        draw.text((4, top + size - 6), category, fill="black")
        chosen = np.flatnonzero(categories == category)[:per_type]
        for column, index in enumerate(chosen):
            left = label_width + column * (size + gap)
            for offset, picture in ((0, images[index]), (size + gap, class_colors(parts[index]))):
                canvas.paste(Image.fromarray(picture).resize((size, size), Image.NEAREST), (left, top + offset))
            draw.rectangle([left, top + size + gap, left + size - 1, top + 2 * size + gap - 1], outline=(200, 200, 200))
    left, top = 4, height - legend_height
    for index, name in enumerate(PART_CLASSES):
        color = tuple(int(c) for c in class_colors(np.array(index)))
        draw.rectangle([left, top + 6, left + 14, top + 20], fill=color, outline="black")
        draw.text((left + 20, top + 8), name, fill="black")
        left += 30 + 7 * len(name)
    return canvas


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("train", "test"), default="test")
    parser.add_argument("--count", type=int, default=3000, help="label the first COUNT shoes of the split")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--per-type", type=int, default=8, help="shoes of each type in the figure")
    parser.add_argument("--scale", type=int, default=4, help="magnification of the figure's pictures")
    parser.add_argument("--figure", type=Path, default=Path("docs/parts_fmnist.png"))
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)

    images, _, categories = colored_shoe_arrays(args.split, size=args.size, limit=args.count)
    start = time.perf_counter()
    parts = label_parts_batch(images)
    seconds = time.perf_counter() - start
    results = {
        "split": args.split,
        "shoes": len(images),
        "image_size": args.size,
        "classes": list(PART_CLASSES),
        "by_type": shares_by_type(parts, categories),
        "all": average_shares([part_shares(labels) for labels in parts if labels.any()]),
        "empty_maps": int(sum(not labels.any() for labels in parts)),
        "labelling_ms_per_shoe": round(1000 * seconds / max(len(images), 1), 3),
        "figure": str(args.figure),
    }
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    figure(images, parts, categories, args.per_type, args.scale).save(args.figure)
    emit_summary(results, args.out)
    return results


if __name__ == "__main__":
    main()
