"""Which `tf.distribute` strategy a training process runs, and its role in the cluster."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf


def cluster_workers(tf_config: str | None = None) -> int:
    """How many processes ``TF_CONFIG`` (or `tf_config`) names (0 when it is unset or empty).

    Raises:
        ValueError: ``TF_CONFIG`` is not JSON with a ``cluster`` and a ``task`` (the message quotes it).
    """
    text = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not text.strip():
        return 0
    try:
        spec = json.loads(text)
        cluster, task = spec["cluster"], spec["task"]
        count = sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
        if task["type"] not in ("chief", "worker") or not isinstance(task["index"], int):
            raise KeyError("task")
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", '
            f'"index": 0}} (type "chief" or "worker"). Received: TF_CONFIG={text!r} ({error!r})'
        ) from None
    return count


def make_strategy(devices: int = 1):
    """The strategy of this process, created before any other TensorFlow work.

    - ``TF_CONFIG`` naming processes: `MultiWorkerMirroredStrategy` (one replica per worker on
      CPUs, every local GPU otherwise); `devices` must then be 1.
    - ``devices > 1``: `MirroredStrategy` over that many GPUs, or, on a machine without GPUs,
      that many logical CPU devices (a try-out: they share the same cores).
    - otherwise None: one process, one device, plain `model.fit`.

    Args:
        devices: replicas on this machine (``shoes-train --devices``).

    Raises:
        ValueError: `devices` < 1, devices together with TF_CONFIG, fewer GPUs than `devices`, or a bad TF_CONFIG.
    """
    if isinstance(devices, bool) or not isinstance(devices, int) or devices < 1:
        raise ValueError(f"devices must be a positive int. Received: devices={devices!r}")
    if cluster_workers():
        if devices != 1:
            raise ValueError(
                f"Several devices per worker come from the GPUs each worker sees, not from --devices. Received: "
                f"devices={devices} with TF_CONFIG set"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices == 1:
        return None
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if len(gpus) < devices:
            raise ValueError(f"devices={devices} needs that many GPUs; this machine has {len(gpus)}.")
        return tf.distribute.MirroredStrategy([f"/gpu:{index}" for index in range(devices)])
    split_cpu(devices)
    return tf.distribute.MirroredStrategy([f"/cpu:{index}" for index in range(devices)])


def split_cpu(devices: int) -> None:
    """Splits the CPU into `devices` logical devices (before TensorFlow initializes them; again with the same count is a no-op).

    Raises:
        RuntimeError: TensorFlow's devices were initialized already with another split.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == devices:
        return
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)])


class Worker:
    """This process's role in a run: the chief writes the run directory; the others write a scratch copy they remove.

    Args:
        strategy: the run's strategy (None: one process, the chief).
    """

    def __init__(self, strategy=None):
        self.strategy = strategy
        resolver = getattr(strategy, "cluster_resolver", None)
        task_type, task_id = (resolver.task_type, resolver.task_id) if resolver is not None else (None, None)
        has_chief = bool(resolver is not None and resolver.cluster_spec().as_dict().get("chief"))
        self.index = int(task_id or 0)
        self.is_chief = task_type in (None, "chief") or (task_type == "worker" and task_id == 0 and not has_chief)
        self.scratch: Path | None = None

    @property
    def replicas(self) -> int:
        """Replicas of the whole run (1 without a strategy)."""
        return self.strategy.num_replicas_in_sync if self.strategy is not None else 1

    def scope(self):
        """The strategy's scope (variables mirrored on every replica), or a no-op without one."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def prepare(self, model):
        """`model` made to train on several replicas as on one (with one replica it is left as it is).

        - BatchNormalization layers synchronize their statistics over the replicas: those of the global batch.
        - Dropout layers become `ReplicaDropout`: each example's mask is the one a single process draws for it.

        So N replicas normalize and drop each example as one process does, and an equivalence test can hold
        them to equal weights. Both only change what training computes: no variable, no exported graph.
        """
        if self.replicas > 1:
            from shoes_generator.distribute.dropout import ReplicaDropout

            for layer in walk_layers(model):
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.synchronized = True
                elif type(layer) is keras.layers.Dropout:
                    layer.__class__ = ReplicaDropout  # The same layer and state, drawing per global example.
        return model

    def run_dir(self, chief_dir) -> Path:
        """Where this process writes: `chief_dir()` (called on the chief only) or a fresh scratch folder."""
        if self.is_chief:
            return Path(chief_dir())
        self.scratch = Path(tempfile.mkdtemp(prefix=f"shoes-train-worker{self.index}-"))
        return self.scratch

    def remove_scratch(self) -> None:
        """Removes this worker's scratch folder (nothing on the chief)."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None

    def check_batch(self, batch_size: int) -> None:
        """Raises ValueError unless the global `batch_size` splits evenly over the replicas."""
        if batch_size % self.replicas:
            raise ValueError(
                f"train.batch_size is the global batch and must split evenly over the {self.replicas} replicas. "
                f"Received: train.batch_size={batch_size}"
            )


def walk_layers(layer):
    """`layer` and every layer nested in it (sub-models' layers, a wrapper's networks), each once."""
    seen, stack = set(), [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(getattr(current, "layers", ()))
