"""Publishes a training run's generator into a TF Serving model base: ``<base>/<name>/<version>/``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import tensorflow as tf

from shoes_generator.builders import build_model
from shoes_generator.callbacks import global_step, training_checkpoint
from shoes_generator.labels import Vocabularies
from shoes_generator.runs import read_config

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_model_name(name: str) -> str:
    """Returns `name` if TF Serving and URLs can carry it.

    Raises:
        ValueError: anything but letters, digits, '_', '.' and '-' (so no path separators).
    """
    if not MODEL_NAME.match(name):
        raise ValueError(f"Model names are letters, digits, '_', '.' and '-' (at most 128). Received: {name!r}")
    return name


def versions_on_disk(model_dir: str | Path) -> dict[int, Path]:
    """Numbered version folders in `model_dir`: ASCII decimal names below 2**63 (TF Serving's int64 versions).

    Hidden staging folders and other names are ignored, including digits that ``str.isdigit`` accepts but a
    version is not ('²', '٣').
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        return {}
    return {int(p.name): p for p in model_dir.iterdir() if p.is_dir() and p.name.isascii() and p.name.isdigit() and int(p.name) < 1 << 63}


def next_version(model_dir: str | Path) -> int:
    """One more than the highest numbered version folder in `model_dir` (1 when there is none)."""
    return max(versions_on_disk(model_dir), default=0) + 1


def export_run(run_dir: str | Path, model_base: str | Path, name: str, version: int | None = None) -> tuple[Path, int]:
    """Rebuilds a run's networks, restores its latest checkpoint and exports its servable model
    (the EMA generator of a GAN, a pix2pix generator, both CycleGAN directions, a segmenter).

    The version is written to a hidden temporary folder and renamed into
    place, so a server polling the model base never sees half of it.

    Args:
        run_dir: a `shoes-train` run directory.
        model_base: the TF Serving model base.
        name: the model name.
        version: the version number (default: the next free one).

    Returns:
        ``(version directory, step of the exported checkpoint)``.

    Raises:
        FileNotFoundError: not a run directory, or it has no checkpoint.
        FileExistsError: the version exists already.
        ValueError: a bad name or version.
    """
    run_dir = Path(run_dir)
    check_model_name(name)
    read_config(run_dir)  # Not a run, then no checkpoint: both before anything is built.
    latest_checkpoint(run_dir)
    model_dir = Path(model_base) / name
    version = next_version(model_dir) if version is None else int(version)
    if version < 1:
        raise ValueError(f"Versions are positive integers. Received: {version}")
    if (model_dir / str(version)).exists():  # Checked before any network is built.
        raise FileExistsError(f"Export destination already exists: {str(model_dir / str(version))!r}")
    config, vocabularies, model = restore_run(run_dir)
    path = config.family.export(model, config, vocabularies, model_dir / str(version))
    return path, global_step(model)


def latest_checkpoint(run_dir: Path) -> str:
    """The newest checkpoint of `run_dir`; FileNotFoundError when there is none."""
    checkpoint = tf.train.latest_checkpoint(str(Path(run_dir) / "checkpoints"))
    if checkpoint is None:
        raise FileNotFoundError(f"{run_dir} has no checkpoint to export (checkpoints/ is empty); train it first.")
    return checkpoint


def restore_run(run_dir: str | Path) -> tuple:
    """``(config, vocabularies, model)`` of a run: its networks rebuilt and its latest checkpoint restored
    (without the optimizers, whose slots depend on the run's learning-rate schedule).

    Args:
        run_dir: a `shoes-train` run directory.

    Raises:
        FileNotFoundError: no config or no checkpoint.
        AssertionError: the checkpoint does not fit the config (as strict as a resumed run: never an untrained export).
    """
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    checkpoint = latest_checkpoint(run_dir)
    vocab_file = run_dir / "vocabularies.json"
    vocabularies = Vocabularies(json.loads(vocab_file.read_text())) if vocab_file.is_file() else None
    model = build_model(config, vocabularies)
    restored = training_checkpoint(model, optimizers=False).restore(checkpoint)
    restored.assert_existing_objects_matched().expect_partial()
    return config, vocabularies, model
