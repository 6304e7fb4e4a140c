"""What every command line shares: one vocabulary, its deprecated spellings, the label parser, exit codes.

The vocabulary of the commands (shoes-data, -train, -eval, -export, -serve, -client, -explore,
-generate): ``--server HOST:PORT`` (REST: ``--rest URL``), ``--model NAME``, ``-n/--count``,
``--label NAME=VALUE`` (repeatable) and ``-o/--out``. An old spelling keeps working for one
release through `add_deprecated`, hidden from --help, with one warning line on stderr.

Exit codes: `EXIT_USAGE` (2) when the command line is wrong (argparse's own errors, a value that
fails its check before any work starts, a path argument that does not exist or is the wrong
kind); `EXIT_FAILURE` (1) when the work started and failed (unreadable contents, a checkpoint
that does not fit, a server error, an existing version, a failed training). A command raises
`UsageError` for the first kind; any other `ValueError` is a failure at run time (a corrupt file,
a model that fails), reported in one line with exit code 1 (`RUNTIME_ERRORS`, `runtime_errors`).

Imports nothing beyond the standard library: the TensorFlow-free commands use it.
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(ValueError):
    """The command line is wrong: an argument that fails its check, an unknown name, a path that is not
    what it must be. Commands exit with `EXIT_USAGE` for it; the message names the argument and the
    value received. (A `ValueError`, so code that checks values keeps catching it.)"""


# What a command reports as a failure at run time (exit 1, one line): a value found wrong while
# working (a corrupt config.json, a model that does not fit), a file that cannot be read or written,
# a run-time error of a library.
RUNTIME_ERRORS = (ValueError, OSError, RuntimeError)


def runtime_errors() -> tuple[type[BaseException], ...]:
    """`RUNTIME_ERRORS`, plus TensorFlow's ``tf.errors.OpError`` (a model that fails while running) once
    TensorFlow is loaded (this module does not load it)."""
    tensorflow = sys.modules.get("tensorflow")
    errors = getattr(tensorflow, "errors", None)
    op_error = getattr(errors, "OpError", None)
    return RUNTIME_ERRORS + ((op_error,) if isinstance(op_error, type) else ())


def deprecation_line(old: str, new: str) -> str:
    """The warning printed when `old` is used instead of `new`."""
    return f"DeprecationWarning: {old} is deprecated, use {new}; the old spelling goes in the next release"


def warn_deprecated(prog: str, old: str, new: str) -> None:
    """Prints the deprecation line of `old` on stderr, prefixed with the command's name."""
    print(f"{prog}: {deprecation_line(old, new)}", file=sys.stderr)


class _DeprecatedAlias(argparse.Action):
    """Stores like a plain option, after one deprecation line naming the new spelling."""

    def __init__(self, option_strings, dest, new: str, **kwargs):
        super().__init__(option_strings, dest, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        warn_deprecated(parser.prog, option_string, self.new)
        setattr(namespace, self.dest, values)


def add_deprecated(parser, old: str, new: str, dest: str, **kwargs) -> None:
    """Adds `old` as a hidden alias of the option `new` (same `dest`, same `type`).

    Args:
        parser: the parser, argument group or mutually exclusive group that holds `new`.
        old: the old spelling, e.g. ``"--name"``.
        new: the spelling to use instead, named in the warning, e.g. ``"--model"``.
        dest: the attribute both spellings set.
        **kwargs: more `add_argument` arguments (``type``, ``metavar``).
    """
    parser.add_argument(old, dest=dest, action=_DeprecatedAlias, new=new, help=argparse.SUPPRESS, default=argparse.SUPPRESS, **kwargs)


def label(text: str) -> tuple[str, str]:
    """The argparse type of ``--label NAME=VALUE``: ``(name, value)``."""
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, e.g. color=red. Received: {text!r}")
    return name, value


def add_label_argument(parser, help: str = "a label value, e.g. color=red (repeatable)") -> None:
    """Adds the repeatable ``--label NAME=VALUE`` option (dest ``label``: a list of pairs)."""
    parser.add_argument("--label", type=label, action="append", default=[], metavar="NAME=VALUE", help=help)


def positive_int(text: str) -> int:
    """The argparse type of counts and versions: an integer >= 1 (ASCII digits: ``"²".isdigit()`` holds, ``int("²")`` fails)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, received {text!r}")
    return int(text)


def host_port(text: str) -> tuple[str, int]:
    """The argparse type of ``--server HOST:PORT`` where a port number is needed: ``(host, port)``."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, e.g. localhost:8500. Received: {text!r}")
    return host.strip("[]"), int(port)


def fail(prog: str, message: object, code: int = EXIT_FAILURE) -> int:
    """Prints ``<prog>: error: <message>`` on stderr; returns `code` (run-time failure unless told)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code
