"""A hostile client on loopback: every attack gets TF Serving's answer, costs bounded memory and threads, and the
server keeps serving.

Malformed JSON, oversize bodies and batches, wrong input names and dtypes, model names with path tricks, slow and
vanishing clients, deep nesting, lone surrogates, odd HTTP methods, tensors declaring millions of elements, a drain
after SIGTERM, and version folders that are not ASCII numbers. Tiny models; the whole file runs in a few seconds.
"""

import http.client
import json
import logging
import shutil
import socket
import struct
import threading
import time
import tracemalloc

import grpc
import numpy as np
import pytest
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import predict_pb2

from serving.server.model_store import entries_from_base
from shoes_generator.publish import versions_on_disk
from tests.serving.conftest import export_shoes_version, rest
from tests.serving.helpers import assert_serving, connected, grpc_error, running_server, shoes_request, status_request

GOOD = {"instances": [{"seed": 3, "color": "black", "category": "sandal"}]}
PREDICT = "/v1/models/shoes:predict"


def assert_rest_serving(server):
    status, answer = rest(server, "POST", PREDICT, GOOD)
    assert status == 200 and np.asarray(answer["predictions"][0]["images"]).shape == (16, 16, 3)


def raw_exchange(server, data: bytes, timeout: float = 10) -> tuple[int, dict, bytes]:
    """Sends raw bytes on a new connection -> ``(status, headers, body)`` of the first answer."""
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=timeout) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock, method="HEAD" if data.startswith(b"HEAD") else "GET")
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


def tracebacks(caplog, capfd) -> list[str]:
    """Log records with a traceback, plus any traceback printed to stderr."""
    found = [record.getMessage() for record in caplog.records if record.exc_info]
    err = capfd.readouterr().err
    return found + (["stderr: " + err[-500:]] if "Traceback" in err else [])


# Already refused before this battery: malformed JSON, oversize bodies and batches, wrong names and dtypes, paths.
@pytest.mark.parametrize(
    "raw",
    [b"{", b"[1, 2]", b"\xff\xfe", b'{"instances": [}', b"null", b'{"instances": [], "inputs": {}}', b'{"instances": 5}'],
)
def test_malformed_json_is_400(server, raw):
    status, answer = rest(server, "POST", PREDICT, raw=raw)
    assert status == 400 and answer["error"]


def test_a_body_over_the_limit_is_refused_unread(server):
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as sock:
        sock.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: {1 << 40}\r\n\r\n".encode())
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 429 and "--max-request-bytes" in json.loads(response.read())["error"]


def test_a_grpc_message_over_the_limit_is_resource_exhausted(model_base):
    with running_server(entries_from_base(model_base), max_request_bytes=4096, rest_port=None) as running, connected(running) as client:
        grpc_error(client.predict.Predict, shoes_request(list(range(600))), grpc.StatusCode.RESOURCE_EXHAUSTED)
        assert_serving(client)


def test_a_batch_over_the_limit_is_400(server):
    status, answer = rest(server, "POST", PREDICT, {"instances": [GOOD["instances"][0]] * 257})
    assert status == 400 and "--max-request-batch" in answer["error"]


@pytest.mark.parametrize(
    "instance",
    [{"seed": 3, "colour": "black", "category": "sandal"}, {"seed": "3", "color": "black", "category": "sandal"},
     {"seed": 3.5, "color": "black", "category": "sandal"}, {"seed": 3, "color": 7, "category": "sandal"},
     {"seed": 3, "color": {"b64": 5}, "category": "sandal"}, {"seed": [[3]], "color": "black", "category": "sandal"}],
)
def test_wrong_input_names_and_dtypes_are_400(server, instance):
    status, answer = rest(server, "POST", PREDICT, {"instances": [instance]})
    assert status == 400 and answer["error"]


def test_a_grpc_input_of_the_wrong_dtype_is_invalid_argument(server):
    request = shoes_request()
    request.inputs["seed"].dtype = types_pb2.DT_FLOAT
    with connected(server) as client:
        grpc_error(client.predict.Predict, request, grpc.StatusCode.INVALID_ARGUMENT, "expects int64")


@pytest.mark.parametrize(
    "path",
    ["/v1/models/..%2F..%2Fetc%2Fpasswd:predict", "/v1/models/../../etc/passwd:predict", "/v1/models/%2e%2e:predict",
     "/v1/models/..:predict", "/v1/models/.:predict"],
)
def test_path_tricks_in_model_names_find_nothing(server, path):
    status, answer = rest(server, "POST", path, GOOD)
    assert status in (400, 404) and answer["error"]


@pytest.mark.parametrize("name", ["../shoes", "..", "shoes/../shoes", "/etc/passwd", "shoes\x00"])
def test_path_tricks_in_grpc_model_names_are_not_found(server, name):
    with connected(server) as client:
        grpc_error(client.predict.Predict, shoes_request(model=name), grpc.StatusCode.NOT_FOUND)


def test_a_slow_client_does_not_hold_up_others(server):
    with socket.create_connection(("127.0.0.1", server.rest_port), timeout=10) as slow:
        slow.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n".encode() + b'{"inst')
        for _ in range(3):
            started = time.monotonic()
            assert_rest_serving(server)
            assert time.monotonic() - started < 5


# 1: deep nesting is a 400, not a RecursionError.
@pytest.mark.parametrize(
    "body",
    ['{"instances": ' + "[" * 100_000 + "]" * 100_000 + "}",
     '{"instances": [{"seed": ' + "[" * 900 + "3" + "]" * 900 + ', "color": "black", "category": "sandal"}]}',
     '{"inputs": {"seed": ' + "[" * 70 + "3" + "]" * 70 + "}}",
     '{"instances": [' + '{"a": ' * 5000 + "1" + "}" * 5000 + "]}"],
    ids=["100k-levels", "900-levels-in-an-input", "70-levels", "5k-objects"],
)
def test_deeply_nested_json_is_400_without_a_traceback(server, body, caplog, capfd):
    status, answer = rest(server, "POST", PREDICT, raw=body.encode())
    assert status == 400 and "deep" in answer["error"], answer
    assert not tracebacks(caplog, capfd)
    assert_rest_serving(server)


# 2: a lone surrogate cannot be encoded as UTF-8: INVALID_ARGUMENT, not a 500.
@pytest.mark.parametrize(
    "body",
    [r'{"instances": [{"seed": 3, "color": "\ud800", "category": "sandal"}]}',
     r'{"inputs": {"seed": [3], "color": ["black"], "category": ["\udfff sandal"]}}',
     r'{"signature_name": "\ud800", "instances": [{"seed": 3, "color": "black", "category": "sandal"}]}'],
)
def test_a_lone_surrogate_is_400(server, body, caplog, capfd):
    status, answer = rest(server, "POST", PREDICT, raw=body.encode())
    assert status == 400 and answer["error"], answer
    assert not tracebacks(caplog, capfd)


# 3: every method TF Serving does not route is its JSON "Malformed request" (400), not an HTML 501.
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "FROBNICATE"])
def test_other_methods_are_tf_serving_malformed_requests(server, method):
    status, headers, body = raw_exchange(server, f"{method} /v1/models/shoes HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode())
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"error": f"Malformed request: {method} /v1/models/shoes"}


def test_head_is_a_malformed_request_without_a_body(server):
    status, headers, body = raw_exchange(server, b"HEAD /v1/models/shoes HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400 and headers["Content-Type"] == "application/json" and body == b""


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET /v1/models/shoes HTTP/9.9\r\n\r\n", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n"])
def test_unparsable_requests_get_json_errors(server, line):
    status, headers, body = raw_exchange(server, line)
    assert 400 <= status < 600 and headers["Content-Type"] == "application/json" and json.loads(body)["error"]


@pytest.mark.parametrize("length", [b"\xb2", b"\xb9\xb3", b"1e3", b"+5"])
def test_a_content_length_of_other_digits_is_400(server, length, caplog, capfd):
    """'²'.isdigit() is True but int('²') fails: headers are read as latin-1, so the byte 0xB2 makes it."""
    status, headers, body = raw_exchange(server, f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: ".encode() + length + b"\r\n\r\n")
    assert status == 400 and "Content-Length" in json.loads(body)["error"]
    assert not tracebacks(caplog, capfd)


def test_an_http_0_9_request_gets_a_status_line(server):
    status, headers, body = raw_exchange(server, b"GET /v1/models/shoes\r\n\r\n")
    assert status == 400 and json.loads(body)["error"]


# 4: a tiny gRPC request declaring millions of elements is refused before anything is allocated.
def declared_only(elements: int) -> predict_pb2.PredictRequest:
    """A PredictRequest of ~100 bytes whose three inputs declare `elements` elements each (and hold none)."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "shoes"
    for alias, dtype in (("seed", types_pb2.DT_INT64), ("color", types_pb2.DT_STRING), ("category", types_pb2.DT_STRING)):
        proto = tensor_pb2.TensorProto(dtype=dtype)
        proto.tensor_shape.dim.add(size=elements)
        request.inputs[alias].CopyFrom(proto)
    return request


MEMORY_BOUND = 8 << 20  # bytes a refused 100-byte request may cost the server (traced Python and numpy allocations)


@pytest.mark.parametrize("elements", [16 << 20, 257, 100_000])
def test_a_request_declaring_millions_of_elements_costs_bounded_memory(server, elements):
    request = declared_only(elements)
    assert request.ByteSize() < 128
    with connected(server) as client:
        tracemalloc.start()
        try:
            message = grpc_error(client.predict.Predict, request, grpc.StatusCode.INVALID_ARGUMENT)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < MEMORY_BOUND, f"the refused request cost {peak / 2**20:.0f} MiB"
        assert "--max-request-batch" in message
        assert_serving(client)


def test_an_extra_input_declaring_millions_of_elements_is_refused_by_name(server):
    request = shoes_request()
    proto = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING)
    proto.tensor_shape.dim.add(size=16 << 20)
    request.inputs["extra"].CopyFrom(proto)
    with connected(server) as client:
        tracemalloc.start()
        try:
            grpc_error(client.predict.Predict, request, grpc.StatusCode.INVALID_ARGUMENT, "Sent extra: {extra}")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < MEMORY_BOUND


def test_a_per_example_shape_the_signature_does_not_take_is_refused_before_decoding(server):
    request = shoes_request()
    request.inputs["seed"].tensor_shape.dim.add(size=1 << 22)  # [1, 4M]: seed is [-1]
    with connected(server) as client:
        grpc_error(client.predict.Predict, request, grpc.StatusCode.INVALID_ARGUMENT, "must have shape [?]")


# 5: hundreds of idle, half-sent and vanishing connections take a bounded pool, log no traceback, and leave it serving.
def test_hundreds_of_half_open_connections_take_bounded_threads_and_log_no_tracebacks(server, caplog, capfd):
    caplog.set_level(logging.DEBUG, logger="shoes_serve")
    before = threading.active_count()
    sockets, peak = [], before
    try:
        for i in range(300):
            sock = socket.create_connection(("127.0.0.1", server.rest_port), timeout=10)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() resets
            if i % 3 == 1:
                sock.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{{".encode())
            elif i % 3 == 2:
                sock.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(json.dumps(GOOD))}\r\n\r\n{json.dumps(GOOD)}".encode())
            sockets.append(sock)
            if i % 50 == 49:
                time.sleep(0.2)
                peak = max(peak, threading.active_count())
        time.sleep(0.5)
        peak = max(peak, threading.active_count())
    finally:
        for sock in sockets:
            sock.close()
    time.sleep(1.0)
    assert peak - before <= 72, f"{peak - before} threads for 300 connections"
    assert_rest_serving(server)
    assert not tracebacks(caplog, capfd)


# 6: during a drain, new connections get 503 at once, as does the next request on a kept-alive connection.
def test_new_connections_during_a_drain_get_503_at_once(model_base):
    with running_server(entries_from_base(model_base)) as running:
        kept = http.client.HTTPConnection("127.0.0.1", running.rest_port, timeout=10)
        kept.request("GET", "/v1/models/shoes")
        assert kept.getresponse().read() and True
        hanging = socket.create_connection(("127.0.0.1", running.rest_port), timeout=10)  # an in-flight request
        hanging.sendall(f"POST {PREDICT} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n".encode())
        time.sleep(0.2)
        stopping = threading.Thread(target=running.stop, kwargs={"grace": 3})
        stopping.start()
        try:
            time.sleep(0.5)
            started = time.monotonic()
            try:
                fresh = http.client.HTTPConnection("127.0.0.1", running.rest_port, timeout=10)
                fresh.request("GET", "/v1/models/shoes")
                answer = fresh.getresponse()
                assert answer.status == 503 and "shutting down" in json.loads(answer.read())["error"]
            except ConnectionRefusedError:
                pass
            assert time.monotonic() - started < 1.0
            kept.request("GET", "/v1/models/shoes")
            answer = kept.getresponse()
            assert answer.status == 503 and answer.getheader("Connection") == "close"
        finally:
            hanging.close()
            stopping.join()


# 7: only ASCII decimal folders are versions; others are warned about once; a vanished serving version is warned about.
@pytest.mark.parametrize("odd", ["²", "١", "٣", "1e3", "+2", " 3", str(1 << 63)])
def test_versions_on_disk_takes_only_ascii_decimal_int64_folders(tmp_path, odd):
    (tmp_path / "1").mkdir()
    (tmp_path / odd).mkdir()
    (tmp_path / ".tmp-2").mkdir()
    assert versions_on_disk(tmp_path) == {1: tmp_path / "1"}


def test_a_non_ascii_digit_folder_is_warned_once_and_does_not_stop_new_versions(tmp_path, caplog):
    base = tmp_path / "models"
    first = export_shoes_version(base, 1)
    (base / "shoes" / "²").mkdir()
    (base / "shoes" / "٣").mkdir()
    with running_server(entries_from_base(base)) as running, connected(running) as client:
        assert_serving(client)
        shutil.copytree(first, base / "shoes" / "2")
        running.store.poll()
        running.store.poll()
        versions = [v.version for v in client.model.GetModelStatus(status_request(), timeout=30).model_version_status]
        assert 2 in versions
        assert client.predict.Predict(shoes_request(), timeout=30).model_spec.version.value == 2
        odd = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "not a version" in r.getMessage()]
        assert len(odd) == 2 and any("²" in m for m in odd) and any("٣" in m for m in odd), odd

        caplog.clear()
        shutil.rmtree(base / "shoes" / "2")
        running.store.poll()
        gone = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "disappeared" in r.getMessage()]
        assert len(gone) == 1 and "shoes version 2" in gone[0], gone
        assert client.predict.Predict(shoes_request(), timeout=30).model_spec.version.value == 1
