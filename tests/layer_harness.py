"""One test harness for the custom Keras layers and the network builders (in the spirit of keras-hub's
`TestCase.run_layer_test`).

`run_layer_test(layer_class, init_kwargs, input_data, expected_output_shape, ...)` checks a layer:

- output shape, eager and symbolic (`compute_output_shape` / a functional model's output shape);
- a `get_config` / `from_config` round trip through JSON and the registered name: every
  constructor argument is in the config, the revived layer has the same config and, on the
  same weights, gives the same output;
- a `.keras` save and reload inside a tiny functional model: same output, the state left by
  one call (weights, counters, RNG) carried over, and the dtype policy kept;
- `mixed_bfloat16` and `mixed_float16`: variables stay float32, the output is float32 where
  the layer promises it (``float32_output=True``), else in the policy's compute dtype.

`run_builder_test(builder, kwargs, inputs, expected_output_shape, ...)` checks a network
builder under "float32", "mixed_bfloat16" and "mixed_float16" (through its ``dtype``
argument when it has one, else built inside that global policy, which is restored after):

- a builder with a ``dtype`` argument gives the same layer dtypes inside the global policy;
- every layer with weights computes in the policy's dtype, except those named in ``float32_layers``;
- the output shape, and float32 outputs (``float32_output``, the default);
- `keras.Model.from_config(model.get_config())` and `keras.models.clone_model` on the same
  weights give the same outputs and layer dtype policies;
- a `.keras` save and reload gives identical outputs and the same layer dtype policies.

To cover a new layer or builder, add one entry to the parametrize list of
`tests/models/test_layer_harness.py` (or `tests/gans/test_image_pool.py` for the pool):
the class or builder, its (tiny) arguments, an input and the expected output shape.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Callable, Iterable

import keras
import numpy as np

from shoes_generator.builders import dtype_policy

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
MIXED_POLICIES = POLICIES[1:]


def _tree(x) -> list:
    return [np.asarray(v) for v in keras.tree.flatten(x)]


def _shapes(x) -> list[tuple]:
    return [tuple(v.shape) for v in keras.tree.flatten(x)]


def _expected_shapes(expected) -> list[tuple]:
    """`expected` as a list of shapes: one shape (a tuple of ints or None) or a structure of them."""
    if isinstance(expected, tuple) and all(d is None or isinstance(d, int) for d in expected):
        return [expected]
    return [tuple(s) for s in expected]


def _assert_same(actual, expected, what: str) -> None:
    actual, expected = _tree(actual), _tree(expected)
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected):
        np.testing.assert_array_equal(a.astype("float32"), e.astype("float32"), err_msg=what)


def _symbolic_inputs(data, cast_to: str | None = None):
    """`keras.Input`s (no batch size) with the structure, shapes and dtypes of `data`."""

    def one(value):
        value = np.asarray(value)
        dtype = cast_to if cast_to and np.issubdtype(value.dtype, np.floating) else value.dtype.name
        return keras.Input(shape=value.shape[1:], dtype=dtype)

    return keras.tree.map_structure(one, data)


def _cast(data, dtype: str):
    """Float arrays of `data` in `dtype` (what an upstream layer of a mixed policy hands on)."""
    return keras.tree.map_structure(
        lambda v: keras.ops.cast(v, dtype) if np.issubdtype(np.asarray(v).dtype, np.floating) else v, data
    )


def _round_trip_config(obj) -> dict:
    """The serialized `obj` after a JSON round trip, as a `.keras` file stores it."""
    return json.loads(json.dumps(keras.saving.serialize_keras_object(obj)))


def run_layer_test(
    layer_class: type,
    init_kwargs: dict[str, Any],
    input_data,
    expected_output_shape,
    tmp_path: Path,
    float32_output: bool = False,
    expected_output=None,
    tolerance: float = 0.0,
    policies: Iterable[str] = POLICIES,
) -> None:
    """Checks shape, config round trip, `.keras` round trip and mixed precision of one custom layer.

    Args:
        layer_class: the layer class (registered as Keras serializable).
        init_kwargs: its constructor arguments (all of them must show in `get_config`).
        input_data: a numpy array or a list / dict of them, batch first.
        expected_output_shape: the output shape with the batch size of `input_data`.
        tmp_path: a folder for the `.keras` files.
        float32_output: the layer promises a float32 output under every policy.
        expected_output: the float32 policy's output, where known.
        tolerance: how far the output may lie from `expected_output` (0: exactly; the round trips are always exact).
        policies: the dtype policies to run under.
    """
    expected_shapes = _expected_shapes(expected_output_shape)
    for policy in policies:
        kwargs = {**init_kwargs, "dtype": policy}
        compute = keras.DTypePolicy(policy).compute_dtype
        data = _cast(input_data, compute)
        where = f"{layer_class.__name__} under {policy}"

        # Shape, eager and symbolic.
        layer = layer_class(**kwargs)
        symbolic = _symbolic_inputs(input_data, compute)
        model = keras.Model(symbolic, layer(symbolic))
        assert [s[1:] for s in _shapes(model.outputs)] == [s[1:] for s in expected_shapes], where
        assert [s[0] for s in _shapes(model.outputs)] == [None] * len(expected_shapes), f"{where}: a static batch size"
        if len(expected_shapes) == 1 and layer_class.compute_output_shape is not keras.layers.Layer.compute_output_shape:
            in_shapes = keras.tree.map_structure(lambda t: tuple(t.shape), symbolic)
            assert tuple(layer.compute_output_shape(in_shapes)) == tuple(model.outputs[0].shape), where
        # A twin from the config, built and on the same weights before either layer runs (stateful layers).
        config = _round_trip_config(layer)
        for key in init_kwargs:
            assert key in config["config"], f"{where}: get_config misses {key!r}"
        twin = keras.saving.deserialize_keras_object(config)
        assert type(twin) is layer_class, where
        assert _round_trip_config(twin) == config, f"{where}: the config changes on a round trip"
        twin_symbolic = _symbolic_inputs(input_data, compute)
        twin_model = keras.Model(twin_symbolic, twin(twin_symbolic))
        twin.set_weights(layer.get_weights())

        output = model(data)
        assert _shapes(output) == expected_shapes, where
        for value in _tree(output):
            assert value.dtype.name == ("float32" if float32_output else compute), f"{where}: output {value.dtype}"
            assert np.isfinite(value.astype("float32")).all(), where
        _assert_same(twin_model(data), output, f"{where}: from_config gives another output")
        if expected_output is not None and policy == "float32":
            np.testing.assert_allclose(_tree(output)[0], expected_output, rtol=tolerance, atol=tolerance, err_msg=where)

        # Variables stay float32 under a mixed policy; the policy itself survives a config round trip.
        for variable in layer.weights:
            if "float" in variable.dtype:
                assert variable.dtype == "float32", f"{where}: variable {variable.path} is {variable.dtype}"
        assert twin.dtype_policy.name == layer.dtype_policy.name, where

        # `.keras`: after one call above (stateful layers have moved on), save, reload, call both again.
        path = tmp_path / f"{layer_class.__name__}_{policy}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        _assert_same(loaded(data), model(data), f"{where}: the reloaded .keras model differs")
        (revived,) = [l for l in loaded.layers if isinstance(l, layer_class)]
        assert revived.dtype_policy.name == layer.dtype_policy.name, where


def _layers(model: keras.Model):
    """Every layer of `model`, nested models' layers included (not the models themselves)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def _policies(model: keras.Model) -> dict[str, str]:
    return {layer.path if hasattr(layer, "path") else layer.name: layer.dtype_policy.name for layer in _layers(model)}


def build_under(builder: Callable[..., keras.Model], kwargs: dict[str, Any], policy: str, argument: bool = True) -> keras.Model:
    """`builder(**kwargs)` under `policy`: through its ``dtype`` argument when it has one and `argument`,
    else inside that global policy (restored after)."""
    if argument and "dtype" in inspect.signature(builder).parameters:
        return builder(**kwargs, dtype=None if policy == "float32" else policy)
    with dtype_policy(policy):
        return builder(**kwargs)


def run_builder_test(
    builder: Callable[..., keras.Model],
    kwargs: dict[str, Any],
    inputs,
    expected_output_shape,
    tmp_path: Path,
    float32_output: bool = True,
    float32_layers: Iterable[str] = (),
    policies: Iterable[str] = POLICIES,
) -> None:
    """Checks a network builder under each dtype policy: layer dtypes, output shape and dtype,
    `from_config` and `.keras` round trips.

    Args:
        builder: the `build_*` function.
        kwargs: its (tiny) arguments, ``dtype`` left out.
        inputs: the model's input (numpy, or a dict / list of arrays), batch first.
        expected_output_shape: the output shape with the batch size of `inputs`.
        tmp_path: a folder for the `.keras` files.
        float32_output: every output is float32 under every policy.
        float32_layers: names of layers with weights that stay float32 under a mixed policy.
        policies: the dtype policies to run under.
    """
    expected_shapes = _expected_shapes(expected_output_shape)
    float32_layers = set(float32_layers)
    before = keras.mixed_precision.global_policy().name
    for policy in policies:
        where = f"{builder.__name__} under {policy}"
        keras.utils.set_random_seed(0)
        model = build_under(builder, kwargs, policy)
        assert keras.mixed_precision.global_policy().name == before, f"{where}: the global policy changed"
        compute = keras.DTypePolicy(policy).compute_dtype
        weighted = [layer for layer in _layers(model) if layer.weights]
        wrong = [
            layer.name
            for layer in weighted
            if layer.compute_dtype != ("float32" if layer.name in float32_layers else compute)
        ]
        assert not wrong, f"{where}: layers computing in the wrong dtype: {wrong}"
        assert all(v.dtype == "float32" for v in model.weights if "float" in v.dtype), f"{where}: non-float32 variables"
        if "dtype" in inspect.signature(builder).parameters:  # The trainer builds some inside the global policy instead.
            scoped = build_under(builder, kwargs, policy, argument=False)
            assert _policies(scoped) == _policies(model), f"{where}: the global policy gives other layer dtypes than dtype="

        output = model(inputs, training=False)
        assert _shapes(output) == expected_shapes, where
        assert [s[1:] for s in _shapes(model.outputs)] == [s[1:] for s in expected_shapes], where
        for value in _tree(output):
            if float32_output:
                assert value.dtype == "float32", f"{where}: output {value.dtype}"
            assert np.isfinite(value.astype("float32")).all(), where

        for how, clone in (
            ("from_config", keras.Model.from_config(model.get_config())),
            ("clone_model", keras.models.clone_model(model)),  # Layer by layer.
        ):
            clone.set_weights(model.get_weights())
            assert _policies(clone) == _policies(model), f"{where}: {how} changes dtype policies"
            _assert_same(clone(inputs, training=False), output, f"{where}: {how} gives another output")

        path = tmp_path / f"{builder.__name__}_{policy}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path)
        assert _policies(loaded) == _policies(model), f"{where}: the .keras file changes dtype policies"
        _assert_same(loaded(inputs, training=False), output, f"{where}: the reloaded .keras model differs")
