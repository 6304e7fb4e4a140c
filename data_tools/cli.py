"""`shoes-data <command>`: the dataset preparation tools.

Each command module exposes ``register(subparsers)``, which adds its parser and
sets ``run=<function(args) -> dict>``; the dict is the command's JSON summary.
`main` imports only the module of the command it runs: ``shoes-data --help``
lists the commands from their source (names and help lines) without importing
them, and so without TensorFlow.

Exit codes: 2 for a `UsageError` (a command's `CommandError`: an argument refused before the work),
1 for a failure while working (an unreadable or corrupt file, an unwritable DST), each with one
``shoes-data <command>: error: <message>`` line on stderr.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: keep its C++ start-up logs quiet.

import argparse
import ast
import importlib
import importlib.util
import logging
import sys
from pathlib import Path

from data_tools.common import emit_summary, help_text
from shoes_generator.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, fail, runtime_errors

# The command modules, in --help order.
COMMANDS = (
    "flatten",
    "resize_pad",
    "dominant_color",
    "stats",
    "downsample",
    "edges",
    "masks",
    "parts",
    "colorize_fmnist",
    "patterns",
    "to_tfrecords",
)
ALL = "all"


def listing(module: str) -> tuple[str, str | None]:
    """(command name, one-line help) of a command module, read from its source without importing it.

    The name and help are the first string argument and the ``help=`` string of its ``add_parser`` or
    ``add_tree_command`` call.
    """
    source = Path(importlib.util.find_spec(f"data_tools.{module}").origin).read_text()
    for node in ast.walk(ast.parse(source)):
        called = getattr(node, "func", None)
        if isinstance(node, ast.Call) and getattr(called, "attr", getattr(called, "id", None)) in ("add_parser", "add_tree_command"):
            name = next(arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str))
            help_ = next((k.value.value for k in node.keywords if k.arg == "help" and isinstance(k.value, ast.Constant)), None)
            return name, help_
    raise LookupError(f"data_tools.{module} registers no command")


def build_parser(command: str | None = ALL) -> argparse.ArgumentParser:
    """The `shoes-data` parser.

    Args:
        command: the command whose module is imported and registered (``ALL``: every one); the others
            are listed by name and help line only, which parses ``shoes-data --help`` without TensorFlow.
    """
    parser = argparse.ArgumentParser(
        prog="shoes-data",
        description=help_text(
            "Prepare shoe image data sets: flatten trees, pad to squares, label colours, "
            "plot label statistics, make edge maps, masks and part maps, write the coloured "
            "Fashion-MNIST shoes, pattern transfer triples and TFRecord shards. Every command "
            "shows a progress bar on stderr and prints a JSON summary of what it did on stdout.",
            "Only regular files are read as images (FIFOs, devices, dangling or looping symlinks "
            "are skipped and counted), and the commands that decode images skip those with more "
            "than --max-pixels pixels (a bound on the memory an image takes).",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        name, help_ = listing(module)
        if command in (ALL, name):
            importlib.import_module(f"data_tools.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=help_, add_help=False)
    return parser


def chosen_command(argv: list[str]) -> str | None:
    """The command `argv` names (its first word that is not an option), or None."""
    return next((word for word in argv if not word.startswith("-")), None)


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
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(chosen_command(argv))
    args = parser.parse_args(argv)
    try:
        summary = args.run(args)
    except UsageError as error:  # Arguments refused (a `CommandError`): no SRC, DST inside SRC, SRC not of --kind.
        return fail(f"shoes-data {args.command}", error_message(error), EXIT_USAGE)
    except runtime_errors() as error:  # Found while running: an unwritable DST, a full disk, a corrupt manifest.
        return fail(f"shoes-data {args.command}", error_message(error), EXIT_FAILURE)
    emit_summary({"command": args.command, **summary}, getattr(args, "summary", None))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
