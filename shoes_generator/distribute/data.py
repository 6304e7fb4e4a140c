"""Each worker's share of every global batch, and each of its replicas' share of that.

Every worker reads the same seeded stream of global batches (``train.batch_size`` examples) but
builds only its own rows of each: `worker_rows` names them, `TrainingData.stream` keeps them right
after batching, before decoding (uncached file sources) and augmentation, which run for those rows
alone with the seeds they have in the global batch. `replica_batches` then hands consecutive
per-replica batches to the worker's local replicas, so N replicas see together exactly the batches
one process sees.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf


def worker_rows(context: tf.distribute.InputContext, global_batch: int) -> tuple[int, int]:
    """``(first, count)``: the rows of every global batch that this worker's replicas train on.

    Replica ``r`` (its ``replica_id_in_sync_group``) takes rows ``[r * b, (r + 1) * b)``,
    ``b = global_batch / replicas``; a worker's replicas are consecutive, so its rows are too.

    Args:
        context: the `tf.distribute.InputContext` of this worker's pipeline.
        global_batch: examples per global batch.

    Raises:
        ValueError: `global_batch` does not split evenly over the replicas.
    """
    per_replica = context.get_per_replica_batch_size(global_batch)
    local = context.num_replicas_in_sync // context.num_input_pipelines
    return context.input_pipeline_id * local * per_replica, local * per_replica


def replica_batches(
    source: tf.data.Dataset | Callable[[tuple[int, int]], tf.data.Dataset],
    context: tf.distribute.InputContext,
    global_batch: int,
) -> tf.data.Dataset:
    """The per-replica batches of one input pipeline (one worker), one local replica after the other.

    The strategy hands consecutive elements to the worker's local devices, so each global batch
    becomes ``local replicas`` elements of ``global_batch / replicas`` rows (see `worker_rows`).

    Args:
        source: a stream factory, ``rows -> dataset`` yielding only these rows ``(first, count)``
            of every global batch (`TrainingData.stream` with ``rows``: the worker decodes and
            augments its rows alone); or global batches, the same on every worker, cut here.
        context: the `tf.distribute.InputContext` of this worker's pipeline.
        global_batch: examples per global batch.

    Raises:
        ValueError: `global_batch` does not split evenly over the replicas.
    """
    per_replica = context.get_per_replica_batch_size(global_batch)
    first, count = worker_rows(context, global_batch)
    if callable(source):
        stream, first = source((first, count)), 0
    else:
        stream = source
    local = count // per_replica

    def shares(batch):
        def cut(tensor):
            rows = tensor[first : first + count]
            if tensor.shape[1:].is_fully_defined():
                return tf.reshape(rows, [local, per_replica, *tensor.shape[1:]])
            return tf.reshape(rows, tf.concat([[local, per_replica], tf.shape(tensor)[1:]], axis=0))

        return tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(cut, batch))

    return stream.flat_map(shares).prefetch(tf.data.AUTOTUNE)
