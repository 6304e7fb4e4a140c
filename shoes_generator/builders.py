"""Config -> compiled model: the family builds its networks; these helpers set precision, optimizers and schedules."""

from __future__ import annotations

import contextlib

import keras

from shoes_generator.configs import ExperimentConfig
from shoes_generator.labels import Vocabularies
from shoes_generator.optimizers import FusedAdam


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Builds layers under `precision` ("float32", "mixed_bfloat16", "mixed_float16"), then restores the policy."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _learning_rate(config: ExperimentConfig, rate: float, steps_per_epoch: int | None):
    """`rate`, or pix2pix/CycleGAN's schedule: constant, then linear decay to 0 over the last `decay_epochs`."""
    train = config.train
    if not train.decay_epochs or not steps_per_epoch:
        return rate
    from shoes_generator.schedules import LinearDecay

    return LinearDecay(rate, (train.epochs - train.decay_epochs) * steps_per_epoch, train.decay_epochs * steps_per_epoch)


def compiled(model: keras.Model, config: ExperimentConfig, steps_per_epoch: int | None, *optimizers: str) -> keras.Model:
    """`model` compiled with one Adam (`FusedAdam`) per name in `optimizers` (the first at ``train.g_lr``, a second at
    ``train.d_lr``; both with the ``decay_epochs`` schedule), its optimizers built (ready to restore a checkpoint)."""
    train = config.train
    rates = (train.g_lr, train.d_lr)
    adams = {
        name: FusedAdam(_learning_rate(config, rate, steps_per_epoch), beta_1=train.beta_1, beta_2=train.beta_2)
        for name, rate in zip(optimizers, rates)
    }
    model.compile(**adams, jit_compile=train.jit_compile, steps_per_execution=train.steps_per_execution)
    model.build_optimizers()
    return model


def build_model(config: ExperimentConfig, vocabularies: Vocabularies | None = None, steps_per_epoch: int | None = None) -> keras.Model:
    """The compiled training model of `config`'s family (`GAN`, `Pix2Pix`, `CycleGAN`, `Segmenter`, ...).

    Args:
        config: the experiment.
        vocabularies: the data's label vocabularies (conditional families).
        steps_per_epoch: steps of one epoch (the learning-rate decay of ``train.decay_epochs``).
    """
    return config.family.build(config, vocabularies, steps_per_epoch)
