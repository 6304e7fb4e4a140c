"""Runs an experiment of any family: data, networks, callbacks and `model.fit`, resumable after a kill."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from shoes_generator.builders import build_model
from shoes_generator.callbacks import (
    Checkpointer,
    MetricsLog,
    TimeLimit,
    global_step,
    sample_metrics_callback,
    training_checkpoint,
)
from shoes_generator.configs import ExperimentConfig
from shoes_generator.distribute.loop import DistributedFit
from shoes_generator.distribute.strategy import Worker
from shoes_generator.runs import METRICS_FILE, next_run_dir, read_config, read_metrics, write_config, write_metrics

logger = logging.getLogger("shoes_generator.trainer")


@dataclasses.dataclass
class RunResult:
    """What a finished (or resumed) run left behind."""

    run_dir: Path
    step: int
    gan: object  # the trained model of any family (GAN, Pix2Pix, CycleGAN, Segmenter)
    history: list


def _restore(gan, checkpoint: tf.train.Checkpoint, directory: Path) -> int:
    """Restores the latest checkpoint in `directory` into `gan` (through `checkpoint`); returns its step (0 if none)."""
    latest = tf.train.latest_checkpoint(str(directory))
    if latest is None:
        return 0
    checkpoint.restore(latest).assert_existing_objects_matched()
    return global_step(gan)


def _check_vocabularies(run_dir: Path, vocabularies) -> None:
    """Writes ``vocabularies.json``, or checks a resumed run's data still has the same labels.

    Raises:
        ValueError: the labels changed since the run started (ids would shift).
    """
    path = run_dir / "vocabularies.json"
    current = vocabularies.to_dict() if vocabularies is not None else {}
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved != current:
            changed = sorted(name for name in set(saved) | set(current) if saved.get(name) != current.get(name))
            raise ValueError(
                f"The data's labels changed since {run_dir} started ({changed}); label ids would no longer match "
                f"the checkpoint. Saved: {saved}. Now: {current}"
            )
    elif current:
        path.write_text(json.dumps(current, indent=2) + "\n")


def _trim_metrics(run_dir: Path, step: int) -> float:
    """Drops metric records past `step` (written by a killed run after its last checkpoint) and torn lines.

    Returns:
        The seconds the run had trained by its last kept epoch record (0 if none).
    """
    path = run_dir / METRICS_FILE
    if not path.is_file():
        return 0.0
    kept = [record for record in read_metrics(path) if record.get("step", 0) <= step]
    write_metrics(path, kept)
    return max((record.get("seconds", 0.0) for record in kept if record.get("kind") == "epoch"), default=0.0)


def _fit_steps(config: ExperimentConfig, data_steps: int) -> int:
    """Steps per Keras epoch: the config's, or one pass over the data, in whole executions."""
    per_execution = config.train.steps_per_execution
    steps = config.train.steps_per_epoch or data_steps
    steps -= steps % per_execution
    if steps < 1:
        raise ValueError(
            f"One epoch of {data_steps} batch(es) holds no whole execution of steps_per_execution={per_execution}."
        )
    return steps


def train(
    config: ExperimentConfig | None = None,
    out: str | Path = "runs",
    resume: str | Path | None = None,
    epochs: int | None = None,
    verbose: str | int = "auto",
    extra_callbacks: list | None = None,
    time_limit: float | None = None,
    strategy=None,
) -> RunResult:
    """Trains `config` in a new numbered run directory, or resumes `resume`.

    At the end the (EMA) generator is exported to ``<run_dir>/saved_model``.
    The data is prepared before the run directory is created, so a bad data
    setting leaves no empty run behind.

    Args:
        config: the experiment (ignored when resuming: the run's config.json rules).
        out: where new run directories are created.
        resume: a run directory to continue from its latest checkpoint.
        epochs: total epochs (sets ``train.epochs``, saved in config.json; also
            extends a resumed run).
        verbose: Keras `fit` verbosity (progress bars).
        extra_callbacks: more Keras callbacks, run after the run's own
            (checkpoints are written before they see a step).
        time_limit: stop after this many minutes of training (then checkpoint and export as
            at the end; ``--resume`` goes on from there). None: train every epoch.
        strategy: a `tf.distribute` strategy made by `shoes_generator.distribute.make_strategy`
            (None: one device, `model.fit`). The chief writes the run directory; other workers
            write a scratch folder they remove, and read a resumed run's checkpoints.

    Raises:
        ValueError: an invalid config, data that cannot serve it, a resumed
            run whose labels changed, or a batch that does not split over the replicas.
        FileNotFoundError: missing data or run directory.
        shoes_generator.distribute.loop.Preempted: SIGTERM stopped a distributed run (after a checkpoint).
    """
    if resume is not None:
        config = read_config(resume)
    elif config is None:
        raise ValueError("train() needs a config or a run directory to resume. Received neither.")
    if epochs:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=int(epochs)))
    config.validate()
    worker = Worker(strategy)
    worker.check_batch(config.train.batch_size)
    keras.utils.set_random_seed(config.train.seed)
    data = config.family.training_data(config)
    steps_per_epoch = _fit_steps(config, data.steps_per_epoch)

    try:
        return _train(config, worker, data, steps_per_epoch, out, resume, verbose, extra_callbacks, time_limit)
    finally:
        worker.remove_scratch()


def _train(config, worker, data, steps_per_epoch, out, resume, verbose, extra_callbacks, time_limit) -> RunResult:
    """`train` from the run directory on (this worker's: the chief's, or a scratch folder)."""
    run_dir = worker.run_dir(lambda: Path(resume) if resume is not None else next_run_dir(out, config.name))
    _check_vocabularies(run_dir, data.vocabularies)
    write_config(run_dir, config)
    with worker.scope():
        model = worker.prepare(build_model(config, data.vocabularies, steps_per_epoch))
        checkpoint = training_checkpoint(model)
    manager = tf.train.CheckpointManager(checkpoint, str(run_dir / "checkpoints"), max_to_keep=config.train.keep_checkpoints)
    step = _restore(model, checkpoint, (Path(resume) if resume is not None else run_dir) / "checkpoints")  # Workers: the chief's.
    elapsed = 0.0
    if resume is not None:
        elapsed = _trim_metrics(run_dir, step)
        logger.warning("Resuming %s from step %d (epoch %d)", run_dir, step, step // steps_per_epoch + 1)

    callbacks = [
        Checkpointer(manager, config.train.checkpoint_every),
        # Before MetricsLog and TensorBoard: they record the logs it adds.
        *([sample_metrics_callback(config, model, data)] if config.train.metrics_every else []),
        MetricsLog(run_dir, every=max(1, min(50, steps_per_epoch // 4 or 1)), elapsed=elapsed),
        config.family.sample_callback(config, data, run_dir),
        *config.family.extra_callbacks(config, run_dir),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), update_freq="epoch", write_graph=False),
        *(extra_callbacks or []),
    ]
    limit = TimeLimit(time_limit) if time_limit is not None else None
    if limit is not None:
        callbacks.append(limit)
    history = []
    fit_options = {"callbacks": callbacks, "verbose": verbose if worker.is_chief else 0, "shuffle": False}
    fit_function = model.fit if worker.strategy is None else DistributedFit(worker.strategy, model, config.train.batch_size)
    stopped = lambda: (limit is not None and limit.expired) or getattr(fit_function, "stopped", False)
    # Under a strategy, a factory of each worker's rows of every global batch (decoded and augmented there alone).
    stream = data.stream if worker.strategy is None else (lambda start: lambda rows: data.stream(start, rows))
    epoch, offset = divmod(step, steps_per_epoch)
    if offset:  # Finish the epoch the killed run was in, from the batch it stopped at.
        fit = fit_function(stream(step), initial_epoch=epoch, epochs=epoch + 1, steps_per_epoch=steps_per_epoch - offset, **fit_options)
        history.append(fit.history)
        epoch += 1
    if epoch < config.train.epochs and not stopped():
        fit = fit_function(
            stream(epoch * steps_per_epoch),
            initial_epoch=epoch,
            epochs=config.train.epochs,
            steps_per_epoch=steps_per_epoch,
            **fit_options,
        )
        history.append(fit.history)
    export_dir = run_dir / "saved_model"
    if export_dir.exists():
        shutil.rmtree(export_dir)
    if worker.is_chief:
        config.family.export(model, config, data.vocabularies, export_dir)
    return RunResult(run_dir, global_step(model), model, history)
