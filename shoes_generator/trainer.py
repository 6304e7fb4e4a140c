"""Runs an experiment: data, networks, callbacks and `GAN.fit`, resumable after a kill."""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from shoes_generator.builders import build_gan
from shoes_generator.callbacks import Checkpointer, MetricsLog, SampleGrid, gan_checkpoint, global_step
from shoes_generator.configs import ExperimentConfig
from shoes_generator.data.training_data import training_data
from shoes_generator.export import export_generator
from shoes_generator.runs import next_run_dir, read_config, write_config

logger = logging.getLogger("shoes_generator.trainer")


@dataclasses.dataclass
class RunResult:
    """What a finished (or resumed) run left behind."""

    run_dir: Path
    step: int
    gan: object
    history: list


def _restore(gan, manager: tf.train.CheckpointManager) -> int:
    """Restores the latest checkpoint of `manager` into `gan`; returns its step (0 if none)."""
    if manager.latest_checkpoint is None:
        return 0
    manager.checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
    return global_step(gan)


def train(
    config: ExperimentConfig | None = None,
    out: str | Path = "runs",
    resume: str | Path | None = None,
    epochs: int | None = None,
    verbose: str | int = "auto",
    extra_callbacks: list | None = None,
) -> RunResult:
    """Trains `config` in a new numbered run directory, or resumes `resume`.

    At the end the (EMA) generator is exported to ``<run_dir>/saved_model``.

    Args:
        config: the experiment (ignored when resuming: the run's config.json rules).
        out: where new run directories are created.
        resume: a run directory to continue from its latest checkpoint.
        epochs: total epochs (overrides ``train.epochs``; also extends a resumed run).
        verbose: Keras `fit` verbosity (progress bars).
        extra_callbacks: more Keras callbacks, run after the run's own
            (checkpoints are written before they see a step).
    """
    if resume is not None:
        run_dir = Path(resume)
        config = read_config(run_dir)
    elif config is None:
        raise ValueError("train() needs a config or a run directory to resume. Received neither.")
    else:
        config.validate()
        run_dir = next_run_dir(out, config.name)
        write_config(run_dir, config)
    total_epochs = epochs or config.train.epochs
    keras.utils.set_random_seed(config.train.seed)

    data = training_data(config.data, config.train.batch_size, config.train.seed)
    if data.vocabularies is not None:
        (run_dir / "vocabularies.json").write_text(json.dumps(data.vocabularies.to_dict(), indent=2) + "\n")
    steps_per_epoch = config.train.steps_per_epoch or data.steps_per_epoch
    gan = build_gan(config, data.vocabularies)
    manager = tf.train.CheckpointManager(
        gan_checkpoint(gan), str(run_dir / "checkpoints"), max_to_keep=config.train.keep_checkpoints
    )
    step = _restore(gan, manager)
    if step:
        logger.warning("Resuming %s from step %d (epoch %d)", run_dir, step, step // steps_per_epoch + 1)

    callbacks = [
        Checkpointer(manager, config.train.checkpoint_every),
        MetricsLog(run_dir, every=max(1, min(50, steps_per_epoch // 4 or 1))),
        SampleGrid(
            run_dir / "samples",
            config.model.latent_dim,
            data.vocabularies if data.labels else None,
            data.labels,
            per_cell=config.train.sample_columns,
            seed=config.train.seed + 1234,
            log_dir=run_dir / "logs" / "samples",
        ),
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), update_freq="epoch", write_graph=False),
        *(extra_callbacks or []),
    ]
    history = []
    epoch, offset = divmod(step, steps_per_epoch)
    if offset:  # Finish the epoch the killed run was in, from the batch it stopped at.
        fit = gan.fit(data.stream(step), initial_epoch=epoch, epochs=epoch + 1, steps_per_epoch=steps_per_epoch - offset, callbacks=callbacks, verbose=verbose, shuffle=False)
        history.append(fit.history)
        epoch += 1
    if epoch < total_epochs:
        fit = gan.fit(
            data.stream(epoch * steps_per_epoch),
            initial_epoch=epoch,
            epochs=total_epochs,
            steps_per_epoch=steps_per_epoch,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,
        )
        history.append(fit.history)
    export_dir = run_dir / "saved_model"
    if export_dir.exists():
        shutil.rmtree(export_dir)
    export_generator(gan.sampler, config.model.latent_dim, data.vocabularies, gan.label_names, export_dir)
    return RunResult(run_dir, global_step(gan), gan, history)
