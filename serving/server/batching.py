"""Server-side batching: concurrent requests to one signature run as one call.

Follows TF Serving's BatchingParameters: a batch closes when it holds
``max_batch_size`` examples or its oldest request has waited
``batch_timeout_micros``; ``num_batch_threads`` batches run at once; at most
``max_enqueued_batches`` batches wait (more is UNAVAILABLE, as in TF Serving).
With ``enable_large_batch_splitting``, requests of up to ``max_batch_size``
are split into batches of ``max_execution_batch_size``. As in TF Serving,
every input of a request must share its 0th dimension.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time

import grpc
import numpy as np

from serving.server.errors import ServingError, invalid_argument
from serving.server.servable import Servable, batch_size_of


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """The subset of TF Serving's BatchingParameters the local server honours."""

    max_batch_size: int = 32
    batch_timeout_micros: int = 2000
    num_batch_threads: int = 2
    max_enqueued_batches: int = 64
    enable_large_batch_splitting: bool = False
    max_execution_batch_size: int = 0  # 0: max_batch_size.

    @classmethod
    def from_proto(cls, params) -> "BatchingOptions":
        """From a parsed ``tensorflow.serving.BatchingParameters`` (unset fields keep these defaults)."""
        values = {}
        for field in dataclasses.fields(cls):
            if params.HasField(field.name):
                values[field.name] = getattr(params, field.name).value
        return cls(**values)

    def __post_init__(self):
        for name in ("max_batch_size", "batch_timeout_micros", "num_batch_threads", "max_enqueued_batches"):
            low = 0 if name == "batch_timeout_micros" else 1
            if getattr(self, name) < low:
                raise ValueError(f"Batching parameter {name} must be >= {low}. Received: {getattr(self, name)}")
        if self.max_execution_batch_size < 0:
            raise ValueError(f"Batching parameter max_execution_batch_size must be >= 0. Received: {self.max_execution_batch_size}")

    @property
    def execution_batch_size(self) -> int:
        """The most examples one run takes."""
        if self.enable_large_batch_splitting and self.max_execution_batch_size:
            return min(self.max_execution_batch_size, self.max_batch_size)
        return self.max_batch_size


class _Task:
    def __init__(self, servable: Servable, signature: str, inputs: dict[str, np.ndarray]):
        self.servable = servable
        self.signature = signature
        self.inputs = inputs
        self.size = batch_size_of(inputs)
        self.arrived = time.monotonic()
        self.done = threading.Event()
        self.outputs: dict[str, np.ndarray] | None = None
        self.error: ServingError | None = None


def _queue_key(servable: Servable, signature: str, inputs: dict[str, np.ndarray]) -> tuple:
    """Requests share a batch when they call the same signature with the same input layouts."""
    layout = tuple(sorted((name, value.dtype.str, value.shape[1:]) for name, value in inputs.items()))
    return (id(servable), signature, layout)


class Batcher:
    """Queues per (servable, signature, input layout) and worker threads that run merged batches.

    Args:
        options: batch size, timeout, threads and queue bound.
        metrics: where batch sizes are recorded (optional).
    """

    def __init__(self, options: BatchingOptions, metrics=None):
        self.options = options
        self.metrics = metrics
        self._queues: dict[tuple, collections.deque] = collections.OrderedDict()
        self._queued: dict[tuple, int] = {}  # Examples waiting per queue (kept with the queues: no sums per request).
        self._cond = threading.Condition()
        self._closed = False
        self.batch_sizes: collections.Counter = collections.Counter()
        self._threads = [threading.Thread(target=self._work, name=f"batch-{i}", daemon=True) for i in range(options.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    def run(self, servable: Servable, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Runs `inputs` as part of a batch and returns this request's rows of the outputs.

        Raises:
            ServingError: INVALID_ARGUMENT for a request larger than a batch, UNAVAILABLE when the queue is full.
        """
        sizes = {value.shape[0] if value.ndim else None for value in inputs.values()}
        if len(sizes) != 1 or None in sizes:
            shapes = {name: list(value.shape) for name, value in inputs.items()}
            raise invalid_argument(f"Batching session Run() input tensors must have equal 0th-dimension size. Received shapes: {shapes}")
        size = sizes.pop()
        if size == 0:
            return servable.run(signature, inputs)  # Nothing to batch.
        if size > self.options.max_batch_size:
            raise invalid_argument(f"Task size {size} is larger than maximum batch size {self.options.max_batch_size}")
        step = self.options.execution_batch_size
        tasks = [
            _Task(servable, signature, {name: value[start : start + step] for name, value in inputs.items()}) for start in range(0, size, step)
        ]
        key = _queue_key(servable, signature, inputs)
        with self._cond:
            if self._closed:
                raise ServingError(grpc.StatusCode.UNAVAILABLE, "The server is shutting down")
            if sum(self._queued.values()) + size > self.options.max_enqueued_batches * step:
                raise ServingError(grpc.StatusCode.UNAVAILABLE, "The batch scheduling queue to which this task was submitted is full")
            self._queues.setdefault(key, collections.deque()).extend(tasks)
            self._queued[key] = self._queued.get(key, 0) + size
            self._cond.notify_all()
        for task in tasks:
            task.done.wait()
        for task in tasks:
            if task.error is not None:
                raise task.error
        if len(tasks) == 1:
            return tasks[0].outputs
        return {name: np.concatenate([task.outputs[name] for task in tasks]) for name in tasks[0].outputs}

    def _next_batch(self) -> list[_Task] | None:
        """Waits for a batch that is full or timed out (caller holds the condition)."""
        timeout = self.options.batch_timeout_micros / 1e6
        while not self._closed:
            now = time.monotonic()
            ready, wake = None, None
            for key, queue in self._queues.items():
                if not queue:
                    continue
                due = queue[0].arrived + timeout
                if self._queued[key] >= self.options.execution_batch_size or due <= now:
                    ready = key
                    break
                wake = due if wake is None else min(wake, due)
            if ready is not None:
                queue, tasks, size = self._queues[ready], [], 0
                while queue and size + queue[0].size <= self.options.execution_batch_size:
                    size += queue[0].size
                    tasks.append(queue.popleft())
                self._queued[ready] -= size
                if not queue:
                    del self._queues[ready], self._queued[ready]  # Drops the last reference to an unloaded servable too.
                return tasks
            self._cond.wait(None if wake is None else max(wake - now, 0))
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                tasks = self._next_batch()
                if tasks is None:
                    return
            self._run_batch(tasks[0].servable, tasks[0].signature, tasks)

    def _run_batch(self, servable: Servable, signature: str, tasks: list[_Task]) -> None:
        total = sum(t.size for t in tasks)
        with self._cond:
            self.batch_sizes[total] += 1
        if self.metrics is not None:
            self.metrics.batch(servable.name, total)
        try:
            merged = {name: np.concatenate([t.inputs[name] for t in tasks]) for name in tasks[0].inputs}
            outputs = servable.run(signature, merged)
        except Exception as error:
            if not isinstance(error, ServingError):  # A bug must fail its batch, not kill the worker thread.
                error = ServingError(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")
            if len(tasks) == 1:
                tasks[0].error = error
                tasks[0].done.set()
                return
            for task in tasks:  # One bad request must not fail its neighbours: rerun each alone.
                self._run_batch(servable, signature, [task])
            return
        start = 0
        for task in tasks:
            task.outputs = {
                name: value[start : start + task.size] if value.ndim and value.shape[0] == total else value for name, value in outputs.items()
            }
            start += task.size
            task.done.set()

    def close(self) -> None:
        """Lets queued batches finish, then stops the worker threads."""
        with self._cond:
            while any(self._queues.values()):
                self._cond.wait(0.01)
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
