"""serving.client / rest_client / client_cli against tiny in-test gRPC and HTTP fakes (no model, no TensorFlow needed).

The fake gRPC server decodes with the official ``tensorflow_serving.apis`` classes, so these tests
also check that what the client sends is what TF Serving reads.
"""

import base64
import io
import json
import subprocess
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, predict_pb2

from serving import client_cli
from serving.client import RestClient, ServingError, ShoesClient

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {
    "Predict": ("tensorflow.serving.PredictionService", predict_pb2.PredictRequest, predict_pb2.PredictResponse),
    "GetModelMetadata": (
        "tensorflow.serving.PredictionService",
        get_model_metadata_pb2.GetModelMetadataRequest,
        get_model_metadata_pb2.GetModelMetadataResponse,
    ),
    "GetModelStatus": (
        "tensorflow.serving.ModelService",
        get_model_status_pb2.GetModelStatusRequest,
        get_model_status_pb2.GetModelStatusResponse,
    ),
}
LABELS_ERROR = "Unknown color label. Valid color labels: black, red"


def png(value: int, size=(4, 4)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (value, value, value)).save(buffer, format="PNG")
    return buffer.getvalue()


def shoes_answer(request) -> predict_pb2.PredictResponse:
    """A PredictResponse with one grey PNG per seed (grey level = seed)."""
    seeds = tf.make_ndarray(request.inputs["seed"])
    response = predict_pb2.PredictResponse()
    response.outputs["image_bytes"].CopyFrom(tf.make_tensor_proto([png(int(seed)) for seed in seeds]))
    return response


@pytest.fixture
def grpc_server():
    """``serve(Predict=fn, ...)`` starts a gRPC server with those handlers and returns its target."""
    servers, release = [], threading.Event()

    def serve(**methods):
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        services = {}
        for name, handler in methods.items():
            service, request_class, response_class = SERVICES[name]
            services.setdefault(service, {})[name] = grpc.unary_unary_rpc_method_handler(
                handler,
                request_deserializer=request_class.FromString,
                response_serializer=response_class.SerializeToString,
            )
        server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(s, m) for s, m in services.items()])
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    serve.release = release
    yield serve
    release.set()
    for server in servers:
        server.stop(None)


class FakeRest(BaseHTTPRequestHandler):
    def do_GET(self):
        self.answer(None)

    def do_POST(self):
        self.answer(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))

    def answer(self, body):
        self.server.requests.append((self.command, self.path, body))
        status, answer = self.server.route(self.command, self.path, body)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def rest_server():
    """``serve(route)`` starts an HTTP server answering ``route(method, path, body) -> (status, json)``."""
    servers, release = [], threading.Event()

    def serve(route):
        server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRest)
        server.daemon_threads, server.block_on_close = True, False
        server.route, server.requests = route, []
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", server.requests

    serve.release = release
    yield serve
    release.set()
    for server in servers:
        server.shutdown()
        server.server_close()


def grey_levels(images):
    return [image.getpixel((0, 0))[0] for image in images]


# gRPC


def test_generate_sends_seeds_labels_and_filter_and_decodes_pngs(grpc_server):
    seen = []

    def predict(request, context):
        seen.append(request)
        return shoes_answer(request)

    with ShoesClient(grpc_server(Predict=predict), version=2) as client:
        images = client.generate(3, seed=10, color="red", category=["sneaker", "boot", "sneaker"])
    assert grey_levels(images) == [10, 11, 12] and images[0].size == (4, 4)
    (request,) = seen
    assert (request.model_spec.name, request.model_spec.version.value) == ("shoes", 2)
    assert request.model_spec.signature_name == "serving_default"
    assert list(request.output_filter) == ["image_bytes"]
    assert tf.make_ndarray(request.inputs["seed"]).dtype == np.int64
    assert list(tf.make_ndarray(request.inputs["color"])) == [b"red"] * 3
    assert list(tf.make_ndarray(request.inputs["category"])) == [b"sneaker", b"boot", b"sneaker"]
    assert "truncation" not in request.inputs


def test_unavailable_is_retried_then_succeeds(grpc_server):
    calls = []

    def predict(request, context):
        calls.append(1)
        if len(calls) <= 2:
            context.abort(grpc.StatusCode.UNAVAILABLE, "model is loading")
        return shoes_answer(request)

    with ShoesClient(grpc_server(Predict=predict), retries=3, backoff=0.01) as client:
        assert grey_levels(client.generate(1, seed=7)) == [7]
    assert len(calls) == 3


def test_unavailable_after_the_last_retry_raises(grpc_server):
    calls = []

    def predict(request, context):
        calls.append(1)
        context.abort(grpc.StatusCode.UNAVAILABLE, "model is loading")

    with ShoesClient(grpc_server(Predict=predict), retries=2, backoff=0.01) as client:
        with pytest.raises(ServingError) as raised:
            client.generate(1)
    assert (raised.value.code, raised.value.message, len(calls)) == ("UNAVAILABLE", "model is loading", 3)


def test_invalid_argument_keeps_the_server_message_and_is_not_retried(grpc_server):
    calls = []

    def predict(request, context):
        calls.append(1)
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, LABELS_ERROR)

    with ShoesClient(grpc_server(Predict=predict), backoff=0.01) as client:
        with pytest.raises(ServingError) as raised:
            client.generate(2, color="purple")
    assert (raised.value.code, raised.value.message) == ("INVALID_ARGUMENT", LABELS_ERROR)
    assert str(raised.value) == f"INVALID_ARGUMENT: {LABELS_ERROR}" and len(calls) == 1


def test_a_slow_answer_exceeds_the_deadline(grpc_server):
    def predict(request, context):
        grpc_server.release.wait(5)
        return shoes_answer(request)

    with ShoesClient(grpc_server(Predict=predict), timeout=0.2) as client:
        with pytest.raises(ServingError) as raised:
            client.generate(1)
    assert raised.value.code == "DEADLINE_EXCEEDED" and "0.2 s" in raised.value.message


def test_no_server_is_unavailable():
    with ShoesClient("127.0.0.1:1", retries=1, backoff=0.01, timeout=2) as client:
        with pytest.raises(ServingError) as raised:
            client.status()
    assert raised.value.code == "UNAVAILABLE"


def test_messages_beyond_max_message_bytes_are_refused(grpc_server):
    target = grpc_server(Predict=lambda request, context: shoes_answer(request))
    with ShoesClient(target, max_message_bytes=1000) as client:
        with pytest.raises(ServingError) as raised:
            client.predict({"z": np.zeros([1000], np.float32)})
    assert raised.value.code == "RESOURCE_EXHAUSTED"


def test_predict_translate_labels(grpc_server):
    def predict(request, context):
        response = predict_pb2.PredictResponse()
        if request.model_spec.signature_name == "labels":
            values, counts = vocabulary_rows([name.decode() for name in tf.make_ndarray(request.inputs["name"])])
            response.outputs["values"].CopyFrom(tf.make_tensor_proto(values))
            response.outputs["counts"].CopyFrom(tf.make_tensor_proto(np.array(counts, np.int64)))
        elif "image_bytes" in request.inputs:
            (data,) = tf.make_ndarray(request.inputs["image_bytes"])
            image = Image.open(io.BytesIO(data)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            response.outputs["image_bytes"].CopyFrom(tf.make_tensor_proto([png(0, image.size)]))
        else:
            z = tf.make_ndarray(request.inputs["z"])
            response.outputs["images"].CopyFrom(tf.make_tensor_proto((z * 100).astype(np.uint8)))
            response.outputs["norm"].CopyFrom(tf.make_tensor_proto(np.linalg.norm(z, axis=1)))
        return response

    with ShoesClient(grpc_server(Predict=predict, GetModelMetadata=metadata_answer)) as client:
        outputs = client.predict({"z": np.ones([2, 3], np.float32)}, signature_name="from_latent")
        assert outputs["images"].dtype == np.uint8 and outputs["images"].tolist() == [[100] * 3] * 2
        np.testing.assert_allclose(outputs["norm"], [3**0.5] * 2, rtol=1e-6)
        assert client.translate(png(3, (6, 2))).size == (6, 2)
        assert client.labels() == VOCABULARIES


def add_tensor(infos, name, dtype, *shape):
    infos[name].dtype = dtype.as_datatype_enum
    if shape == (None,):
        infos[name].tensor_shape.unknown_rank = True
    for size in shape if shape != (None,) else ():
        infos[name].tensor_shape.dim.add(size=size)


def signature_map():
    """The signatures of an exported colour x category generator (see shoes_generator.export)."""
    signatures = get_model_metadata_pb2.SignatureDefMap()
    default = signatures.signature_def["serving_default"]
    default.method_name = "tensorflow/serving/predict"
    for name, dtype in [("seed", tf.int64), ("color", tf.string), ("category", tf.string), ("truncation", tf.float32)]:
        add_tensor(default.inputs, name, dtype, -1)
    add_tensor(default.outputs, "images", tf.uint8, -1, 8, 8, 3)
    add_tensor(default.outputs, "image_bytes", tf.string, None)
    labels = signatures.signature_def["labels"]
    add_tensor(labels.inputs, "name", tf.string, -1)
    add_tensor(labels.outputs, "values", tf.string, -1, -1)
    add_tensor(labels.outputs, "counts", tf.int64, -1)
    add_tensor(signatures.signature_def["norm"].inputs, "z", tf.float32, -1, 3)
    add_tensor(signatures.signature_def["norm"].outputs, "norm", tf.float32, -1)
    return signatures


def tensor(dtype, *shape):
    return {"dtype": dtype, "shape": list(shape) if shape != (None,) else None}


EXPECTED_METADATA = {
    "labels": {
        "method_name": "",
        "inputs": {"name": tensor("DT_STRING", -1)},
        "outputs": {"counts": tensor("DT_INT64", -1), "values": tensor("DT_STRING", -1, -1)},
    },
    "norm": {
        "method_name": "",
        "inputs": {"z": tensor("DT_FLOAT", -1, 3)},
        "outputs": {"norm": tensor("DT_FLOAT", -1)},
    },
    "serving_default": {
        "method_name": "tensorflow/serving/predict",
        "inputs": {
            "category": tensor("DT_STRING", -1),
            "color": tensor("DT_STRING", -1),
            "seed": tensor("DT_INT64", -1),
            "truncation": tensor("DT_FLOAT", -1),
        },
        "outputs": {"image_bytes": tensor("DT_STRING", None), "images": tensor("DT_UINT8", -1, 8, 8, 3)},
    },
}
VOCABULARIES = {"category": ["sneaker"], "color": ["black", "red"]}


def vocabulary_rows(names):
    """What a ``labels`` signature answers for `names`: padded ``values`` [K, V] and ``counts`` [K]."""
    width = max(len(values) for values in VOCABULARIES.values())
    values = [VOCABULARIES[name] + [""] * (width - len(VOCABULARIES[name])) for name in names]
    return values, [len(VOCABULARIES[name]) for name in names]


def metadata_answer(request, context):
    response = get_model_metadata_pb2.GetModelMetadataResponse(model_spec=request.model_spec)
    response.metadata["signature_def"].Pack(signature_map())
    return response


def test_status_and_metadata(grpc_server):
    requests = []

    def status(request, context):
        requests.append(request)
        response = get_model_status_pb2.GetModelStatusResponse()
        response.model_version_status.add(version=3, state=30)
        failed = response.model_version_status.add(version=2, state=50)
        failed.status.error_code, failed.status.error_message = 5, "version 2 is gone"
        return response

    def metadata(request, context):
        requests.append(request)
        return metadata_answer(request, context)

    with ShoesClient(grpc_server(GetModelStatus=status, GetModelMetadata=metadata), version_label="stable") as client:
        assert client.status() == [
            {"version": 3, "state": "AVAILABLE", "error": None},
            {"version": 2, "state": "END", "error": {"code": "NOT_FOUND", "message": "version 2 is gone"}},
        ]
        assert client.metadata() == EXPECTED_METADATA
    assert [r.model_spec.version_label for r in requests] == ["stable", "stable"]
    assert list(requests[1].metadata_field) == ["signature_def"]


def test_argument_errors_name_what_was_received():
    with pytest.raises(ValueError, match="Received: n=0"):
        ShoesClient("127.0.0.1:1").generate(0)
    with pytest.raises(ValueError, match="needs one value or 2 values"):
        ShoesClient("127.0.0.1:1").generate(2, color=["red"])
    with pytest.raises(ValueError, match="not both"):
        ShoesClient(version=1, version_label="stable")
    with pytest.raises(ValueError, match="Received: url='localhost:8501'"):
        RestClient("localhost:8501")


# REST


def metadata_json(with_type=True):
    from google.protobuf import json_format

    signatures = json_format.MessageToDict(signature_map(), preserving_proto_field_name=True)
    if with_type:
        signatures["@type"] = "type.googleapis.com/tensorflow.serving.SignatureDefMap"
    return {"model_spec": {"name": "shoes", "version": "1"}, "metadata": {"signature_def": signatures}}


def shoes_json(body):
    seeds = body["inputs"]["seed"]
    image_bytes = [{"b64": base64.b64encode(png(seed)).decode()} for seed in seeds]
    return {"outputs": {"image_bytes": image_bytes, "images": [[[[seed] * 3] * 8] * 8 for seed in seeds]}}


def test_rest_generate_and_predict(rest_server):
    def route(method, path, body):
        if path.endswith("/metadata"):
            return 200, metadata_json()
        return 200, shoes_json(body)

    url, requests = rest_server(route)
    with RestClient(url, version=4) as client:
        images = client.generate(2, seed=5, color="red")
        body = {"signature_name": "serving_default", "inputs": {"seed": [5, 6], "color": ["red", "red"]}}
        assert requests == [("POST", "/v1/models/shoes/versions/4:predict", body)]
        assert grey_levels(images) == [5, 6]
        for _ in range(2):
            outputs = client.predict({"seed": np.array([9])})
            assert outputs["images"].dtype == np.uint8 and outputs["images"].shape == (1, 8, 8, 3)
            assert outputs["image_bytes"].dtype == object and outputs["image_bytes"][0] == png(9)
    assert [path for _, path, _ in requests].count("/v1/models/shoes/versions/4/metadata") == 1


def test_rest_sends_bytes_as_b64_names_a_lone_output_and_reads_labels(rest_server):
    def route(method, path, body):
        if path.endswith("/metadata"):
            return 200, metadata_json(with_type=False)
        if body["signature_name"] == "labels":
            values, counts = vocabulary_rows(body["inputs"]["name"])
            return 200, {"outputs": {"values": values, "counts": counts}}
        if body["signature_name"] == "norm":
            return 200, {"outputs": [float(np.linalg.norm(z)) for z in body["inputs"]["z"]]}
        data = base64.b64decode(body["inputs"]["image_bytes"][0]["b64"])
        return 200, {"outputs": {"image_bytes": [{"b64": base64.b64encode(data).decode()}], "images": [[[[0] * 3]]]}}

    url, requests = rest_server(route)
    with RestClient(url, version_label="canary") as client:
        assert client.translate(Image.new("L", (3, 5))).size == (3, 5)
        assert client.labels() == VOCABULARIES
        norm = client.predict({"z": [[3.0, 4.0, 0.0]]}, signature_name="norm")
    assert list(norm) == ["norm"] and norm["norm"].dtype == np.float32 and norm["norm"].tolist() == [5.0]
    paths = [path for _, path, _ in requests]
    assert paths[0] == "/v1/models/shoes/labels/canary:predict"
    assert paths.count("/v1/models/shoes/labels/canary/metadata") == 1
    assert requests[2][2]["inputs"] == {"name": ["category", "color"]}


def test_rest_status_and_metadata(rest_server):
    status = {"model_version_status": [{"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK"}}]}
    url, requests = rest_server(lambda method, path, body: (200, metadata_json() if "metadata" in path else status))
    with RestClient(url) as client:
        assert client.status() == [{"version": 1, "state": "AVAILABLE", "error": None}]
        assert client.metadata() == EXPECTED_METADATA
    assert [(m, p) for m, p, _ in requests] == [("GET", "/v1/models/shoes"), ("GET", "/v1/models/shoes/metadata")]


@pytest.mark.parametrize(
    "status, code", [(400, "INVALID_ARGUMENT"), (404, "NOT_FOUND"), (500, "INTERNAL"), (418, "UNKNOWN")]
)
def test_rest_errors_map_back_to_codes_and_keep_the_message(rest_server, status, code):
    url, requests = rest_server(lambda method, path, body: (status, {"error": LABELS_ERROR}))
    with pytest.raises(ServingError) as raised:
        RestClient(url, backoff=0.01).generate(1, color="purple")
    assert (raised.value.code, raised.value.message, len(requests)) == (code, LABELS_ERROR, 1)


def test_rest_retries_503_then_succeeds(rest_server):
    def route(method, path, body):
        return (503, {"error": "loading"}) if len(requests) <= 2 else (200, shoes_json(body))

    url, requests = rest_server(route)
    assert grey_levels(RestClient(url, backoff=0.01).generate(1, seed=4)) == [4]
    assert len(requests) == 3


def test_rest_timeout_and_refused_connection(rest_server):
    def slow(method, path, body):
        rest_server.release.wait(5)
        return 200, {}

    url, _ = rest_server(slow)
    with pytest.raises(ServingError) as raised:
        RestClient(url, timeout=0.2).status()
    assert raised.value.code == "DEADLINE_EXCEEDED"
    with pytest.raises(ServingError) as raised:
        RestClient("http://127.0.0.1:1", retries=1, backoff=0.01).status()
    assert raised.value.code == "UNAVAILABLE" and "127.0.0.1:1" in raised.value.message


# Command line


def test_cli_generate_writes_named_pngs_and_a_summary(grpc_server, tmp_path, capsys):
    target = grpc_server(Predict=lambda request, context: shoes_answer(request))
    argv = ["--server", target, "generate", "--color", "red", "--category", "sneaker", "-n", "2", "-o", str(tmp_path)]
    assert client_cli.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [Path(f).name for f in summary["files"]] == ["red_sneaker_seed0000.png", "red_sneaker_seed0001.png"]
    assert summary["labels"] == {"color": "red", "category": "sneaker"} and summary["count"] == 2
    assert Image.open(tmp_path / "red_sneaker_seed0001.png").getpixel((0, 0)) == (1, 1, 1)


def test_cli_errors_print_code_and_message_without_traceback(grpc_server, tmp_path, capsys):
    def predict(request, context):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, LABELS_ERROR)

    argv = ["--server", grpc_server(Predict=predict), "generate", "--label", "color=purple", "-o", str(tmp_path)]
    assert client_cli.main(argv) == 1
    assert capsys.readouterr().err == f"shoes-client: error: INVALID_ARGUMENT: {LABELS_ERROR}\n"
    assert client_cli.main(["translate", str(tmp_path / "missing.png"), "-o", str(tmp_path / "out.png")]) == 1
    assert "missing.png" in capsys.readouterr().err


def test_cli_old_spellings_still_work_with_one_deprecation_line_each(grpc_server, tmp_path, capsys):
    target = grpc_server(Predict=lambda request, context: shoes_answer(request))
    argv = ["--target", target, "generate", "--color", "red", "--category", "sneaker", "-n", "1", "--output", str(tmp_path)]
    assert client_cli.main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["files"] == [str(tmp_path / "red_sneaker_seed0000.png")]
    assert captured.err.splitlines() == [
        "shoes-client: DeprecationWarning: --target is deprecated, use --server; the old spelling goes in the next release",
        "shoes-client generate: DeprecationWarning: --output is deprecated, use --out; the old spelling goes in the next release",
    ]
    assert "--target" not in client_cli.build_parser().format_help().split("examples:")[0]  # Hidden from the options.


def test_cli_translate_sends_the_mask_and_the_blend_alpha(grpc_server, tmp_path, capsys):
    seen = []

    def predict(request, context):
        seen.append((request.model_spec.signature_name, sorted(request.inputs), request.inputs))
        response = predict_pb2.PredictResponse()
        response.outputs["image_bytes"].CopyFrom(tf.make_tensor_proto([png(0, (4, 4))]))
        return response

    target = grpc_server(Predict=predict)
    Path(tmp_path / "in.png").write_bytes(png(9, (4, 4)))
    Path(tmp_path / "mask.png").write_bytes(png(255, (4, 4)))
    argv = ["--server", target, "translate", str(tmp_path / "in.png"), "--mask", str(tmp_path / "mask.png"), "-o", str(tmp_path / "a.png")]
    assert client_cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["mask"] == str(tmp_path / "mask.png")
    assert seen[-1][:2] == ("serving_default", ["image_bytes", "mask_bytes"])
    argv = ["--server", target, "translate", str(tmp_path / "in.png"), "--alpha", "0.25", "-o", str(tmp_path / "b.png")]
    assert client_cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out)["alpha"] == 0.25
    assert seen[-1][:2] == ("blend", ["alpha", "image_bytes"]) and tf.make_ndarray(seen[-1][2]["alpha"]).tolist() == [0.25]
    assert Image.open(tmp_path / "b.png").size == (4, 4)


@pytest.mark.parametrize("extra", [["--alpha", "1.5"], ["--alpha", "x"], ["--alpha", "0.5", "--signature", "b_to_a"], []])
def test_cli_usage_errors_exit_2(extra, tmp_path, capsys):
    out = [] if not extra else ["-o", str(tmp_path / "out.png")]  # [] : -o/--out is required.
    with pytest.raises(SystemExit) as exit_info:
        client_cli.main(["translate", str(tmp_path / "in.png"), *out, *extra])
    assert exit_info.value.code == 2 and "usage: shoes-client" in capsys.readouterr().err


def test_cli_rest_labels(rest_server, capsys):
    def route(method, path, body):
        if path.endswith("/metadata"):
            return 200, metadata_json()
        values, counts = vocabulary_rows(body["inputs"]["name"])
        return 200, {"outputs": {"values": values, "counts": counts}}

    url, _ = rest_server(route)
    assert client_cli.main(["--rest", url, "labels"]) == 0
    assert json.loads(capsys.readouterr().out) == VOCABULARIES


NO_TENSORFLOW = """
import sys
sys.modules["tensorflow"] = None
sys.modules["tensorflow_serving"] = None
from serving import client, client_cli, rest_client, wire
request = wire.PredictRequest(model_spec=wire.ModelSpec(name="shoes"), output_filter=["image_bytes"])
request.inputs["seed"].CopyFrom(wire.to_tensor_proto([0, 1], "int64"))
request.inputs["color"].CopyFrom(wire.to_tensor_proto(["red", "red"]))
assert wire.PredictRequest.FromString(request.SerializeToString()) == request
loaded = [name for name, module in sys.modules.items() if module and name.split(".")[0] in ("tensorflow", "keras")]
assert not loaded, loaded
sys.exit(client_cli.main(["--help"]))
"""


def test_client_runs_without_tensorflow():
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: shoes-client" in done.stdout and "examples:" in done.stdout
