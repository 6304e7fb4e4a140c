"""`DistributedFit`: `model.fit`'s part of a run under a `tf.distribute` strategy.

Each step runs the family's own `train_step` on every replica (`strategy.run`); the optimizers
sum the replicas' gradients (`shoes_generator.gans.adversarial.apply_gradients` and Keras's own
losses scale each replica's share to the global batch). The run's Keras callbacks are driven as
`fit` drives them, on every worker (the non-chief ones write to their scratch folder): checkpoints
need every worker, since saving reads mirrored state collectively.

Data: the trainer passes a stream factory (``rows -> TrainingData.stream(step, rows)``), so each
worker decodes and augments only its own rows of every global batch (`replica_batches`); a plain
stream of global batches is accepted too (each worker then builds whole batches and keeps its rows).

One step per `tf.function` call, not XLA-compiled: ``train.steps_per_execution`` and ``train.jit_compile``
apply to one-process runs only (for now).

Stopping is agreed: every step all-reduces a stop flag (a callback's ``model.stop_training``,
such as `TimeLimit`'s, or SIGTERM on any worker), so all workers end the same step, run their
epoch-end callbacks (the checkpoint) and return together.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable

import keras
import tensorflow as tf

from shoes_generator.distribute.data import replica_batches


class Preempted(RuntimeError):
    """Training stopped on SIGTERM (on this or another worker) after checkpointing; ``--resume`` goes on from there."""


class _Sigterm:
    """Records SIGTERM while installed (main thread only), so the loop can stop at a whole step."""

    def __init__(self):
        self.received = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        self.received = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        return False


class DistributedFit:
    """Calls like `model.fit` (the arguments the trainer passes), training under `strategy`.

    Args:
        strategy: a `MirroredStrategy` or `MultiWorkerMirroredStrategy`; the model was built in its scope.
        model: the training model of any family (its `train_step` runs on every replica).
        global_batch: examples per step over all replicas (``train.batch_size``).
    """

    def __init__(self, strategy, model: keras.Model, global_batch: int):
        self.strategy = strategy
        self.model = model
        self.global_batch = int(global_batch)
        self.stopped = False  # Some worker asked to stop (a callback's stop_training or SIGTERM): all stopped.
        self.preempted = False  # That was SIGTERM.
        self._step, self._agree = self._functions()  # Traced once, kept over calls (a resumed run's two `fit`s).

    def _functions(self):
        """The step (``iterator -> mean logs``) and the agreement (``local stop flags -> their sum over replicas``)."""
        strategy, model = self.strategy, self.model
        first = lambda value: strategy.experimental_local_results(value)[0]

        def replica_step(batch):
            context = tf.distribute.get_replica_context()
            logs = model.train_step(batch)
            return {key: context.all_reduce(tf.distribute.ReduceOp.MEAN, tf.cast(value, tf.float32))
                    for key, value in logs.items() if value.shape.rank == 0}

        @tf.function
        def step(iterator):
            return {key: first(value) for key, value in strategy.run(replica_step, args=(next(iterator),)).items()}

        @tf.function
        def agree(flags):
            total = lambda local: tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, tf.identity(local))
            return first(strategy.run(total, args=(flags,)))

        return step, agree

    def __call__(self, dataset: tf.data.Dataset | Callable[[tuple[int, int]], tf.data.Dataset], initial_epoch: int = 0,
                 epochs: int = 1, steps_per_epoch: int = 1, callbacks=(), verbose="auto", shuffle=False,
                 **unused) -> keras.callbacks.History:
        """Trains epochs ``initial_epoch`` to ``epochs - 1`` of `steps_per_epoch` steps on `dataset`.

        Args:
            dataset: a factory ``rows -> dataset`` of endless batches holding rows ``(first, count)`` of every
                global batch (this worker's share, see `replica_batches`), or endless global batches, the
                same stream on every worker.
            initial_epoch: the first epoch's index.
            epochs: the index after the last epoch.
            steps_per_epoch: steps of each epoch.
            callbacks: the run's Keras callbacks.
            verbose: 0 silent, 1 or "auto" a progress bar, 2 one line per epoch.
            shuffle: ignored (the stream is shuffled already), as in the trainer's `fit` call.

        Returns:
            The `History` of the epochs trained.

        Raises:
            Preempted: SIGTERM reached a worker; every worker stopped after the same step and checkpointed.
        """
        distributed = self.strategy.distribute_datasets_from_function(
            lambda context: replica_batches(dataset, context, self.global_batch)
        )
        iterator = iter(distributed)
        history = keras.callbacks.History()
        verbose = 1 if verbose == "auto" else int(verbose)
        hooks = keras.callbacks.CallbackList(
            [*callbacks, history], add_progbar=verbose != 0, model=self.model, verbose=verbose, epochs=epochs,
            steps=steps_per_epoch,
        )
        self.model.stop_training = False
        logs = {}
        with _Sigterm() as sigterm:
            hooks.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                self.model.reset_metrics()
                hooks.on_epoch_begin(epoch)
                for batch in range(steps_per_epoch):
                    hooks.on_train_batch_begin(batch)
                    logs = {key: float(value) for key, value in self._step(iterator).items()}
                    hooks.on_train_batch_end(batch, logs)  # May stop training (TimeLimit): agreed next.
                    flags = self._agree(tf.constant([float(self.model.stop_training), float(sigterm.received)])).numpy()
                    self.preempted = bool(flags[1] > 0)
                    self.stopped = bool(flags.max() > 0)
                    if self.stopped:
                        break
                hooks.on_epoch_end(epoch, dict(logs))
                if self.stopped:
                    break
            hooks.on_train_end(dict(logs))
        if self.preempted:
            raise Preempted(f"Stopped on SIGTERM at step {int(self.model.step.numpy())}, after a checkpoint; --resume continues the run.")
        return history
