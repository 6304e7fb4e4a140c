"""`shoes-data patterns DST`: pattern transfer examples (exemplar object, patterned shoe, sketch, worn print) plus manifest.csv."""

from __future__ import annotations

import argparse

from data_tools.common import add_summary_argument, fmnist_destination, help_text, positive_int, progress, read_fmnist
from shoes_generator.data.manifest import MANIFEST_NAME, write_manifest
from shoes_generator.data.names import (
    CATEGORY_NAMES,
    HELD_OUT_COLOR_PAIRS,
    HELD_OUT_ID_START,
    HELD_OUT_TEXTURES,
    OBJECT_KINDS,
    PATTERN_KINDS,
    SPLITS,
)

MANIFEST_COLUMNS = ("path", "file", "pattern_id", "kind", "object", "category", "split", "held_out")
FOLDERS = ("exemplar", "shoe", "sketch", "print")
MIN_SIZE = 8


def register(subparsers) -> None:
    """Adds the `patterns` command."""
    parser = subparsers.add_parser(
        "patterns",
        help="write pattern transfer examples (a pattern on an object, on a Fashion-MNIST shoe, the shoe's sketch, the worn print) plus manifest.csv",
        description=help_text(
            "Draw --count patterns (" + ", ".join(PATTERN_KINDS) + "), render each on a random object ("
            + ", ".join(OBJECT_KINDS) + ") on white and on a Fashion-MNIST shoe of --split with the shoe's "
            "own shading, and write DST/exemplar/NNNNN.png, DST/shoe/NNNNN.png, DST/sketch/NNNNN.png and "
            "DST/print/NNNNN.png (the same file name in each folder; the sketch is the shoe's edge map, dark "
            "lines on white; the print is the full-frame pattern the shoe wears, before its shading, which "
            "training with model.print_mapping=tiled aligns its L1 term with).",
            "--split train uses training patterns only; --split test uses the held-out ones: colourings "
            "holding a held-out colour pair (" + ", ".join("+".join(pair) for pair in HELD_OUT_COLOR_PAIRS) + "), the "
            "photographs " + " and ".join(HELD_OUT_TEXTURES) + f", and pattern ids from {HELD_OUT_ID_START:,} on "
            "(see shoes_generator.imaging.patterns).",
            f"DST/{MANIFEST_NAME} has the columns {','.join(MANIFEST_COLUMNS)} (path is the shoe's, relative "
            "to DST; file the name shared by the four folders). The same --seed gives the same files.",
        ),
        epilog="example: shoes-data patterns outputs/patterns_train --count 12000 --size 64 --split train --seed 0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dst", metavar="DST", help="destination folder (created)")
    parser.add_argument("--count", type=positive_int, default=1000, help="how many examples (default 1000)")
    parser.add_argument("--size", type=positive_int, default=64, help=f"image side in pixels, >= {MIN_SIZE} (default 64)")
    parser.add_argument("--split", choices=SPLITS, default="train", help="train: training patterns; test: held-out ones (default train)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the shoes, patterns, objects and shading (default 0)")
    parser.add_argument("--fmnist-dir", metavar="DIR", help="read the Fashion-MNIST idx .gz files from DIR only (no download)")
    add_summary_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> dict:
    """Makes and writes the examples and the manifest; returns the summary."""
    from shoes_generator.data.patterns import pattern_pairs  # reads Fashion-MNIST (TensorFlow): imported to run only
    from shoes_generator.imaging.io import save_png

    dst, search = fmnist_destination(args, MIN_SIZE)
    pairs = read_fmnist(lambda: pattern_pairs(args.split, args.size, args.count, args.seed, search_dirs=search, download=search is None), search)
    rows = []
    for index in progress(range(args.count), f"patterns {args.split}", total=args.count):
        name = f"{index:05d}.png"
        for folder in FOLDERS:
            save_png(pairs[folder][index], dst / folder / name)
        rows.append(
            {"path": f"shoe/{name}", "file": name, "pattern_id": int(pairs["pattern_id"][index]), "kind": pairs["kind"][index],
             "object": pairs["object"][index], "category": pairs["category"][index], "split": args.split, "held_out": int(args.split == "test")}
        )
    manifest = write_manifest(dst / MANIFEST_NAME, rows, MANIFEST_COLUMNS)
    return {
        "destination": str(dst),
        "images": len(rows),
        "size": args.size,
        "split": args.split,
        "seed": args.seed,
        "held_out": args.split == "test",
        "patterns": len({row["pattern_id"] for row in rows}),
        "kinds": {name: sum(row["kind"] == name for row in rows) for name in PATTERN_KINDS},
        "objects": {name: sum(row["object"] == name for row in rows) for name in OBJECT_KINDS},
        "categories": {name: sum(row["category"] == name for row in rows) for name in CATEGORY_NAMES},
        "folders": list(FOLDERS),
        "manifest": str(manifest),
    }
