"""shoes-serve over REST (plain urllib): TF Serving's routes, JSON formats and HTTP status codes."""

import base64
import urllib.request

import numpy as np
import pytest

from tests.serving.conftest import rest
from tests.serving.helpers import SMALL_LIMIT, connected, decode_png, outputs, png, shoes_request, spare_server

STATUS = {"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
GOOD = {"instances": [{"seed": 3, "color": "black", "category": "sandal"}]}


@pytest.fixture(scope="module")
def spare(model_base):
    """A `spare_server` (4 KiB body limit, label ``stable``)."""
    with spare_server(model_base) as (running, _):
        yield running


def assert_serving(server):
    """A good predict still answers (after a bad request)."""
    status, answer = rest(server, "POST", "/v1/models/shoes:predict", GOOD)
    assert status == 200 and np.asarray(answer["predictions"][0]["images"]).shape == (16, 16, 3)


def b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode()}


def unb64(value: dict) -> bytes:
    return base64.b64decode(value["b64"])


@pytest.mark.parametrize("path", ["/v1/models/shoes", "/v1/models/shoes/versions/1", "/V1/Models/shoes"])
def test_model_status(server, path):
    assert rest(server, "GET", path) == (200, STATUS)


def test_model_status_by_label(spare):
    assert rest(spare, "GET", "/v1/models/shoes/labels/stable") == (200, STATUS)


@pytest.mark.parametrize("path", ["/v1/models/shoes/metadata", "/v1/models/shoes/versions/1/metadata"])
def test_metadata(server, path):
    status, answer = rest(server, "GET", path)
    assert status == 200
    assert answer["model_spec"] == {"name": "shoes", "signature_name": "", "version": "1"}
    signatures = answer["metadata"]["signature_def"]["signature_def"]
    default = signatures["serving_default"]
    assert set(default["inputs"]) == {"seed", "color", "category"}
    assert set(default["outputs"]) == {"images", "image_bytes"}
    assert default["inputs"]["seed"]["dtype"] == "DT_INT64"
    assert default["method_name"] == "tensorflow/serving/predict"
    assert set(signatures["truncated"]["inputs"]) == {"seed", "color", "category", "truncation"}
    assert {"from_latent", "labels"} <= set(signatures)


def test_metadata_by_label(spare):
    status, answer = rest(spare, "GET", "/v1/models/shoes/labels/stable/metadata")
    assert status == 200 and answer["model_spec"]["version"] == "1"


def test_predict_rows_match_grpc_and_pngs_match_images(server):
    body = {"instances": [{"seed": 1, "color": "red", "category": "sneaker"}, {"seed": 2, "color": "blue", "category": "sandal"}]}
    status, answer = rest(server, "POST", "/v1/models/shoes:predict", body)
    assert status == 200 and set(answer) == {"predictions"}
    rows = answer["predictions"]
    assert [set(row) for row in rows] == [{"images", "image_bytes"}] * 2
    images = np.asarray([row["images"] for row in rows], np.uint8)
    assert images.shape == (2, 16, 16, 3)
    for row, image in zip(rows, images):
        np.testing.assert_array_equal(decode_png(unb64(row["image_bytes"])), image)
    with connected(server) as connection:
        over_grpc = outputs(connection.predict.Predict(shoes_request([1, 2], ["red", "blue"], ["sneaker", "sandal"]), timeout=30))
    np.testing.assert_array_equal(images, over_grpc["images"])


def test_predict_columns(server):
    columns = {"seed": [4, 5], "color": ["black", "red"], "category": ["sandal", "sneaker"], "truncation": [0.0, 0.5]}
    body = {"signature_name": "truncated", "inputs": columns}
    status, answer = rest(server, "POST", "/v1/models/shoes/versions/1:predict", body)
    assert status == 200 and set(answer) == {"outputs"}
    images = np.asarray(answer["outputs"]["images"], np.uint8)
    assert images.shape == (2, 16, 16, 3)
    assert [decode_png(unb64(v)).shape for v in answer["outputs"]["image_bytes"]] == [(16, 16, 3)] * 2
    np.testing.assert_array_equal(decode_png(unb64(answer["outputs"]["image_bytes"][1])), images[1])


def test_predict_by_label(spare):
    status, answer = rest(spare, "POST", "/v1/models/shoes/labels/stable:predict", GOOD)
    assert status == 200 and len(answer["predictions"]) == 1


def test_labels_signature(server):
    body = {"signature_name": "labels", "instances": ["color", "category"]}
    status, answer = rest(server, "POST", "/v1/models/shoes:predict", body)
    assert status == 200
    assert answer["predictions"] == [{"values": ["black", "blue", "red"], "counts": 3}, {"values": ["sandal", "sneaker", ""], "counts": 2}]


@pytest.mark.parametrize("body", [
    {"instances": [b64(png(24, 10))]},
    {"instances": [{"image_bytes": b64(png(24, 10))}]},
    {"inputs": {"image_bytes": [b64(png(24, 10))]}},
    {"inputs": [b64(png(24, 10))]},
], ids=["rows", "named rows", "columns", "bare columns"])
def test_translator_takes_b64_pngs(server, body):
    status, answer = rest(server, "POST", "/v1/models/sketch:predict", body)
    assert status == 200, answer
    result = answer["predictions"][0] if "predictions" in answer else {alias: value[0] for alias, value in answer["outputs"].items()}
    image = np.asarray(result["images"], np.uint8)
    assert image.shape == (16, 16, 3)
    np.testing.assert_array_equal(decode_png(unb64(result["image_bytes"])), image)


def test_translator_from_pixels(server):
    body = {"signature_name": "from_pixels", "instances": np.zeros((1, 16, 16, 3), int).tolist()}
    status, answer = rest(server, "POST", "/v1/models/sketch:predict", body)
    assert status == 200 and np.asarray(answer["predictions"][0]["images"]).shape == (16, 16, 3)


ROW = {"seed": 1, "color": "black", "category": "sandal"}
BAD = {
    "unknown model status": ("GET", "/v1/models/boots", None, 404, ["boots"]),
    "unknown version status": ("GET", "/v1/models/shoes/versions/9", None, 404, ["9"]),
    "unknown label status": ("GET", "/v1/models/shoes/labels/canary", None, 400, ["canary"]),
    "unknown model metadata": ("GET", "/v1/models/boots/metadata", None, 404, ["boots"]),
    "unknown model": ("POST", "/v1/models/boots:predict", GOOD, 404, ["boots"]),
    "unknown version": ("POST", "/v1/models/shoes/versions/9:predict", GOOD, 404, ["9"]),
    "unknown label": ("POST", "/v1/models/shoes/labels/canary:predict", GOOD, 400, ["canary"]),
    "unknown signature": ("POST", "/v1/models/shoes:predict", {**GOOD, "signature_name": "nope"}, 400, ["nope"]),
    "unknown colour": ("POST", "/v1/models/shoes:predict", {"instances": [{**ROW, "color": "teal"}]}, 400, ["black, blue, red"]),
    "malformed json": ("POST", "/v1/models/shoes:predict", b'{"instances": [', 400, []),
    "both formats": ("POST", "/v1/models/shoes:predict", {"instances": [ROW], "inputs": {"seed": [1]}}, 400, ["instances", "inputs"]),
    "neither format": ("POST", "/v1/models/shoes:predict", {"signature_name": ""}, 400, ["instances", "inputs"]),
    "wrong input name": ("POST", "/v1/models/shoes:predict", {"instances": [{**ROW, "colour": "red"}]}, 400, ["colour"]),
    "missing input": ("POST", "/v1/models/shoes:predict", {"inputs": {"seed": [1], "color": ["red"]}}, 400, ["category"]),
    "seed not a number": ("POST", "/v1/models/shoes:predict", {"instances": [{**ROW, "seed": "abc"}]}, 400, ["seed"]),
    "seed not an integer": ("POST", "/v1/models/shoes:predict", {"instances": [{**ROW, "seed": 1.5}]}, 400, ["seed", "int64"]),
    "version beyond int64": ("GET", "/v1/models/shoes/versions/99999999999999999999", None, 400, ["version"]),
    "ragged rows": ("POST", "/v1/models/shoes:predict", {"instances": [ROW, {"seed": 2}]}, 400, []),
    "bad base64": ("POST", "/v1/models/sketch:predict", {"instances": [{"b64": "%%%"}]}, 400, ["b64"]),
    "classify": ("POST", "/v1/models/shoes:classify", {"examples": []}, 501, ["classify"]),
    "regress": ("POST", "/v1/models/shoes:regress", {"examples": []}, 501, ["regress"]),
    "unknown verb route": ("GET", "/v1/models/shoes/bogus", None, 400, []),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_request_answers_error_json_with_tf_serving_status(server, case):
    method, path, body, code, fragments = BAD[case]
    raw = body if isinstance(body, bytes) else None
    status, answer = rest(server, method, path, None if raw else body, raw)
    assert status == code and set(answer) == {"error"}, answer
    for fragment in fragments:
        assert fragment in answer["error"]
    assert_serving(server)


def test_body_over_the_limit_is_429(spare):
    status, answer = rest(spare, "POST", "/v1/models/sketch:predict", {"instances": [b64(bytes(2 * SMALL_LIMIT))]})
    assert status == 429 and "error" in answer
    assert_serving(spare)


def test_prometheus_counts_requests_by_status(server):
    rest(server, "POST", "/v1/models/shoes:predict", GOOD)
    rest(server, "POST", "/v1/models/shoes:predict", {"instances": [{**ROW, "seed": "abc"}]})
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics", timeout=30) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        page = response.read().decode()
    assert "# TYPE :tensorflow:serving:request_count counter" in page
    assert ':tensorflow:serving:request_count{model_name="shoes",status="OK"}' in page
    assert ':tensorflow:serving:request_count{model_name="shoes",status="INVALID_ARGUMENT"}' in page
    assert ':tensorflow:serving:request_latency_count{API="rest_predict",entrypoint="REST",model_name="shoes"}' in page
