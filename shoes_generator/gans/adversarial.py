"""`AdversarialModel`: what every two-player `keras.Model` wrapper (`GAN`, `Pix2Pix`, `CycleGAN`) shares.

A subclass declares its networks (`NETWORK_KEYS`, constructor arguments that are
`keras.Model`s) and its logged losses (`TRACKED`), and writes its own `train_step`.
The base owns the rest:

- `compile(g_optimizer, d_optimizer, **fit_options)`: the two named optimizers, each
  wrapped in `LossScaleOptimizer` when a network computes in float16 (Keras wraps only
  `self.optimizer`, which these models do not use: it stays None);
- `build_optimizers()` (slots created before a checkpoint is restored),
  `get_compile_config` / `compile_from_config` (a `.keras` file reloads them);
- the int64 `step` counter, the loss trackers and `metrics`;
- `get_config` / `from_config` of the networks;
- `checkpoint_objects()`: everything a resumed run restores (networks, optimizers,
  step, and what the subclass adds through `extra_checkpoint_objects`: EMA copy,
  image pools, RNG states).
"""

from __future__ import annotations

import keras
import tensorflow as tf

OPTIMIZERS = ("g_optimizer", "d_optimizer")


def computes_in_float16(*models: keras.Model) -> bool:
    """Whether any layer of `models` computes in float16 (loss scaling needed)."""
    return any(layer.dtype_policy.compute_dtype == "float16" for model in models for layer in model.layers)


def scaled_loss(optimizer, loss):
    """The loss to differentiate: scaled under a `LossScaleOptimizer` (call inside the tape)."""
    return optimizer.scale_loss(loss) if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else loss


def apply_gradients(optimizer, tape: tf.GradientTape, loss, variables: list) -> None:
    """One update of `variables` by `optimizer` from the gradients of `loss` (scaled by `scaled_loss`) on `tape`.

    Under a `tf.distribute` strategy of N replicas the optimizer sums the replicas' gradients; each
    replica's loss is a mean over its share of the global batch, so its gradients are divided by N
    first: the update is the one of the global batch's mean loss, as in one process.
    """
    gradients = tape.gradient(loss, variables)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas > 1:
        gradients = [None if gradient is None else tf.math.scalar_mul(1.0 / replicas, gradient) for gradient in gradients]
    optimizer.apply_gradients(zip(gradients, variables))


def replicas_in_sync() -> int:
    """The replica count of the current replica context: 1 in one process (and in a cross-replica context)."""
    context = tf.distribute.get_replica_context()
    return context.num_replicas_in_sync if context is not None else 1


def cross_replica_sum(value):
    """`value` summed over the replicas of the current replica context (`value` itself with one replica).

    Differentiable (the gradient of an all-sum is an all-sum). Under `MirroredStrategy` it must not run
    inside a `tf.cond` branch (a synchronization point in control flow): call it on the branch's outputs.

    Args:
        value: a tensor (or nest of tensors), the same structure on every replica.
    """
    if replicas_in_sync() == 1:
        return value
    return tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, value)


def replica_share(draw, batch_size):
    """This replica's rows of a per-example random draw, the same for example j of a global batch whatever the replica count.

    Under N replicas (their seed states mirrored, so every replica draws alike) each replica draws
    the global batch's ``N * batch_size`` rows and keeps its own, those of the examples it holds
    (`shoes_generator.distribute.data.replica_batches`); one process draws its batch as before.

    Args:
        draw: ``rows -> [rows, ...]``, a seeded draw (e.g. ``lambda n: keras.random.normal([n, d], seed=...)``).
        batch_size: this replica's examples (a scalar tensor or int).
    """
    replicas = replicas_in_sync()
    if replicas == 1:
        return draw(batch_size)
    return replica_rows(draw(batch_size * replicas), batch_size)


def replica_rows(values, batch_size):
    """This replica's `batch_size` rows of `values`, computed over the global batch (the replicas' rows in replica order).

    Call it in a replica context of several replicas (`replica_share`, `ImagePool.query` on the gathered batch).
    """
    start = tf.cast(tf.distribute.get_replica_context().replica_id_in_sync_group, tf.int32) * batch_size
    return values[start : start + batch_size]


class AdversarialModel(keras.Model):
    """Base of the two-player wrappers: optimizers, step, trackers, configs and checkpoint contents.

    Subclasses set `NETWORK_KEYS` and `TRACKED`, assign the networks as attributes of
    those names in `__init__` (after calling this `__init__`), and override
    `generator_variables` / `discriminator_variables` when the two players are not
    ``self.generator`` and ``self.discriminator``.

    Args:
        **kwargs: `keras.Model` arguments (e.g. ``name``).
    """

    NETWORK_KEYS: tuple[str, ...] = ("generator", "discriminator")
    TRACKED: tuple[str, ...] = ()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.step = keras.Variable(0, dtype="int64", trainable=False, name="step")
        self.g_optimizer = None
        self.d_optimizer = None
        self._compile_options = {}
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.TRACKED}

    # ---------------------------------------------------------------- networks
    @property
    def networks(self) -> tuple[keras.Model, ...]:
        """The networks, in `NETWORK_KEYS` order."""
        return tuple(getattr(self, name) for name in self.NETWORK_KEYS)

    @property
    def uses_float16(self) -> bool:
        """Whether a network computes in float16 (both optimizers then scale their losses)."""
        return computes_in_float16(*self.networks)

    @property
    def generator_variables(self) -> list:
        """What `g_optimizer` updates."""
        return self.generator.trainable_variables

    @property
    def discriminator_variables(self) -> list:
        """What `d_optimizer` updates."""
        return self.discriminator.trainable_variables

    @property
    def metrics(self):
        return list(self.trackers.values())

    def build(self, input_shape=None):
        self.built = True

    # ----------------------------------------------------------------- compile
    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """Sets the generator and discriminator optimizers (LossScaleOptimizer under float16).

        Args:
            g_optimizer: the generator side's optimizer (default Adam(2e-4, beta_1=0.5)).
            d_optimizer: the discriminator side's optimizer (same default).
            **kwargs: `keras.Model.compile` options such as `jit_compile`,
                `steps_per_execution`, `run_eagerly`.
        """
        super().compile(optimizer=None, **kwargs)  # Keras's own optimizer stays None: these two do the work.
        self.g_optimizer = self._prepare_optimizer(g_optimizer)
        self.d_optimizer = self._prepare_optimizer(d_optimizer)
        self._compile_options = dict(kwargs)

    def _prepare_optimizer(self, optimizer):
        if optimizer is None:
            optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        elif isinstance(optimizer, (str, dict)):
            optimizer = keras.optimizers.get(optimizer)
        if self.uses_float16 and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def build_optimizers(self) -> None:
        """Creates both optimizers' slot variables now (before restoring a checkpoint, or under a strategy scope)."""
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator_variables)

    def get_compile_config(self):
        if self.g_optimizer is None:
            return None
        return {name: keras.saving.serialize_keras_object(getattr(self, name)) for name in OPTIMIZERS} | self._compile_options

    def compile_from_config(self, config):
        config = dict(config)
        optimizers = {name: keras.saving.deserialize_keras_object(config.pop(name)) for name in OPTIMIZERS}
        self.compile(**optimizers, **config)
        self.build_optimizers()

    # -------------------------------------------------------------- the steps
    def _batch(self, data, keys) -> dict:
        """The batch dict of `fit`'s `data` (a dict, or a tuple whose first item is one), with every one of `keys`.

        Raises:
            ValueError: a key is missing (the message names the keys needed and the missing ones).
        """
        if isinstance(data, tuple):
            data = data[0]
        missing = [key for key in keys if key not in data]
        if missing:
            raise ValueError(f"{type(self).__name__} batches need the keys {list(keys)}. Missing: {missing}")
        return data

    def _track(self, **values):
        """Updates the named trackers with `values`; returns their running means (the step's logs)."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: self.trackers[name].result() for name in values}

    # -------------------------------------------------------------- checkpoints
    def extra_checkpoint_objects(self) -> dict:
        """What a subclass's checkpoint holds beyond networks, optimizers and step (EMA copy, pools, RNG states)."""
        return {}

    def checkpoint_objects(self, optimizers: bool = True) -> dict:
        """Everything a resumed run restores, by the names checkpoints have always used.

        Args:
            optimizers: False leaves the optimizers out (an export restores only what it exports).
        """
        objects = {"step": self.step, **dict(zip(self.NETWORK_KEYS, self.networks)), **self.extra_checkpoint_objects()}
        if optimizers:
            objects.update({name: getattr(self, name) for name in OPTIMIZERS})
        return {name: value for name, value in objects.items() if value is not None}

    # ------------------------------------------------------------ serialization
    def get_config(self):
        networks = {name: keras.saving.serialize_keras_object(network) for name, network in zip(self.NETWORK_KEYS, self.networks)}
        return {**super().get_config(), **networks}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.NETWORK_KEYS:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
