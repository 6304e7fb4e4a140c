"""Numbered run directories: ``<out>/00003-cgan_fmnist_color/`` with ``config.json``."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from shoes_generator.configs import ExperimentConfig

_RUN = re.compile(r"^(\d{5})-")
METRICS_FILE = "metrics.jsonl"
logger = logging.getLogger("shoes_generator.runs")


def next_run_dir(out: str | Path, name: str) -> Path:
    """Creates and returns ``<out>/<NNNNN>-<name>`` with the next free number.

    Args:
        out: the folder holding runs.
        name: the preset name.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    numbers = [int(m.group(1)) for p in out.iterdir() if (m := _RUN.match(p.name))]
    number = max(numbers, default=-1) + 1
    while True:
        run_dir = out / f"{number:05d}-{name}"
        try:
            run_dir.mkdir()
            return run_dir
        except FileExistsError:  # Another run took the number meanwhile.
            number += 1


def write_config(run_dir: str | Path, config: ExperimentConfig) -> Path:
    """Writes the full resolved config as ``config.json``."""
    path = Path(run_dir) / "config.json"
    path.write_text(config.to_json() + "\n")
    return path


def read_config(run_dir: str | Path) -> ExperimentConfig:
    """The config a run was started with.

    Raises:
        FileNotFoundError: `run_dir` has no ``config.json`` (not a run directory).
    """
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"Not a run directory (no config.json): {str(run_dir)!r}")
    return ExperimentConfig.from_dict(json.loads(path.read_text())).validate()


def read_metrics(path: str | Path) -> list[dict]:
    """The records of a run's ``metrics.jsonl`` (none if it does not exist yet).

    A line that does not parse (torn by a crash or a full disk mid-write), or
    whose ``step`` or ``seconds`` is not a number, is dropped with a warning that
    names the file and the line; the rest is kept.

    Args:
        path: the metrics file.
    """
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            logger.warning("Dropping torn line %d of %s (%s): %.80r", number, path, error, line)
            continue
        if isinstance(record, dict) and all(_number(record.get(key, 0)) for key in ("step", "seconds")):
            records.append(record)
        else:
            logger.warning("Dropping line %d of %s: not a metrics record (a JSON object with numeric step and seconds): %.80r",
                           number, path, line)
    return records


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def append_metrics(path: str | Path, record: dict) -> None:
    """Appends `record` to a ``metrics.jsonl`` as one line, in one write.

    If the file ends without a newline (its last line was torn), the record
    starts on a new line, so the torn line cannot swallow it.

    Args:
        path: the metrics file (created if missing).
        record: a JSON-serializable dict.
    """
    line = json.dumps(record) + "\n"
    with Path(path).open("ab") as handle:
        if handle.tell() > 0:
            with Path(path).open("rb") as reader:
                reader.seek(-1, os.SEEK_END)
                if reader.read(1) != b"\n":
                    line = "\n" + line
        handle.write(line.encode())


def write_metrics(path: str | Path, records: list[dict]) -> None:
    """Replaces a ``metrics.jsonl`` with `records`, atomically (a temporary file renamed over it).

    Args:
        path: the metrics file.
        records: JSON-serializable dicts, one per line.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(json.dumps(record) + "\n" for record in records))
    os.replace(temporary, path)
