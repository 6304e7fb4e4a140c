"""`shoes-data masks SRC DST`: foreground masks of product photos."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from data_tools.common import CommandError, source_images
from data_tools.transform import add_tree_command, prepare_destination, save_image, transform_tree
from shoes_generator.imaging.masks import DEFAULT_THRESHOLD, foreground_fraction, foreground_mask


def register(subparsers) -> None:
    """Adds the `masks` command."""
    parser = add_tree_command(
        subparsers,
        "masks",
        help="foreground masks of product photos on white or black backgrounds",
        paragraphs=(
            "Write a mask (white = product, black = background) of every image below SRC as "
            "PNG to DST/<same relative path>.png. The background colour is the median of the "
            "image border, so white and black backgrounds both work; pixels differing from it "
            "by more than --threshold in some channel are foreground. An opening removes "
            "specks, a closing bridges small gaps, holes inside the product are filled and "
            "parts smaller than a tenth of the largest one are dropped.",
            "The summary gives the mean foreground fraction and counts empty masks (nothing "
            "found: lower --threshold). Unreadable files are skipped and listed.",
        ),
        example="shoes-data masks ut-zap50k-images-square zappos-masks --threshold 20",
        dst_help="destination folder for the mask PNGs (created; must not be inside SRC)",
        run=run,
    )
    add_threshold_argument(parser)


def add_threshold_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--threshold`` (the channel difference from the background above which a pixel is foreground)."""
    parser.add_argument(
        "--threshold",
        type=float,
        default=DEFAULT_THRESHOLD,
        help=f"channel difference from the background (0-255) above which a pixel is foreground (default {DEFAULT_THRESHOLD:g})",
    )


def check_threshold(args: argparse.Namespace) -> None:
    """A CommandError unless ``--threshold`` lies in [0, 255)."""
    if not 0 <= args.threshold < 255:
        raise CommandError(f"--threshold must lie in [0, 255). Received: --threshold={args.threshold:g}")


def run(args: argparse.Namespace) -> dict:
    """Writes the masks; returns the summary with the mean foreground fraction."""
    check_threshold(args)
    sources = source_images(args.src)
    dst = prepare_destination(args.src, args.dst)
    fractions = []

    def convert(image: np.ndarray, out_rel: Path) -> int:
        mask = foreground_mask(image, threshold=args.threshold)
        fractions.append(foreground_fraction(mask))
        save_image(mask, dst / out_rel)
        return 1

    summary, _ = transform_tree(Path(args.src), dst, sources, "masks", convert, suffix=".png", max_pixels=args.max_pixels)
    return {
        **summary,
        "found": len(sources),
        "threshold": args.threshold,
        "mean_foreground_fraction": round(float(np.mean(fractions)), 4) if fractions else None,
        "empty_masks": sum(fraction == 0 for fraction in fractions),
    }
