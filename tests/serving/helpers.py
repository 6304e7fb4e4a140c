"""What the shoes-serve conformance tests share: official TF Serving stubs, request builders, extra servers."""

from __future__ import annotations

import contextlib
import io
import types

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2_grpc
from PIL import Image
from tensorflow_serving.apis import (
    get_model_status_pb2,
    model_management_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)
from tensorflow_serving.config import model_server_config_pb2

from tests.serving.conftest import VOCAB

SMALL_LIMIT = 4096  # bytes: the request limit of `spare_server`
COLORS = VOCAB.values("color")
CATEGORIES = VOCAB.values("category")


def stubs(server) -> types.SimpleNamespace:
    """``.predict`` (PredictionService), ``.model`` (ModelService) and ``.health`` stubs on a channel to `server`."""
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    return types.SimpleNamespace(
        channel=channel,
        predict=prediction_service_pb2_grpc.PredictionServiceStub(channel),
        model=model_service_pb2_grpc.ModelServiceStub(channel),
        health=health_pb2_grpc.HealthStub(channel),
    )


@contextlib.contextmanager
def connected(server):
    """`stubs` for the duration of a with block (the channel is closed after)."""
    connection = stubs(server)
    try:
        yield connection
    finally:
        connection.channel.close()


def shoes_request(seeds=(7,), colors=None, categories=None, *, model="shoes", version=None, label=None, signature="", truncation=None,
                  output_filter=()) -> predict_pb2.PredictRequest:
    """A serving_default PredictRequest: one example per seed (labels default to black sandals)."""
    request = predict_pb2.PredictRequest(output_filter=list(output_filter))
    set_model_spec(request.model_spec, model, version, label)
    if signature:
        request.model_spec.signature_name = signature
    request.inputs["seed"].CopyFrom(tf.make_tensor_proto(np.asarray(seeds, np.int64)))
    request.inputs["color"].CopyFrom(tf.make_tensor_proto(list(colors or ["black"] * len(seeds))))
    request.inputs["category"].CopyFrom(tf.make_tensor_proto(list(categories or ["sandal"] * len(seeds))))
    if truncation is not None:
        request.inputs["truncation"].CopyFrom(tf.make_tensor_proto(np.asarray(truncation, np.float32)))
    return request


def set_model_spec(spec, model: str, version: int | None = None, label: str | None = None) -> None:
    spec.name = model
    if version is not None:
        spec.version.value = version
    if label is not None:
        spec.version_label = label


def status_request(model="shoes", version=None, label=None) -> get_model_status_pb2.GetModelStatusRequest:
    request = get_model_status_pb2.GetModelStatusRequest()
    set_model_spec(request.model_spec, model, version, label)
    return request


def outputs(response) -> dict[str, np.ndarray]:
    return {alias: tf.make_ndarray(proto) for alias, proto in response.outputs.items()}


def grpc_error(call, request, code: grpc.StatusCode, *fragments: str) -> str:
    """Calls `call(request)`, checks it fails with `code` and a message holding every fragment; returns the message."""
    with pytest.raises(grpc.RpcError) as raised:
        call(request, timeout=30)
    assert raised.value.code() == code, raised.value.details()
    message = raised.value.details()
    for fragment in fragments:
        assert fragment in message
    return message


def assert_serving(client, seeds=(3,)) -> dict[str, np.ndarray]:
    """A good Predict still answers (after a bad one); returns its outputs."""
    response = client.predict.Predict(shoes_request(seeds), timeout=30)
    images = tf.make_ndarray(response.outputs["images"])
    assert images.shape == (len(seeds), 16, 16, 3) and images.dtype == np.uint8
    return outputs(response)


def png(width: int, height: int, value: int = 90) -> bytes:
    buffer = io.BytesIO()
    pixels = (np.arange(width * height * 3).reshape(height, width, 3) * value % 256).astype(np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def model_config(*models) -> model_server_config_pb2.ModelServerConfig:
    """A ModelServerConfig of ``(name, base_path, labels dict, specific versions or None)`` tuples."""
    config = model_server_config_pb2.ModelServerConfig()
    for name, base_path, labels, specific in models:
        entry = config.model_config_list.config.add(name=name, base_path=str(base_path), model_platform="tensorflow")
        entry.version_labels.update(labels)
        if specific is not None:
            entry.model_version_policy.specific.versions.extend(specific)
    return config


def reload_config(client, config) -> None:
    client.model.HandleReloadConfigRequest(model_management_pb2.ReloadConfigRequest(config=config), timeout=60)


@contextlib.contextmanager
def running_server(entries, **options):
    """A started ShoesServer on free ports (models polled only when asked), stopped on exit."""
    from serving.server.app import ShoesServer

    server = ShoesServer(entries, **{"port": 0, "rest_port": 0, "poll_seconds": 0, **options}).start()
    try:
        yield server
    finally:
        server.stop(grace=1)


@contextlib.contextmanager
def spare_server(model_base):
    """A second server over `model_base`, for tests that change server state: a SMALL_LIMIT request limit, and
    ``shoes`` labelled ``stable`` -> 1 by a HandleReloadConfigRequest. Yields ``(server, stubs)``."""
    from serving.server.model_store import entries_from_base

    with running_server(entries_from_base(model_base), max_request_bytes=SMALL_LIMIT) as running, connected(running) as connection:
        labelled = model_config(("shoes", model_base / "shoes", {"stable": 1}, None), ("sketch", model_base / "sketch", {}, None))
        reload_config(connection, labelled)
        yield running, connection
