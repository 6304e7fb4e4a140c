"""Keras callbacks of a training run: sample grids, sample-quality metrics, metrics log, loss curve, checkpoints."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.data.pipeline import to_uint8
from shoes_generator.labels import Vocabularies
from shoes_generator.plots import save_labelled_grid, save_loss_curve, save_series_plot
from shoes_generator.runs import METRICS_FILE, append_metrics


def global_step(gan) -> int:
    """Training steps so far (the run's step counter, saved in checkpoints).

    Not the optimizer's `iterations`: under float16 a LossScaleOptimizer does
    not count the steps it skips for non-finite gradients.
    """
    return int(gan.step.numpy())


class SampleGrid(keras.callbacks.Callback):
    """Writes a grid of samples from fixed noise after every epoch (PNG + TensorBoard).

    Conditional models get one row per combination of all but the last label
    (e.g. one row per colour) and column groups per value of the last label
    (e.g. types), `per_cell` samples each, the same noise in every row.

    Args:
        out_dir: folder of ``epoch_XXXX.png`` and ``latest.png``.
        latent_dim: noise size.
        vocabularies: label vocabularies (None for unconditional models).
        labels: the conditioning labels in display order (rows first).
        per_cell: samples per cell (conditional) or grid side (unconditional).
        seed: seed of the fixed noise.
        log_dir: TensorBoard folder for the sample image, or None.
    """

    def __init__(
        self,
        out_dir: str | Path,
        latent_dim: int,
        vocabularies: Vocabularies | None = None,
        labels: Sequence[str] = (),
        per_cell: int = 8,
        seed: int = 1234,
        log_dir: str | Path | None = None,
    ):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.inputs, self.rows, self.cols, self.row_labels, self.col_labels = self.fixed_inputs(
            latent_dim, vocabularies, tuple(labels), per_cell, seed
        )
        self.writer = tf.summary.create_file_writer(str(log_dir)) if log_dir else None

    @staticmethod
    def fixed_inputs(latent_dim, vocabularies, labels, per_cell, seed):
        """The fixed generator inputs and the grid layout (rows, cols, captions)."""
        rng = np.random.default_rng(seed)
        if not labels:
            z = rng.standard_normal((per_cell * per_cell, latent_dim)).astype("float32")
            return z, per_cell, per_cell, [], []
        row_values = [vocabularies.values(name) for name in labels[:-1]]
        col_values = vocabularies.values(labels[-1])
        row_combos = list(itertools.product(*row_values)) or [()]
        cols = len(col_values) * per_cell
        z_row = rng.standard_normal((cols, latent_dim)).astype("float32")
        z = np.tile(z_row, (len(row_combos), 1))
        columns = {name: [] for name in labels}
        for combo in row_combos:
            for value in col_values:
                for _ in range(per_cell):
                    for name, v in zip(labels, (*combo, value)):
                        columns[name].append(v)
        inputs = {"z": z, **{name: vocabularies.ids(name, values) for name, values in columns.items()}}
        row_captions = [" ".join(combo) for combo in row_combos] if row_values else []
        return inputs, len(row_combos), cols, row_captions, list(col_values)

    def samples(self) -> np.ndarray:
        """The fixed samples as ``uint8`` (EMA BatchNorm statistics refreshed first)."""
        self.model.refresh_sampler_statistics()
        return to_uint8(self.model(self.inputs, training=False)).numpy()

    def on_epoch_end(self, epoch, logs=None):
        write_grid(self, epoch, self.samples(), self.rows, self.cols, self.row_labels, self.col_labels)


def write_grid(callback, epoch: int, images: np.ndarray, rows: int, cols: int, row_labels=(), col_labels=()) -> Path:
    """Saves ``epoch_XXXX.png`` and ``latest.png`` in ``callback.out_dir`` and logs the images to ``callback.writer``."""
    step = global_step(callback.model)
    path = save_labelled_grid(
        images, rows, cols, callback.out_dir / f"epoch_{epoch + 1:04d}.png", row_labels, col_labels, f"epoch {epoch + 1}, step {step}"
    )
    (callback.out_dir / "latest.png").write_bytes(path.read_bytes())
    if callback.writer is not None:
        with callback.writer.as_default():
            tf.summary.image("samples", images[: min(16, len(images))], step=step, max_outputs=16)
    return path


class TranslationGrid(keras.callbacks.Callback):
    """After every epoch, a grid of fixed examples run through the model (PNG + TensorBoard).

    The family says what the columns are (`columns`): pix2pix rows read
    input | output | target; CycleGAN rows A | G_AB(A) | G_BA(G_AB(A)) | B | G_BA(B) | G_AB(G_BA(B));
    segmenter rows image | predicted classes | labelled classes.

    Args:
        out_dir: folder of ``epoch_XXXX.png`` and ``latest.png``.
        examples: a fixed batch of the run's elements (its image entries).
        columns: ``(model, examples) -> (column images, captions)``, float images in [-1, 1].
        log_dir: TensorBoard folder for the grid's images, or None.
    """

    def __init__(self, out_dir: str | Path, examples: dict, columns, log_dir: str | Path | None = None):
        super().__init__()
        self.out_dir = Path(out_dir)
        self.examples = {key: np.asarray(value) for key, value in examples.items()}
        self.columns = columns
        self.writer = tf.summary.create_file_writer(str(log_dir)) if log_dir else None

    def on_epoch_end(self, epoch, logs=None):
        columns, captions = self.columns(self.model, self.examples)
        images = np.stack([to_uint8(column).numpy() for column in columns], axis=1)  # [rows, cols, H, W, C]
        rows, cols = images.shape[:2]
        write_grid(self, epoch, images.reshape(rows * cols, *images.shape[2:]), rows, cols, col_labels=captions)


def translation_grid(config, data, run_dir: Path, columns) -> TranslationGrid:
    """The run's `TranslationGrid` over its first ``train.sample_columns`` examples (image entries only).

    Args:
        config: the experiment.
        data: the run's `TrainingData`.
        run_dir: the run directory (``samples/``, ``logs/samples``).
        columns: the family's ``(model, examples) -> (columns, captions)``.
    """
    examples = next(iter(data.elements.batch(config.train.sample_columns).take(1)))
    return TranslationGrid(run_dir / "samples", {key: examples[key] for key in data.image_keys}, columns,
                           log_dir=run_dir / "logs" / "samples")


def _rgb(images: np.ndarray) -> np.ndarray:
    """``uint8 [B, H, W, 1 or 3]`` -> ``[B, H, W, 3]`` (grey repeated), what the feature extractors read."""
    return np.repeat(images, 3, axis=-1) if images.shape[-1] == 1 else images


def sample_metrics_callback(config, model, data) -> keras.callbacks.Callback:
    """The optional "samples" metrics the registry holds for generators (FID, KID and precision/recall)
    of a noise generator every ``train.metrics_every`` epochs, into the logs.

    Fresh samples (uniformly drawn labels, EMA statistics refreshed first) are
    compared with the run's first ``train.metrics_samples`` training images
    under the project classifier's features (trained once and cached; see
    `shoes_generator.metrics.ClassifierFeatures`). `MetricsLog` and TensorBoard
    then record their outputs: ``fid``, ``kid``, ``kid_std``, ``precision`` and ``recall``
    (see `shoes_generator.evaluation.registry`).

    Args:
        config: the experiment (``train.metrics_every``, ``train.metrics_samples``, ``train.seed``).
        model: the `GAN` being trained.
        data: the run's `TrainingData` (its unshuffled ``elements`` give the real images).
    """
    from shoes_generator.evaluation.registry import GENERATOR, metric_names
    from shoes_generator.metrics import ClassifierFeatures, MetricsCallback, features_of

    count = config.train.metrics_samples
    extractor = ClassifierFeatures(config.data.image_size)
    real = (_rgb(to_uint8(batch["image"]).numpy()) for batch in data.elements.take(count).batch(250))
    real_stats = features_of(real, extractor, max_keep=count)
    rng = np.random.default_rng(config.train.seed + 4321)

    def sample(n: int) -> np.ndarray:
        z = rng.standard_normal((n, model.latent_dim)).astype("float32")
        labels = {name: rng.integers(0, model.label_sizes[name], n).astype("int32") for name in model.label_names}
        inputs = {"z": z, **labels} if model.label_names else z
        return _rgb(to_uint8(model(inputs, training=False)).numpy())

    metrics = metric_names(GENERATOR, kind="samples", optional=True)
    return MetricsCallback(sample, real_stats, extractor, metrics, every=config.train.metrics_every, count=count,
                           prepare=model.refresh_sampler_statistics)


class MetricsLog(keras.callbacks.Callback):
    """Appends step and epoch records to ``metrics.jsonl`` and redraws the loss curve.

    Args:
        run_dir: the run directory (``metrics.jsonl``, ``loss_curve.png``).
        every: write a step record every `every` steps.
        elapsed: seconds the run trained before this process (a resumed run's last epoch record),
            so epoch records keep counting from there.
    """

    def __init__(self, run_dir: str | Path, every: int = 50, elapsed: float = 0.0):
        super().__init__()
        self.path = Path(run_dir) / METRICS_FILE
        self.curve = Path(run_dir) / "loss_curve.png"
        self.every = max(1, int(every))
        self.started = time.time() - float(elapsed)

    def _append(self, record: dict) -> None:
        append_metrics(self.path, record)

    @staticmethod
    def _floats(logs):
        return {key: float(value) for key, value in (logs or {}).items() if np.ndim(value) == 0}

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if step % self.every == 0:
            self._append({"kind": "step", "step": step, **self._floats(logs)})

    def on_epoch_end(self, epoch, logs=None):
        step = global_step(self.model)
        self._append(
            {"kind": "epoch", "epoch": epoch + 1, "step": step, "seconds": round(time.time() - self.started, 2), **self._floats(logs)}
        )
        save_loss_curve(self.path, self.curve)


class SeriesPlot(keras.callbacks.Callback):
    """Redraws a plot of logged series from ``metrics.jsonl`` after every epoch (after `MetricsLog` wrote it).

    Args:
        metrics_jsonl: the run's metrics file.
        path: the PNG to write.
        keys: the logged values to plot.
        ylabel: the y axis's caption.
        reference: a dashed horizontal line (a target), or None.
    """

    def __init__(self, metrics_jsonl: str | Path, path: str | Path, keys, ylabel: str, reference: float | None = None):
        super().__init__()
        self.metrics_jsonl, self.path, self.keys = Path(metrics_jsonl), Path(path), tuple(keys)
        self.ylabel, self.reference = ylabel, reference

    def on_epoch_end(self, epoch, logs=None):
        save_series_plot(self.metrics_jsonl, self.path, self.keys, self.ylabel, self.reference)


class TimeLimit(keras.callbacks.Callback):
    """Stops training after `minutes` of it (counted from the first batch this process trains), after a whole step.

    The epoch in progress ends there: its end-of-epoch callbacks still run (checkpoint, metrics, samples).
    The clock includes the first step's tracing (and XLA compilation): what a user waits for.

    Args:
        minutes: the training time allowed.
    """

    def __init__(self, minutes: float):
        super().__init__()
        if not minutes > 0:
            raise ValueError(f"A time limit must be a positive number of minutes. Received: {minutes!r}")
        self.seconds = float(minutes) * 60.0
        self.started = None
        self.expired = False

    def on_train_batch_begin(self, batch, logs=None):
        if self.started is None:
            self.started = time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        if time.monotonic() - self.started >= self.seconds:
            self.expired = True
            self.model.stop_training = True


class Checkpointer(keras.callbacks.Callback):
    """Saves a `tf.train.CheckpointManager` every `every` steps and at every epoch end.

    Args:
        manager: the manager over networks, optimizers, EMA and noise RNG state.
        every: steps between checkpoints (0: epoch ends only).
    """

    def __init__(self, manager: tf.train.CheckpointManager, every: int = 0):
        super().__init__()
        self.manager = manager
        self.every = int(every)
        self.last_saved = -1

    def _save(self):
        step = global_step(self.model)
        if step != self.last_saved:
            self.manager.save(checkpoint_number=step)
            self.last_saved = step

    def on_train_batch_end(self, batch, logs=None):
        if self.every and global_step(self.model) % self.every == 0:
            self._save()

    def on_epoch_end(self, epoch, logs=None):
        self._save()


def training_checkpoint(model, optimizers: bool = True) -> tf.train.Checkpoint:
    """Everything a resumed run needs: `model.checkpoint_objects()` (networks, optimizers, step, EMA copy,
    image pools, noise RNG state, whichever the family has) and the RNG state of every Dropout.

    Args:
        model: the training model of any family.
        optimizers: False leaves the optimizers out (what an export restores). Their variables
            depend on how the model was compiled (a learning-rate schedule has no variable, a
            constant rate has one), which only training knows; restoring them into a model
            compiled otherwise would pair variables by position and fail.
    """
    objects = model.checkpoint_objects(optimizers)
    for name, network in list(objects.items()):  # Dropout's RNG state, so a resumed run drops the same units.
        for layer in getattr(network, "layers", ()):
            if isinstance(getattr(layer, "seed_generator", None), keras.random.SeedGenerator):
                objects[f"{name}/{layer.name}/seed"] = layer.seed_generator.state
    return tf.train.Checkpoint(**objects)
