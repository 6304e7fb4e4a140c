"""Each replica's share of every global batch."""

from __future__ import annotations

import tensorflow as tf


def replica_batches(stream: tf.data.Dataset, context: tf.distribute.InputContext, global_batch: int) -> tf.data.Dataset:
    """The per-replica batches of one input pipeline (one worker), cut from each global batch of `stream`.

    Replica ``r`` (its ``replica_id_in_sync_group``) gets rows ``[r * b, (r + 1) * b)`` of every global
    batch, ``b = global_batch / replicas``: with every worker reading the same seeded stream, N
    replicas see together exactly the batches one process sees. This worker's replicas follow
    each other in the dataset (the strategy hands consecutive elements to its local devices).

    Args:
        stream: global batches (``train.batch_size`` examples each), the same on every worker.
        context: the `tf.distribute.InputContext` of this worker's pipeline.
        global_batch: examples per global batch.

    Raises:
        ValueError: `global_batch` does not split evenly over the replicas.
    """
    per_replica = context.get_per_replica_batch_size(global_batch)
    local = context.num_replicas_in_sync // context.num_input_pipelines
    first = context.input_pipeline_id * local * per_replica

    def shares(batch):
        def cut(tensor):
            rows = tensor[first : first + local * per_replica]
            if tensor.shape[1:].is_fully_defined():
                return tf.reshape(rows, [local, per_replica, *tensor.shape[1:]])
            return tf.reshape(rows, tf.concat([[local, per_replica], tf.shape(tensor)[1:]], axis=0))

        return tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(cut, batch))

    return stream.flat_map(shares).prefetch(tf.data.AUTOTUNE)
