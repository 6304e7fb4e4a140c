"""Training on several devices and machines with `tf.distribute` (issue 19).

Keras 3 `model.fit` fails under `MultiWorkerMirroredStrategy` on TF 2.21 (keras#20585:
checked here with two loopback workers, "unsupported type PerReplica to a Tensor"), so a
distributed run trains with `DistributedFit`: the family's own `train_step` under
`strategy.run`, the run's Keras callbacks driven by hand. One process keeps `model.fit`.

- `strategy`: which strategy a process runs (``TF_CONFIG`` -> `MultiWorkerMirroredStrategy`,
  ``--devices N`` -> `MirroredStrategy`), and the `Worker` role (chief or not, scratch dir).
- `data`: each replica's share of every global batch.
- `loop`: `DistributedFit`, the training loop; SIGTERM on any worker stops all after a checkpoint.
- `launch`: ``shoes-train --workers N``: N local worker processes on loopback (no TensorFlow in the parent).

Nothing here imports TensorFlow at package import: `launch` runs without it.
"""

