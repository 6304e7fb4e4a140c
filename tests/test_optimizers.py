"""`FusedAdam` (issue 19, the CPU step): Keras's Adam, each variable's update one `ResourceApplyAdam`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.optimizers import FusedAdam
from shoes_generator.schedules import LinearDecay


def _train(optimizer, steps=6, sparse=False, seed=0):
    """`steps` updates of two variables (and an embedding fed IndexedSlices when `sparse`) by seeded gradients."""
    rng = np.random.default_rng(seed)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32")) for shape in [(3, 4), (5,), (6, 2)]]
    apply = tf.function(lambda grads: optimizer.apply_gradients(zip(grads, variables)))
    for _ in range(steps):
        grads = [tf.constant(rng.normal(size=v.shape).astype("float32")) for v in variables[:2]]
        rows = tf.constant(rng.normal(size=(2, 2)).astype("float32"))
        last = tf.IndexedSlices(rows, tf.constant([1, 4]), tf.constant([6, 2])) if sparse else tf.scatter_nd([[1], [4]], rows, [6, 2])
        apply([*grads, last])
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("sparse", [False, True])
def test_fused_adam_takes_keras_adams_steps_with_a_schedule_and_sparse_gradients(sparse):
    schedule = lambda: LinearDecay(1e-2, 2, 4)
    fused = _train(FusedAdam(schedule(), beta_1=0.5, beta_2=0.99), sparse=sparse)
    keras_adam = _train(keras.optimizers.Adam(schedule(), beta_1=0.5, beta_2=0.99), sparse=sparse)
    untouched = _train(keras.optimizers.Adam(0.0), steps=1)[0]
    for mine, reference in zip(fused[0] + fused[1], keras_adam[0] + keras_adam[1]):
        np.testing.assert_allclose(mine, reference, atol=2e-6)
    assert np.abs(fused[0][0] - untouched[0]).max() > 1e-2  # The weights did move.


def test_fused_adam_restores_an_adam_checkpoint_and_falls_back_for_amsgrad(tmp_path):
    adam = keras.optimizers.Adam(1e-2)
    _train(adam, steps=3)
    path = tf.train.Checkpoint(optimizer=adam).write(str(tmp_path / "ckpt"))
    fused = FusedAdam(1e-2)
    fused.build([keras.Variable(np.zeros(shape, "float32")) for shape in [(3, 4), (5,), (6, 2)]])
    tf.train.Checkpoint(optimizer=fused).read(path).assert_consumed()
    for mine, reference in zip(fused.variables, adam.variables):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())
    again = keras.optimizers.deserialize(keras.optimizers.serialize(FusedAdam(3e-4, beta_1=0.5, amsgrad=True)))
    assert isinstance(again, FusedAdam) and (again.beta_1, again.amsgrad) == (0.5, True)
    np.testing.assert_allclose(_train(again, steps=3)[0][0], _train(keras.optimizers.Adam(3e-4, beta_1=0.5, amsgrad=True), steps=3)[0][0], atol=1e-6)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_each_variable_is_updated_by_one_resource_apply_adam_kernel_unless_amsgrad(amsgrad):
    optimizer = FusedAdam(1e-2, amsgrad=amsgrad)
    variables = [keras.Variable(np.ones(shape, "float32")) for shape in [(3, 4), (5,)]]
    optimizer.build(variables)
    apply = tf.function(lambda grads: optimizer.apply_gradients(zip(grads, variables)))
    graph = apply.get_concrete_function([tf.TensorSpec(v.shape, tf.float32) for v in variables]).graph
    kernels = [op for op in graph.get_operations() if op.type == "ResourceApplyAdam"]
    assert len(kernels) == (0 if amsgrad else 2)


def test_fused_adam_works_inside_a_loss_scale_optimizer():
    fused = _train(keras.optimizers.LossScaleOptimizer(FusedAdam(1e-2)), steps=3)[0]
    reference = _train(keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-2)), steps=3)[0]
    for mine, theirs in zip(fused, reference):
        np.testing.assert_allclose(mine, theirs, atol=2e-6)
