"""`shoes-data <command>`: the dataset preparation tools.

Each command module exposes ``register(subparsers)``, which adds its parser and
sets ``run=<function(args) -> dict>``; the dict is the command's JSON summary.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: keep its C++ start-up logs quiet.

import argparse
import logging
import sys

from data_tools import (
    colorize_fmnist,
    dominant_color,
    downsample,
    edges,
    flatten,
    masks,
    resize_pad,
    stats,
    to_tfrecords,
)
from data_tools.common import CommandError, emit_summary, help_text

COMMANDS = (
    flatten,
    resize_pad,
    dominant_color,
    stats,
    downsample,
    edges,
    masks,
    colorize_fmnist,
    to_tfrecords,
)


def build_parser() -> argparse.ArgumentParser:
    """The `shoes-data` parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog="shoes-data",
        description=help_text(
            "Prepare shoe image data sets: flatten trees, pad to squares, label colours, "
            "plot label statistics, make edge maps and masks, write the coloured "
            "Fashion-MNIST shoes and TFRecord shards. Every command shows a progress bar "
            "on stderr and prints a JSON summary of what it did on stdout.",
            "Only regular files are read as images (FIFOs, devices, dangling or looping symlinks "
            "are skipped and counted), and the commands that decode images skip those with more "
            "than --max-pixels pixels (a bound on the memory an image takes).",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def error_message(error: Exception) -> str:
    """The one-line message of a failed command; an `OSError` names its file(s).

    Args:
        error: the exception the command raised.
    """
    filename = getattr(error, "filename", None)
    if not isinstance(error, OSError) or filename is None:
        return str(error)
    reason = error.strerror or str(error) or type(error).__name__
    files = f"{str(filename)!r}" if error.filename2 is None else f"{str(filename)!r} -> {str(error.filename2)!r}"
    return f"{reason}: {files}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-data`; returns the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        summary = args.run(args)
    except (CommandError, ValueError, OSError) as error:  # OSError covers FileNotFoundError, PermissionError...
        print(f"shoes-data {args.command}: error: {error_message(error)}", file=sys.stderr)
        return 2
    emit_summary({"command": args.command, **summary}, getattr(args, "summary", None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
