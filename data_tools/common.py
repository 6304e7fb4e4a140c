"""What every `shoes-data` command shares: errors, progress bars, summaries."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from tqdm.auto import tqdm

from shoes_generator.cli_common import UsageError, positive_int  # noqa: F401  (positive_int: the commands' argparse type of counts and sizes)
from shoes_generator.imaging.io import DEFAULT_MAX_PIXELS, list_images

T = TypeVar("T")

# The --help paragraphs of the commands that read a source folder.
NON_REGULAR_HELP = (
    "Only regular files are images: a FIFO, socket, device, dangling or looping symlink named "
    "like an image is never opened; it is skipped and counted with the unreadable files."
)
MAX_PIXELS_HELP = (
    f"Images with more than --max-pixels pixels to decode (default {DEFAULT_MAX_PIXELS:,}) are "
    "skipped with their size in the summary, so a small file that decodes huge cannot exhaust "
    "memory: decoding takes at most 4 bytes per pixel (1 for 1-bit and grey images)."
)


class CommandError(UsageError):
    """A bad argument: a value out of range, a SRC or DST that is not what the command needs; the message
    names it and what was received. `shoes-data` exits 2 for it (a usage error), 1 for other errors."""


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """A tqdm progress bar on stderr (stdout is kept for the JSON summary)."""
    return tqdm(items, desc=desc, total=total, unit="img", file=sys.stderr, dynamic_ncols=True, leave=False)


def source_images(src: str | Path) -> list[Path]:
    """Every image below `src`, sorted; a CommandError when there is none.

    Args:
        src: the source folder.
    """
    src = Path(src)
    if not src.is_dir():
        raise CommandError(f"source folder not found: {str(src)!r}")
    images = list_images(src)
    if not images:
        raise CommandError(f"no JPEG or PNG images found below {str(src)!r} (searched recursively)")
    return images


def add_summary_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--summary FILE`` (also write the JSON summary to FILE)."""
    parser.add_argument("--summary", metavar="FILE", help="also write the JSON summary to FILE")


def emit_summary(summary: dict, path: str | None = None) -> None:
    """Prints the JSON summary to stdout and, when `path` is given, writes it there."""
    text = json.dumps(summary, indent=2, sort_keys=False, default=str)
    print(text)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")


def add_max_pixels_argument(parser: argparse.ArgumentParser) -> None:
    """Adds ``--max-pixels N``: the cap on the pixels decoded per image (see `MAX_PIXELS_HELP`)."""
    parser.add_argument(
        "--max-pixels",
        type=positive_int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help=f"skip images with more than N pixels to decode (default {DEFAULT_MAX_PIXELS}); bounds the memory per image",
    )


def help_text(*paragraphs: str, width: int = 78) -> str:
    """Wraps each paragraph to `width` columns and separates them with blank lines.

    Use with ``formatter_class=argparse.RawDescriptionHelpFormatter``, which keeps
    the paragraph breaks that the default formatter would merge.
    """
    return "\n\n".join(textwrap.fill(paragraph, width, break_on_hyphens=False) for paragraph in paragraphs)


def fmnist_destination(args: argparse.Namespace, min_size: int) -> tuple[Path, list[str] | None]:
    """The checked DST and Fashion-MNIST search folders of a command that writes Fashion-MNIST shoes.

    Args:
        args: the parsed command line (``size``, ``dst``, ``fmnist_dir``).
        min_size: the smallest ``--size`` the command draws.

    Returns:
        ``(DST, [--fmnist-dir] or None)`` (None: the default places, with a download allowed).

    Raises:
        CommandError: ``--size`` below `min_size`, or a DST that exists and is not a folder.
    """
    if args.size < min_size:
        raise CommandError(f"--size must be >= {min_size}. Received: --size={args.size}")
    dst = Path(args.dst)
    if dst.exists() and not dst.is_dir():
        raise CommandError(f"destination is not a folder. Received: DST={str(dst)!r}")
    return dst, None if args.fmnist_dir is None else [args.fmnist_dir]


def read_fmnist(load: Callable[[], T], search: list[str] | None) -> T:
    """``load()``; a FileNotFoundError under ``--fmnist-dir`` (`search` given) is a CommandError: the command line
    named a folder without the files. Not found after a download attempt stays a failure at run time."""
    try:
        return load()
    except FileNotFoundError as error:
        if search is None:
            raise
        raise CommandError(str(error)) from error
