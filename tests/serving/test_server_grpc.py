"""shoes-serve over gRPC, spoken to with the official tensorflow_serving.apis stubs: every route, TF Serving's status codes."""

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import (
    classification_pb2,
    get_model_metadata_pb2,
    get_model_status_pb2,
    inference_pb2,
    model_management_pb2,
    predict_pb2,
    regression_pb2,
)

from tests.serving.helpers import (
    SMALL_LIMIT,
    assert_serving,
    connected,
    decode_png,
    grpc_error,
    outputs,
    png,
    set_model_spec,
    shoes_request,
    spare_server,
    status_request,
)

INVALID, NOT_FOUND = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND


@pytest.fixture(scope="module")
def client(server):
    with connected(server) as connection:
        yield connection


@pytest.fixture(scope="module")
def spare(model_base):
    """The stubs of a `spare_server` (4 KiB request limit, label ``stable``)."""
    with spare_server(model_base) as (_, connection):
        yield connection


def with_input(request, alias, value):
    request.inputs[alias].CopyFrom(tf.make_tensor_proto(value))
    return request


def with_proto(request, alias, **fields):
    """`request` with input `alias` replaced by a raw TensorProto (2 int64 values) built from `fields`."""
    request.inputs[alias].CopyFrom(tensor_pb2.TensorProto(dtype=tf.int64.as_datatype_enum, tensor_shape={"dim": [{"size": 2}]}, **fields))
    return request


def without_input(request, alias):
    del request.inputs[alias]
    return request


def metadata_request(model="shoes", fields=("signature_def",), version=None):
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=list(fields))
    set_model_spec(request.model_spec, model, version)
    return request


BAD_PREDICTS = {
    "unknown model": (shoes_request(model="boots"), NOT_FOUND, ["boots"]),
    "unknown version": (shoes_request(version=7), NOT_FOUND, ["shoes", "7"]),
    "unknown label": (shoes_request(label="canary"), INVALID, ["canary"]),
    "unknown signature": (shoes_request(signature="serving_nope"), grpc.StatusCode.FAILED_PRECONDITION, ["serving_nope"]),
    "wrong input name": (with_input(shoes_request(), "colour", ["black"]), INVALID, ["colour"]),
    "missing input": (without_input(shoes_request(), "color"), INVALID, ["color"]),
    "wrong dtype": (with_input(shoes_request(), "seed", np.asarray([1], np.int32)), INVALID, ["seed", "int64", "int32"]),
    "wrong rank": (with_input(shoes_request(), "seed", np.asarray([[1]], np.int64)), INVALID, ["seed"]),
    "unknown colour": (shoes_request(colors=["teal"]), INVALID, ["color", "black", "blue", "red"]),
    "truncation without its signature": (shoes_request(truncation=[0.5]), INVALID, ["truncation"]),
    "negative truncation": (shoes_request(signature="truncated", truncation=[-1.0]), INVALID, ["truncation", ">= 0"]),
    "truncated without truncation": (shoes_request(signature="truncated"), INVALID, ["truncation"]),
    "too many examples": (shoes_request(seeds=range(257)), INVALID, ["256"]),
    "unknown output alias": (shoes_request(output_filter=["pixels"]), INVALID, ["pixels"]),
    "repeated output alias": (shoes_request(output_filter=["images", "images"]), INVALID, ["duplicate"]),
    "undecodable tensor": (with_proto(shoes_request(), "seed", tensor_content=b"\x01\x02\x03"), INVALID, ["seed"]),
}
BAD_METADATA = {
    "no metadata field": (metadata_request(fields=()), INVALID, ["metadata_field"]),
    "unknown model": (metadata_request(model="boots"), NOT_FOUND, ["boots"]),
    "unknown version": (metadata_request(version=9), NOT_FOUND, ["9"]),
}
BAD_STATUS = {
    "unknown model": (status_request(model="boots"), NOT_FOUND, ["boots"]),
    "unknown version": (status_request(version=9), NOT_FOUND, ["9"]),
    "unknown label": (status_request(label="canary"), INVALID, ["canary"]),
}
UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED
BAD_CLASSIFY = {
    "shoes": (classification_pb2.ClassificationRequest(model_spec={"name": "shoes"}), UNIMPLEMENTED, ["Classify"]),
    "unknown model": (classification_pb2.ClassificationRequest(model_spec={"name": "boots"}), NOT_FOUND, ["boots"]),
}
BAD_CALLS = {
    f"{method}: {case}": (method, *bad)
    for method, table in (
        ("Predict", BAD_PREDICTS),
        ("GetModelMetadata", BAD_METADATA),
        ("GetModelStatus", BAD_STATUS),
        ("Classify", BAD_CLASSIFY),
        ("Regress", {"shoes": (regression_pb2.RegressionRequest(model_spec={"name": "shoes"}), UNIMPLEMENTED, ["Regress"])}),
        ("MultiInference", {"shoes": (inference_pb2.MultiInferenceRequest(), UNIMPLEMENTED, ["MultiInference"])}),
    )
    for case, bad in table.items()
}


@pytest.mark.parametrize("case", BAD_CALLS, ids=list(BAD_CALLS))
def test_bad_call_fails_with_tf_serving_code_and_the_server_keeps_answering(client, case):
    method, request, code, fragments = BAD_CALLS[case]
    stub = client.model if method == "GetModelStatus" else client.predict
    grpc_error(getattr(stub, method), request, code, *fragments)
    assert_serving(client)


def test_predict_answers_images_and_pngs_with_model_spec(client):
    response = client.predict.Predict(shoes_request(seeds=[1, 2], colors=["red", "blue"], categories=["sneaker", "sandal"]), timeout=30)
    spec = response.model_spec
    assert (spec.name, spec.version.value, spec.signature_name) == ("shoes", 1, "serving_default")
    result = outputs(response)
    assert set(result) == {"images", "image_bytes"}
    assert result["images"].shape == (2, 16, 16, 3) and result["images"].dtype == np.uint8
    for png_bytes, image in zip(result["image_bytes"], result["images"]):
        np.testing.assert_array_equal(decode_png(png_bytes), image)


def test_version_pinned_by_number(client):
    response = client.predict.Predict(shoes_request(version=1), timeout=30)
    assert response.model_spec.version.value == 1


def test_output_filter_returns_only_the_named_outputs(client):
    response = client.predict.Predict(shoes_request(output_filter=["image_bytes"]), timeout=30)
    assert set(response.outputs) == {"image_bytes"}
    full = assert_serving(client, seeds=(7,))
    assert response.outputs["image_bytes"].string_val[0] == full["image_bytes"][0]


def test_same_seed_and_labels_give_the_same_image_in_any_batch(client):
    alone = outputs(client.predict.Predict(shoes_request(seeds=[11], colors=["blue"], categories=["sneaker"]), timeout=30))
    batch = outputs(
        client.predict.Predict(shoes_request([5, 11, 6], ["red", "blue", "black"], ["sandal", "sneaker", "sandal"]), timeout=30)
    )
    np.testing.assert_array_equal(batch["images"][1], alone["images"][0])
    assert not np.array_equal(batch["images"][0], batch["images"][1])


def test_truncated_signature_matches_serving_default_when_off(client):
    plain = outputs(client.predict.Predict(shoes_request(seeds=[4, 9]), timeout=30))["images"]
    off = client.predict.Predict(shoes_request(seeds=[4, 9], signature="truncated", truncation=[0.0, 0.0]), timeout=30)
    assert off.model_spec.signature_name == "truncated"
    np.testing.assert_array_equal(outputs(off)["images"], plain)
    truncated = client.predict.Predict(shoes_request(seeds=[4, 9], signature="truncated", truncation=[0.3, 0.0]), timeout=30)
    truncated = outputs(truncated)["images"]
    assert not np.array_equal(truncated[0], plain[0])
    np.testing.assert_array_equal(truncated[1], plain[1])


def test_labels_signature_lists_each_vocabulary(client):
    request = predict_pb2.PredictRequest()
    set_model_spec(request.model_spec, "shoes")
    request.model_spec.signature_name = "labels"
    request.inputs["name"].CopyFrom(tf.make_tensor_proto(["category", "color"]))
    response = client.predict.Predict(request, timeout=30)
    assert response.model_spec.signature_name == "labels"
    result = outputs(response)
    assert result["values"].tolist() == [[b"sandal", b"sneaker", b""], [b"black", b"blue", b"red"]]
    assert result["counts"].tolist() == [2, 3]
    grpc_error(client.predict.Predict, with_input(request, "name", ["size"]), INVALID, "color", "category")
    assert_serving(client)


def translator_request(signature: str, alias: str, value) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    set_model_spec(request.model_spec, "sketch")
    request.model_spec.signature_name = signature
    request.inputs[alias].CopyFrom(tf.make_tensor_proto(value))
    return request


def test_translator_takes_png_bytes_of_any_size(client):
    response = client.predict.Predict(translator_request("", "image_bytes", [png(24, 10), png(5, 30)]), timeout=30)
    result = outputs(response)
    assert (response.model_spec.name, response.model_spec.signature_name) == ("sketch", "serving_default")
    assert result["images"].shape == (2, 16, 16, 3) and result["images"].dtype == np.uint8
    np.testing.assert_array_equal(decode_png(result["image_bytes"][0]), result["images"][0])
    pixels = client.predict.Predict(translator_request("from_pixels", "image", np.zeros((1, 16, 16, 3), np.uint8)), timeout=30)
    assert tf.make_ndarray(pixels.outputs["images"]).shape == (1, 16, 16, 3)


def test_translator_refuses_bytes_that_are_not_an_image(client):
    grpc_error(client.predict.Predict, translator_request("", "image_bytes", [b"not a png"]), INVALID)
    assert_serving(client)


def test_metadata_packs_a_signature_def_map(client):
    response = client.predict.GetModelMetadata(metadata_request(), timeout=30)
    assert (response.model_spec.name, response.model_spec.version.value) == ("shoes", 1)
    assert response.metadata["signature_def"].type_url.endswith("tensorflow.serving.SignatureDefMap")
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signature_map)
    default = signature_map.signature_def["serving_default"]
    assert set(default.inputs) == {"seed", "color", "category"}
    assert set(default.outputs) == {"images", "image_bytes"}
    assert default.inputs["seed"].dtype == tf.int64.as_datatype_enum
    assert default.method_name == "tensorflow/serving/predict"
    assert set(signature_map.signature_def["truncated"].inputs) == {"seed", "color", "category", "truncation"}
    assert {"from_latent", "labels"} <= set(signature_map.signature_def)


@pytest.mark.parametrize("version", [None, 1])
def test_model_status_reports_available_with_ok_status(client, version):
    response = client.model.GetModelStatus(status_request(version=version), timeout=30)
    [status] = response.model_version_status
    assert status.version == 1
    assert status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert status.HasField("status") and status.status.error_code == 0 and status.status.error_message == ""


@pytest.mark.parametrize("service", ["", "tensorflow.serving.PredictionService", "tensorflow.serving.ModelService"])
def test_health_reports_serving(client, service):
    response = client.health.Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_version_label_set_by_reload_config(spare):
    response = spare.predict.Predict(shoes_request(label="stable"), timeout=30)
    assert (response.model_spec.name, response.model_spec.version.value) == ("shoes", 1)
    [status] = spare.model.GetModelStatus(status_request(label="stable"), timeout=30).model_version_status
    assert status.version == 1 and status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    grpc_error(spare.predict.Predict, shoes_request(label="canary"), INVALID, "canary")
    assert_serving(spare)


def test_request_over_the_message_limit_is_resource_exhausted(spare):
    large = translator_request("", "image_bytes", [bytes(2 * SMALL_LIMIT)])
    assert large.ByteSize() > SMALL_LIMIT
    grpc_error(spare.predict.Predict, large, grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert_serving(spare)


def test_reload_config_without_a_model_config_list_is_invalid(spare):
    grpc_error(spare.model.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest(), INVALID, "model_config_list")
    assert_serving(spare)
    assert spare.predict.Predict(shoes_request(label="stable"), timeout=30).model_spec.version.value == 1
