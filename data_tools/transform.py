"""What the commands that read SRC and write DST share.

`add_tree_command` declares such a command (SRC, DST, --summary, a wrapped
description); `prepare_destination` checks DST; `transform_tree` walks the
sorted image list with a progress bar, decodes each file (unreadable ones are
skipped and recorded), hands the pixels to the command's converter together
with a collision-free output path, and returns the JSON summary: what was read,
written and skipped (with reasons).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from data_tools.common import MAX_PIXELS_HELP, NON_REGULAR_HELP, CommandError, add_max_pixels_argument, add_summary_argument, help_text, progress
from data_tools.naming import plan_outputs
from shoes_generator.data.skips import SkipReport
from shoes_generator.imaging.io import READ_ERRORS, describe_error, load_rgb, save_png

# --format choice -> output extension (None: each file keeps its own).
OUTPUT_FORMATS = MappingProxyType({"keep": None, "png": ".png", "jpg": ".jpg"})
JPEG_QUALITY = 95
# Images are decoded reduced to no less than this many times the output side: what
# geometry.resize's Lanczos filter (reducing_gap 3) reads of them anyway.
DECODE_MARGIN = 3

Converter = Callable[[np.ndarray, Path], int]


def add_tree_arguments(parser: argparse.ArgumentParser, dst_help: str) -> None:
    """Adds the positional ``SRC`` and ``DST`` folders and ``--summary FILE``."""
    parser.add_argument("src", metavar="SRC", help="source folder, searched recursively for .jpg, .jpeg and .png files")
    parser.add_argument("dst", metavar="DST", help=dst_help)
    add_summary_argument(parser)


def add_tree_command(
    subparsers, name: str, help: str, paragraphs: Sequence[str], example: str, dst_help: str, run: Callable[[argparse.Namespace], dict]
) -> argparse.ArgumentParser:
    """Adds a command that reads ``SRC`` and writes ``DST``; returns its parser for more options.

    Every such command decodes images: it gets ``--max-pixels`` and the help
    paragraphs on skipped non-regular files and on the pixel cap.

    Args:
        subparsers: the `shoes-data` subparsers.
        name: the command name.
        help: the one-line help shown by ``shoes-data --help``.
        paragraphs: the ``--help`` description, one string per paragraph
            (each is wrapped; paragraph breaks are kept).
        example: an example command line, shown last.
        dst_help: what DST receives.
        run: the command, ``run(args) -> summary dict``.
    """
    parser = subparsers.add_parser(
        name,
        help=help,
        description=help_text(*paragraphs, NON_REGULAR_HELP, MAX_PIXELS_HELP),
        epilog=f"example: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_tree_arguments(parser, dst_help)
    add_max_pixels_argument(parser)
    parser.set_defaults(run=run)
    return parser


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--format {keep,png,jpg}`` (default keep)."""
    parser.add_argument(
        "--format",
        choices=tuple(OUTPUT_FORMATS),
        default="keep",
        help=(
            "output format: keep each file's own format and name (default), or write every image "
            f"as PNG or as JPEG (quality {JPEG_QUALITY}); the extension changes accordingly"
        ),
    )


def prepare_destination(src: str | Path, dst: str | Path) -> Path:
    """Creates `dst`; a CommandError when it is a file, `src` itself or inside `src`.

    A destination inside the source would be read back as input on the next run.

    Args:
        src: the source folder.
        dst: the destination folder.
    """
    src_path, dst_path = Path(src).resolve(), Path(dst).resolve()
    if dst_path.exists() and not dst_path.is_dir():
        raise CommandError(f"destination is not a folder. Received: DST={str(dst)!r}")
    if dst_path == src_path or src_path in dst_path.parents:
        raise CommandError(
            f"destination must be outside the source folder (its outputs would be read as inputs). "
            f"Received: SRC={str(src)!r}, DST={str(dst)!r}"
        )
    dst_path.mkdir(parents=True, exist_ok=True)
    return Path(dst)


def save_image(array: np.ndarray, path: Path) -> Path:
    """Writes a ``uint8`` image as PNG or JPEG, chosen by the extension of `path`."""
    if path.suffix.lower() == ".png":
        return save_png(array, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format="JPEG", quality=JPEG_QUALITY)
    return path


def transform_tree(
    src: Path,
    dst: Path,
    paths: Sequence[Path],
    desc: str,
    convert: Converter,
    suffix: str | None = None,
    skips: SkipReport | None = None,
    max_pixels: int | None = None,
    output_side: int | None = None,
) -> tuple[dict, dict[Path, Path]]:
    """Decodes every file of `paths` and passes it to `convert(image, output_path)`.

    Args:
        src: the source folder; output paths mirror the paths relative to it.
        dst: the destination folder (reported in the summary).
        paths: the image files, in processing order.
        desc: the progress-bar label.
        convert: called with the ``uint8`` RGB image and its output path
            relative to the destination (extension `suffix`); returns how many
            files it wrote. A ValueError from it skips the image.
        suffix: output extension (``".png"``) or None to keep the source's.
        skips: an existing report to add to (e.g. files screened out earlier).
        max_pixels: images with more pixels to decode are skipped (``--max-pixels``).
        output_side: the longest side `convert` makes of an image, or None when
            it needs full resolution; larger images are decoded reduced to
            ``DECODE_MARGIN * output_side`` or more (see `load_rgb`).

    Returns:
        The summary dict (source, destination, read, written, skipped,
        skipped_files) and ``{source path relative to src: output path}`` of the
        converted files.
    """
    skips = SkipReport(str(src)) if skips is None else skips
    relative = [path.relative_to(src) for path in paths]
    outputs = {}
    written = 0
    for path, rel, out_rel in progress(zip(paths, relative, plan_outputs(relative, suffix)), desc, total=len(paths)):
        try:
            image = load_rgb(path, max_pixels, None if output_side is None else DECODE_MARGIN * output_side)
        except READ_ERRORS as error:
            skips.add(rel.as_posix(), describe_error(error))
            continue
        try:
            written += convert(image, out_rel)
        except ValueError as error:
            skips.add(rel.as_posix(), f"cannot convert: {error}")
            continue
        outputs[rel] = out_rel
    skips.report()
    summary = {"source": str(src), "destination": str(dst), "read": len(outputs), "written": written, **skips.as_dict()}
    return summary, outputs
