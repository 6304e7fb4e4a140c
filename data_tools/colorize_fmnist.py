"""`shoes-data colorize-fmnist DST`: the colour x type Fashion-MNIST shoes as PNG files plus manifest.csv."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from data_tools.common import add_summary_argument, fmnist_destination, help_text, positive_int, progress, read_fmnist
from shoes_generator.data.manifest import MANIFEST_NAME, write_manifest
from shoes_generator.data.names import CATEGORY_NAMES, SPLITS
from shoes_generator.imaging.colors import COLOR_NAMES
from shoes_generator.imaging.io import image_grid, save_png

MANIFEST_COLUMNS = ("path", "color", "category", "split")
PREVIEW_NAME = "preview.png"
MIN_SIZE = 8
PREVIEW_POOL = 600  # the preview picks its shoes among the first ones of each split


def preview_grid(images: np.ndarray, colors: np.ndarray, categories: np.ndarray, per_cell: int = 2) -> np.ndarray:
    """A colour x type table: one row per colour, `per_cell` shoes per category, with labels.

    Args:
        images: ``uint8 [N, S, S, 3]``.
        colors: ``[N]`` colour names.
        categories: ``[N]`` category names.
        per_cell: shoes shown per (colour, category) cell; missing ones stay white.
    """
    size = images.shape[1]
    blank = np.full_like(images[0], 255)
    cells = []
    for color in COLOR_NAMES:
        for category in CATEGORY_NAMES:
            found = np.flatnonzero((colors == color) & (categories == category))[:per_cell]
            cells += [images[i] for i in found] + [blank] * (per_cell - len(found))
    cols = len(CATEGORY_NAMES) * per_cell
    grid = image_grid(np.stack(cells), len(COLOR_NAMES), cols)
    left, top = 56, 14
    canvas = Image.new("RGB", (grid.shape[1] + left, grid.shape[0] + top), "white")
    canvas.paste(Image.fromarray(grid), (left, top))
    draw = ImageDraw.Draw(canvas)
    for row, color in enumerate(COLOR_NAMES):
        draw.text((4, top + 2 + row * (size + 2) + size // 2 - 5), color, fill="black")
    for col, category in enumerate(CATEGORY_NAMES):
        draw.text((left + 2 + col * per_cell * (size + 2), 2), category, fill="black")
    return np.asarray(canvas)


def register(subparsers) -> None:
    """Adds the `colorize-fmnist` command."""
    parser = subparsers.add_parser(
        "colorize-fmnist",
        help="write the Fashion-MNIST shoes tinted in the 11 catalogue colours as PNGs plus manifest.csv",
        description=help_text(
                "Tint every Fashion-MNIST shoe (sandal, sneaker, ankle_boot) into one of the 11 "
                "catalogue colours (" + ", ".join(COLOR_NAMES) + ") on a white background, shaded like a "
                "product photo, and write DST/<split>/<index>_<color>_<category>.png.",
                f"DST/{MANIFEST_NAME} has the columns {','.join(MANIFEST_COLUMNS)}; a colour x type "
                f"preview table goes to DST/{PREVIEW_NAME} (or --preview FILE). Colours are balanced and "
                "assigned per image by --seed: the same seed gives the same files.",
                "Fashion-MNIST is read from /usr/share/datasets/fashion-mnist/ (apt-get install "
                "dataset-fashion-mnist), the Keras cache ~/.keras/datasets/fashion-mnist/, or downloaded "
                "by Keras; --fmnist-dir DIR reads the four idx .gz files from DIR only.",
        ),
        epilog="example: shoes-data colorize-fmnist outputs/fmnist_color --split both --size 64 --seed 0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dst", metavar="DST", help="destination folder (created)")
    parser.add_argument("--split", choices=(*SPLITS, "both"), default="both", help="which split(s) to write (default both)")
    parser.add_argument("--size", type=positive_int, default=64, help=f"image side in pixels, >= {MIN_SIZE} (default 64)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the colour assignment and shade variation (default 0)")
    parser.add_argument("--limit", type=positive_int, help="at most N shoes per split (the first ones)")
    parser.add_argument("--per-class", type=positive_int, metavar="N", help="at most N shoes of each category per split")
    parser.add_argument("--fmnist-dir", metavar="DIR", help="read the Fashion-MNIST idx .gz files from DIR only (no download)")
    parser.add_argument("--preview", metavar="FILE", help=f"where the preview table goes (default DST/{PREVIEW_NAME})")
    add_summary_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> dict:
    """Tints and writes the shoes, the manifest and the preview; returns the summary."""
    from shoes_generator.data.fmnist import colored_shoe_arrays  # TensorFlow: imported to run, not for --help.

    dst, search = fmnist_destination(args, MIN_SIZE)
    rows, shown = [], []
    for split in SPLITS if args.split == "both" else (args.split,):
        images, colors, categories = read_fmnist(
            lambda: colored_shoe_arrays(split, args.size, args.seed, "pad", search, search is None, args.limit, args.per_class), search
        )
        for index in progress(range(len(images)), f"colorize-fmnist {split}", total=len(images)):
            path = f"{split}/{index:05d}_{colors[index]}_{categories[index]}.png"
            save_png(images[index], dst / path)
            rows.append({"path": path, "color": colors[index], "category": categories[index], "split": split})
        shown.append((images[:PREVIEW_POOL], colors[:PREVIEW_POOL], categories[:PREVIEW_POOL]))
    manifest = write_manifest(dst / MANIFEST_NAME, rows, MANIFEST_COLUMNS)
    preview = Path(args.preview) if args.preview else dst / PREVIEW_NAME
    save_png(preview_grid(*(np.concatenate(parts) for parts in zip(*shown))), preview)
    return {
        "destination": str(dst),
        "images": len(rows),
        "size": args.size,
        "seed": args.seed,
        "splits": dict(Counter(row["split"] for row in rows)),
        "colors": {name: sum(row["color"] == name for row in rows) for name in COLOR_NAMES},
        "categories": {name: sum(row["category"] == name for row in rows) for name in CATEGORY_NAMES},
        "manifest": str(manifest),
        "preview": str(preview),
    }
