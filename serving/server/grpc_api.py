"""TF Serving's gRPC services over the core: PredictionService, ModelService and gRPC health."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import tensorflow as tf
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from serving.server.core import ServingCore
from serving.server.errors import ServingError, invalid_argument
from serving.server.model_store import entries_from_config

logger = logging.getLogger("shoes_serve")
SERVICES = ("tensorflow.serving.PredictionService", "tensorflow.serving.ModelService")


def model_spec_fields(spec) -> tuple[str, int | None, str | None]:
    """``(name, version or None, label or None)`` of a ModelSpec."""
    choice = spec.WhichOneof("version_choice")
    version = spec.version.value if choice == "version" else None
    label = spec.version_label if choice == "version_label" else None
    return spec.name, version, label


def to_arrays(protos, core: ServingCore, servable, signature_name: str) -> tuple[dict, dict[str, int]]:
    """TensorProtos -> arrays and the dtype each was sent as, checked before anything is decoded.

    A proto of a few bytes can declare millions of elements (TensorFlow repeats the last value, or zeros, to fill
    a declared shape), which decoding would allocate. So the names, dtypes and declared shapes are checked against
    the signature first, and the declared batch against ``--max-request-batch``: a tensor whose per-example shape
    the signature fixes can then hold at most max_request_batch examples' worth of elements. Where the signature
    leaves dimensions open, ``core.max_request_elements`` bounds the element count.

    Raises:
        ServingError: FAILED_PRECONDITION for an unknown signature; INVALID_ARGUMENT for a tensor that has the
            wrong name, dtype or shape, declares too many examples or elements, or does not decode.
    """
    signature = servable.signature(signature_name)
    servable.check_aliases(signature_name, protos)
    arrays, dtypes = {}, {}
    for alias, proto in protos.items():
        shape = [dim.size for dim in proto.tensor_shape.dim]
        servable.check_input(alias, signature.inputs[alias], shape, proto.dtype)
        if shape:
            core.check_batch(shape[0])
        declared = 1
        for size in shape:
            declared *= max(size, 0)
        if declared > core.max_request_elements:
            raise invalid_argument(f"Input {alias!r} declares {declared} elements; a request holds at most {core.max_request_elements}")
        try:
            arrays[alias] = tf.make_ndarray(proto)
        except Exception as error:
            raise invalid_argument(f"Input {alias!r} is not a valid TensorProto: {error}") from None
        dtypes[alias] = proto.dtype
    return arrays, dtypes


def fill_model_spec(spec, servable, signature_name: str = "") -> None:
    spec.name = servable.name
    spec.version.value = servable.version
    if signature_name:
        spec.signature_name = signature_name


def _abort(context, error: ServingError):
    context.abort(error.code, error.message)


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict and GetModelMetadata; Classify, Regress and MultiInference are UNIMPLEMENTED."""

    def __init__(self, core: ServingCore):
        self.core = core

    def Predict(self, request, context):
        name, version, label = model_spec_fields(request.model_spec)

        def call():
            servable = self.core.store.resolve(name, version, label)
            inputs, dtypes = to_arrays(request.inputs, self.core, servable, request.model_spec.signature_name)
            servable, signature, outputs = self.core.predict(
                name, version, label, request.model_spec.signature_name, inputs, dtypes, request.output_filter, servable=servable
            )
            response = predict_pb2.PredictResponse()
            fill_model_spec(response.model_spec, servable, signature)
            for alias, value in outputs.items():
                response.outputs[alias].CopyFrom(tf.make_tensor_proto(value))
            return response

        try:
            return self.core.timed(name, "grpc_predict", call)
        except ServingError as error:
            _abort(context, error)
        except Exception as error:  # A bug costs one request (INTERNAL, as REST answers it), not the caller's clarity.
            logger.exception("Predict failed")
            context.abort(grpc.StatusCode.INTERNAL, f"Internal error: {type(error).__name__}: {error}")

    def GetModelMetadata(self, request, context):
        try:
            return metadata_response(self.core, request)
        except ServingError as error:
            _abort(context, error)

    def _unimplemented(self, request, context, what: str):
        try:
            if request.HasField("model_spec"):
                self.core.store.resolve(*model_spec_fields(request.model_spec))
        except ServingError as error:
            _abort(context, error)
        context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{what} is not served by shoes-serve: its models have only predict signatures.")

    def Classify(self, request, context):
        self._unimplemented(request, context, "Classify")

    def Regress(self, request, context):
        self._unimplemented(request, context, "Regress")

    def MultiInference(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "MultiInference is not served by shoes-serve: its models have only predict signatures.")


def metadata_response(core: ServingCore, request):
    """GetModelMetadataResponse with the ``signature_def`` field, as TF Serving answers it.

    Raises:
        ServingError: INVALID_ARGUMENT without metadata fields or with an unsupported one; NOT_FOUND for the model.
    """
    fields = list(request.metadata_field)
    if not fields:
        raise invalid_argument("GetModelMetadataRequest must specify at least one metadata_field")
    unsupported = [f for f in fields if f != "signature_def"]
    if unsupported:
        raise invalid_argument(f"Metadata field {unsupported[0]} is not supported")
    servable = core.store.resolve(*model_spec_fields(request.model_spec))
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    fill_model_spec(response.model_spec, servable)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in servable.signature_defs.items():
        signature_map.signature_def[key].CopyFrom(signature)
    response.metadata["signature_def"].Pack(signature_map)
    return response


def status_response(core: ServingCore, request):
    """GetModelStatusResponse for a model (all versions) or one version.

    Raises:
        ServingError: NOT_FOUND for an unknown model or version; INVALID_ARGUMENT for an unknown label.
    """
    name, version, label = model_spec_fields(request.model_spec)
    if label:
        version = core.store.label_version(name, label)
    response = get_model_status_pb2.GetModelStatusResponse()
    for number, state in core.store.status(name, version):
        entry = response.model_version_status.add(version=number, state=get_model_status_pb2.ModelVersionStatus.State.Value(state.state))
        entry.status.SetInParent()  # TF Serving always reports a status (OK with an empty message).
        if state.error is not None:
            entry.status.error_code = state.error.error_code
            entry.status.error_message = state.error.message
    return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus and HandleReloadConfigRequest."""

    def __init__(self, core: ServingCore, config_dir: Path):
        self.core = core
        self.config_dir = config_dir

    def GetModelStatus(self, request, context):
        try:
            return status_response(self.core, request)
        except ServingError as error:
            _abort(context, error)

    def HandleReloadConfigRequest(self, request, context):
        try:
            entries = entries_from_config(request.config, self.config_dir)
        except ValueError as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
        self.core.store.reload(entries)
        logger.info("config reloaded: %s", ", ".join(e.name for e in entries))
        response = model_management_pb2.ReloadConfigResponse()
        response.status.SetInParent()  # OK, as TF Serving reports it.
        return response


def add_services(server: grpc.Server, core: ServingCore, config_dir: Path) -> health.HealthServicer:
    """Registers the three services on `server`; returns the health servicer (set NOT_SERVING on shutdown)."""
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionService(core), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(core, config_dir), server)
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    for service in ("",) + SERVICES:
        checker.set(service, health_pb2.HealthCheckResponse.SERVING)
    return checker
