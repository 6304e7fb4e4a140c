"""`shoes-data resize-pad SRC DST --size 256`: square images with white borders."""

from __future__ import annotations

import argparse
from pathlib import Path

from data_tools.common import positive_int, source_images
from data_tools.transform import OUTPUT_FORMATS, add_format_argument, add_tree_command, prepare_destination, save_image, transform_tree
from shoes_generator.imaging.geometry import pad_to_square


def register(subparsers) -> None:
    """Adds the `resize-pad` command."""
    parser = add_tree_command(
        subparsers,
        "resize-pad",
        help="resize images to squares, keeping the aspect ratio, with white borders",
        paragraphs=(
            "Resize every image below SRC so its longer side is SIZE pixels (Lanczos filter; "
            "the aspect ratio is kept), centre it on a white SIZE x SIZE square and write it to "
            "the same relative path below DST (the folder tree, and so the labels it encodes, "
            "is mirrored). Transparent pixels become white.",
            "With --format png or jpg, two sources that would share an output name (a.jpg and "
            "a.png) are both kept: the later one in sorted order is written as a_1.png.",
            "Unreadable files are skipped and listed in the summary; existing outputs are "
            "overwritten, so a rerun gives the same files.",
        ),
        example="shoes-data resize-pad ut-zap50k-images ut-zap50k-256 --size 256 --format png",
        dst_help="destination folder (created; must not be inside SRC)",
        run=run,
    )
    parser.add_argument("--size", "-s", type=positive_int, default=256, help="side of the output squares in pixels (default 256)")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> dict:
    """Pads every image of ``args.src`` to a square; returns the summary."""
    sources = source_images(args.src)
    dst = prepare_destination(args.src, args.dst)
    summary, _ = transform_tree(
        Path(args.src),
        dst,
        sources,
        "resize-pad",
        pad_writer(dst, args.size),
        suffix=OUTPUT_FORMATS[args.format],
        max_pixels=args.max_pixels,
        output_side=args.size,
    )
    return {**summary, "found": len(sources), "size": args.size, "format": args.format}


def pad_writer(dst: Path, size: int):
    """A `transform_tree` converter that writes `image` padded to a `size` square below `dst`."""

    def convert(image, out_rel: Path) -> int:
        save_image(pad_to_square(image, size), dst / out_rel)
        return 1

    return convert
