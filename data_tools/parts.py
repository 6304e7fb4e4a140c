"""`shoes-data parts SRC DST`: part maps (sole, heel, upper, shaft, opening) of side-view product photos."""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from data_tools.common import source_images
from data_tools.masks import add_threshold_argument, check_threshold
from data_tools.transform import add_tree_command, prepare_destination, save_image, transform_tree
from shoes_generator.imaging.parts import PART_CLASSES, average_shares, label_parts, part_shares

CLASSES_FILE = "classes.json"
TOP_LEVEL = "."  # The group of the images directly in SRC.


def register(subparsers) -> None:
    """Adds the `parts` command."""
    parser = add_tree_command(
        subparsers,
        "parts",
        help="part maps (sole, heel, upper, shaft, opening) of side-view product photos",
        paragraphs=(
            "Label the parts of the shoe in every image below SRC and write the map as a "
            "single-channel PNG to DST/<same relative path>.png, each pixel its class index: "
            + ", ".join(f"{index} {name}" for index, name in enumerate(PART_CLASSES))
            + f". DST/{CLASSES_FILE} lists the class names in index order.",
            "The parts are found from the image alone: the foreground mask (as `shoes-data masks`), "
            "the toe direction (the heel end holds more of the silhouette's top half), a sole band "
            "along the bottom contour, a heel block below the seat behind a raised arch (or the back "
            "of a flat sole), the shaft above the ankle line and the collar opening. Photos must show "
            "the shoe from the side on a plain white or black background.",
            "The summary gives each part's mean share of the foreground, over all maps and per "
            "top-level folder of SRC (a type, e.g. ankle_boot/ or sneaker/), and counts empty maps "
            "(no shoe found: lower --threshold). Unreadable files are skipped and listed. Train a "
            "segmenter on the result with shoes-train --config segment_parts --data SRC --set "
            "data.label_path=DST --set data.classes=" + ",".join(PART_CLASSES) + ".",
        ),
        example="shoes-data parts ut-zap50k-images-square zappos-parts",
        dst_help=f"destination folder for the part-map PNGs and {CLASSES_FILE} (created; must not be inside SRC)",
        run=run,
    )
    add_threshold_argument(parser)


def run(args: argparse.Namespace) -> dict:
    """Writes the part maps and classes.json; returns the summary with the parts' shares."""
    check_threshold(args)
    sources = source_images(args.src)
    dst = prepare_destination(args.src, args.dst)
    shares = defaultdict(list)  # Top-level folder -> one part_shares dict per map with a foreground.
    empty = []

    def convert(image: np.ndarray, out_rel: Path) -> int:
        parts = label_parts(image, threshold=args.threshold)
        group = out_rel.parts[0] if len(out_rel.parts) > 1 else TOP_LEVEL
        if parts.any():
            shares[group].append(part_shares(parts))
        else:
            empty.append(out_rel.as_posix())
        save_image(parts, dst / out_rel)
        return 1

    summary, _ = transform_tree(Path(args.src), dst, sources, "parts", convert, suffix=".png", max_pixels=args.max_pixels)
    (dst / CLASSES_FILE).write_text(json.dumps(list(PART_CLASSES)) + "\n")
    return {
        **summary,
        "found": len(sources),
        "threshold": args.threshold,
        "classes": list(PART_CLASSES),
        "empty_maps": len(empty),
        "mean_part_shares": average_shares([share for group in shares.values() for share in group]),
        "part_shares_by_folder": {group: {"maps": len(shares[group]), **average_shares(shares[group])} for group in sorted(shares)},
    }
