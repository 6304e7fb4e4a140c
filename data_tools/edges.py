"""`shoes-data edges SRC DST [--pairs] [--size S]`: sketches and pix2pix ``A|B`` pairs."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from data_tools.common import positive_int, source_images
from data_tools.transform import add_tree_command, prepare_destination, save_image, transform_tree
from shoes_generator.imaging.edges import edge_map, join_ab
from shoes_generator.imaging.geometry import pad_to_square

EDGES_FOLDER = "edges"
PAIRS_FOLDER = "pairs"


def register(subparsers) -> None:
    """Adds the `edges` command."""
    parser = add_tree_command(
        subparsers,
        "edges",
        help="sketch-like edge maps (dark lines on white) and A|B pairs for pix2pix",
        paragraphs=(
            "Draw a sketch of every image below SRC, like the A side of edges2shoes: black "
            "lines on white made of the product's outline (from its foreground mask) and the "
            "Canny edges inside it (seams, sole, laces), thinned, joined across one-pixel gaps "
            "and cleaned of specks. Sketches are written as PNG to "
            f"DST/{EDGES_FOLDER}/<same relative path>.png.",
            f"With --pairs, DST/{PAIRS_FOLDER}/<same relative path>.png also gets the pix2pix "
            "pair: A (sketch) left, B (photo) right, both the same size. --size pads the photos "
            "to white squares first (pix2pix uses 256).",
            "Unreadable files are skipped and listed in the summary, which also counts blank "
            "sketches (no line found).",
        ),
        example="shoes-data edges ut-zap50k-images-square edges2zappos --pairs --size 256",
        dst_help=f"destination folder: sketches go to DST/{EDGES_FOLDER}, pairs to DST/{PAIRS_FOLDER}",
        run=run,
    )
    parser.add_argument("--pairs", action="store_true", help=f"also write A|B pairs (A sketch, B photo) to DST/{PAIRS_FOLDER}")
    parser.add_argument("--size", "-s", type=positive_int, default=None, help="pad photos to SIZE x SIZE white squares first (default: keep their size)")
    parser.add_argument("--line-width", type=positive_int, default=None, help="stroke width in pixels (default: 1 per 128 pixels of the shorter side)")


def run(args: argparse.Namespace) -> dict:
    """Writes the sketches (and pairs); returns the summary."""
    sources = source_images(args.src)
    dst = prepare_destination(args.src, args.dst)
    blank = []

    def convert(image: np.ndarray, out_rel: Path) -> int:
        photo = image if args.size is None else pad_to_square(image, args.size)
        sketch = edge_map(photo, line_width=args.line_width)
        blank.append(bool(sketch.min() == 255))
        save_image(sketch, dst / EDGES_FOLDER / out_rel)
        if args.pairs:
            save_image(join_ab(sketch, photo), dst / PAIRS_FOLDER / out_rel)
        return 1 + args.pairs

    summary, outputs = transform_tree(
        Path(args.src), dst, sources, "edges", convert, suffix=".png", max_pixels=args.max_pixels, output_side=args.size
    )
    return {
        **summary,
        "found": len(sources),
        "edge_maps": len(outputs),
        "pairs": len(outputs) if args.pairs else 0,
        "blank_edge_maps": sum(blank),
        "size": args.size,
    }
