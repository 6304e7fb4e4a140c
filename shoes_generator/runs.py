"""Numbered run directories: ``<out>/00003-cgan_fmnist_color/`` with ``config.json``."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shoes_generator.configs import ExperimentConfig

_RUN = re.compile(r"^(\d{5})-")


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
