"""`shoes-data` itself: --help without TensorFlow, the listing read from the command modules' source, exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

from data_tools.cli import ALL, COMMANDS as MODULES, build_parser, listing
from tests.harness import run_cli, shoe_image, write_image

ROOT = Path(__file__).resolve().parents[2]
HELP_WITHOUT_TENSORFLOW = """
import sys
from data_tools.cli import main
try:
    main(sys.argv[1:] + ["--help"])
except SystemExit as exit:
    assert exit.code == 0, exit.code
assert "tensorflow" not in sys.modules, "--help imported TensorFlow"
"""
# Every command, read from the listing (those whose work is TensorFlow's, colorize-fmnist and to-tfrecords, included).
COMMANDS = tuple(listing(module)[0] for module in MODULES)


def test_every_command_is_checked():
    assert len(COMMANDS) == 11 and {"colorize-fmnist", "patterns", "to-tfrecords", "flatten"} <= set(COMMANDS)


@pytest.mark.parametrize("command", [(), *((name,) for name in COMMANDS)], ids=lambda command: command[0] if command else "top")
def test_help_answers_without_importing_tensorflow(command):
    done = subprocess.run([sys.executable, "-c", HELP_WITHOUT_TENSORFLOW, *command], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"usage: shoes-data {' '.join(command)}".strip() in done.stdout
    assert command or "to-tfrecords" in done.stdout


def test_the_listing_read_from_source_matches_the_registered_commands():
    assert build_parser(None).format_help() == build_parser(ALL).format_help()


def test_a_refused_argument_exits_2_and_a_failure_while_running_exits_1(tmp_path, capsys):
    src = tmp_path / "src"
    write_image(src / "a.png", shoe_image())
    code, _, err = run_cli(["resize-pad", src, src / "inside"], capsys)  # DST inside SRC: the command line is wrong.
    assert code == 2 and "DST=" in err
    (tmp_path / "file").write_text("")
    code, _, err = run_cli(["stats", src, "--out", tmp_path / "file" / "stats"], capsys)  # Cannot write there.
    assert code == 1 and "shoes-data stats: error:" in err


def test_a_usage_error_exits_2_and_any_other_value_error_exits_1_in_one_line(tmp_path, capsys):
    src = tmp_path / "src"
    for name in ("a.png", "b.png"):
        write_image(src / name, shoe_image())
    (tmp_path / "bad.csv").write_text("file,color\na.png,red\n")  # A manifest without its path column: a corrupt file.
    code, _, err = run_cli(["to-tfrecords", src, tmp_path / "out", "--manifest", tmp_path / "bad.csv"], capsys)
    assert code == 1 and err.startswith("shoes-data to-tfrecords: error: Manifest") and "needs a 'path' column" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    code, _, err = run_cli(["to-tfrecords", src, tmp_path / "out", "--manifest", tmp_path / "misspelt.csv"], capsys)
    assert code == 2 and "misspelt.csv" in err  # A --manifest that is not there: the command line is wrong.
    code, _, err = run_cli(["to-tfrecords", src, tmp_path / "out", "--kind", "triplets"], capsys)
    assert code == 2 and "input" in err and "--kind triplets" in err  # SRC is not of --kind.


def test_command_error_is_the_shared_usage_error():
    from data_tools.common import CommandError
    from shoes_generator.cli_common import UsageError

    assert issubclass(CommandError, UsageError) and issubclass(UsageError, ValueError)
