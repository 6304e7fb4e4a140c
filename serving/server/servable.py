"""One loaded model version: its SignatureDefs, input checks in TF Serving's terms, and calls."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from serving.client import DEFAULT_SIGNATURE
from serving.server.errors import ServingError, from_tensorflow, invalid_argument
from shoes_generator.warmup import read_warmup_requests

logger = logging.getLogger("shoes_serve")

def read_signature_defs(path: str | Path) -> dict[str, meta_graph_pb2.SignatureDef]:
    """The SignatureDefs of the ``serve`` MetaGraph in ``<path>/saved_model.pb``."""
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((Path(path) / "saved_model.pb").read_bytes())
    for meta_graph in proto.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags or len(proto.meta_graphs) == 1:
            return dict(meta_graph.signature_def)
    raise ValueError(f"{path} has no MetaGraph tagged 'serve'")


def dtype_name(enum: int) -> str:
    return tf.dtypes.as_dtype(enum).name


def batch_size_of(inputs: dict[str, np.ndarray]) -> int:
    """The leading dimension shared by all inputs (1 for scalars)."""
    sizes = {int(value.shape[0]) if value.ndim else 1 for value in inputs.values()}
    return max(sizes) if sizes else 0


class Servable:
    """A SavedModel version loaded for serving.

    Args:
        name: the model name requests use.
        version: its version number.
        path: the version directory.
    """

    def __init__(self, name: str, version: int, path: str | Path):
        self.name = name
        self.version = version
        self.path = Path(path)
        self.signature_defs = read_signature_defs(self.path)
        self.model = tf.saved_model.load(str(self.path))
        self.functions = dict(self.model.signatures)
        self.defaults = {
            sig: {alias: tf.make_ndarray(proto) for alias, proto in signature.defaults.items()}
            for sig, signature in self.signature_defs.items()
        }
        # Per signature, what every request needs: the input dtypes and the input/default alias sets.
        self._input_dtypes = {
            sig: {alias: tf.dtypes.as_dtype(info.dtype) for alias, info in signature.inputs.items()}
            for sig, signature in self.signature_defs.items()
        }
        self._input_aliases = {sig: frozenset(signature.inputs) for sig, signature in self.signature_defs.items()}
        self._default_aliases = {sig: frozenset(signature.defaults) for sig, signature in self.signature_defs.items()}

    def warm_up(self) -> int:
        """Replays the export's ``tf_serving_warmup_requests``; returns how many ran.

        Raises:
            ServingError: a recorded request failed (the version is not fit to serve).
        """
        requests = read_warmup_requests(self.path)
        for request in requests:
            inputs = {alias: tf.make_ndarray(proto) for alias, proto in request.inputs.items()}
            signature = request.model_spec.signature_name or DEFAULT_SIGNATURE
            self.run(signature, self.prepare(signature, inputs, {alias: p.dtype for alias, p in request.inputs.items()}))
        return len(requests)

    def signature(self, signature_name: str) -> meta_graph_pb2.SignatureDef:
        """The SignatureDef called `signature_name` ("" means ``serving_default``).

        Raises:
            ServingError: FAILED_PRECONDITION when the model has no such signature.
        """
        name = signature_name or DEFAULT_SIGNATURE
        if name not in self.signature_defs or name not in self.functions:
            servable = [s for s in self.signature_defs if not s.startswith("__")]
            raise ServingError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f'Serving signature key "{name}" not found. Signatures of {self.name} version {self.version}: {", ".join(sorted(servable))}',
            )
        return self.signature_defs[name]

    def prepare(self, signature_name: str, inputs: dict[str, np.ndarray], sent_dtypes: dict[str, int] | None = None) -> dict[str, np.ndarray]:
        """Checks names, dtypes and shapes against the SignatureDef and fills in its defaults.

        Args:
            signature_name: the signature to call.
            inputs: input alias -> array.
            sent_dtypes: the ``DataType`` enum each input arrived with (gRPC); None when the
                arrays were already parsed with the signature's dtypes (REST).

        Raises:
            ServingError: INVALID_ARGUMENT for missing, extra, mistyped or misshaped inputs.
        """
        signature = self.signature(signature_name)
        signature_name = signature_name or DEFAULT_SIGNATURE
        self.check_aliases(signature_name, inputs)
        prepared = {}
        for alias, info in signature.inputs.items():
            if alias not in inputs:
                continue
            value = inputs[alias]
            self.check_input(alias, info, value.shape, sent_dtypes.get(alias) if sent_dtypes else None)
            prepared[alias] = value
        for alias, default in self.defaults[signature_name].items():
            prepared.setdefault(alias, default)  # As TF Serving: the default as recorded, not broadcast.
        return prepared

    def check_aliases(self, signature_name: str, aliases) -> None:
        """Refuses input names the signature does not take, or without a required one.

        Raises:
            ServingError: INVALID_ARGUMENT naming the extra and missing inputs.
        """
        signature = self.signature(signature_name)
        signature_name = signature_name or DEFAULT_SIGNATURE
        expected = self._input_aliases[signature_name]
        extra = sorted(set(aliases) - expected)
        missing = sorted(expected - set(aliases) - self._default_aliases[signature_name])
        if extra or missing:
            raise invalid_argument(
                f"Inputs of signature {signature_name!r} are {{{', '.join(sorted(expected))}}}"
                f" (defaults: {{{', '.join(sorted(signature.defaults))}}}). Sent extra: {{{', '.join(extra)}}}. "
                f"Missing but required: {{{', '.join(missing)}}}."
            )

    @staticmethod
    def check_input(alias: str, info, shape, sent_dtype: int | None = None) -> None:
        """Refuses an input whose dtype (when `sent_dtype` is given) or shape the TensorInfo `info` does not take.

        Raises:
            ServingError: INVALID_ARGUMENT saying what was expected.
        """
        if sent_dtype is not None and sent_dtype != info.dtype:
            raise invalid_argument(f"Input {alias!r} expects {dtype_name(info.dtype)} but {dtype_name(sent_dtype)} was provided")
        if info.tensor_shape.unknown_rank:
            return
        dims = [d.size for d in info.tensor_shape.dim]
        if len(shape) != len(dims) or any(want not in (-1, got) for want, got in zip(dims, shape)):
            wanted = "[" + ", ".join("?" if d == -1 else str(d) for d in dims) + "]"
            raise invalid_argument(f"Input {alias!r} must have shape {wanted}. Received shape: {list(shape)}")

    def run(self, signature_name: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Calls the signature on prepared inputs; TensorFlow errors keep their code and message."""
        signature_name = signature_name or DEFAULT_SIGNATURE
        if signature_name not in self.functions or signature_name not in self.signature_defs:
            self.signature(signature_name)  # raises FAILED_PRECONDITION
        function, dtypes = self.functions[signature_name], self._input_dtypes[signature_name]
        try:
            tensors = {alias: tf.constant(value, dtype=dtypes[alias]) for alias, value in inputs.items()}
            outputs = function(**tensors)
        except tf.errors.OpError as error:
            raise from_tensorflow(error) from None
        except (TypeError, ValueError) as error:
            raise invalid_argument(str(error).splitlines()[0]) from None
        return {alias: value.numpy() for alias, value in outputs.items()}


def select_outputs(signature: meta_graph_pb2.SignatureDef, outputs: dict[str, np.ndarray], output_filter) -> dict[str, np.ndarray]:
    """Keeps the outputs a request's ``output_filter`` names (all when it is empty).

    Raises:
        ServingError: INVALID_ARGUMENT for an unknown or repeated alias.
    """
    if not output_filter:
        return outputs
    wanted = list(output_filter)
    if len(set(wanted)) != len(wanted):
        raise invalid_argument(f"duplicate output tensor alias in output_filter: {wanted}")
    unknown = [alias for alias in wanted if alias not in signature.outputs]
    if unknown:
        raise invalid_argument(
            f"output tensor alias not found in signature: {', '.join(unknown)}. Outputs expected to be in the set "
            f"{{{', '.join(sorted(signature.outputs))}}}."
        )
    return {alias: outputs[alias] for alias in wanted}


def load_servable(name: str, version: int, path: str | Path) -> Servable:
    """Loads and warms up a version; any failure is reported as a ServingError to keep in its status."""
    started = time.monotonic()
    try:
        servable = Servable(name, version, path)
        count = servable.warm_up()
    except ServingError:
        raise
    except Exception as error:  # A corrupt or half-copied version: keep the reason, serve the others.
        raise ServingError(grpc.StatusCode.DATA_LOSS if isinstance(error, (OSError, ValueError)) else grpc.StatusCode.INTERNAL,
                           f"Failed to load {name} version {version} from {path}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from None
    logger.info("loaded %s version %d (%d warm-up requests) in %.1f s", name, version, count, time.monotonic() - started)
    return servable
