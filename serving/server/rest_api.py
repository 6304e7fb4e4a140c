"""TF Serving's REST API over the core: model status, metadata and predict (row and columnar JSON)."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from serving.server.core import ServingCore
from serving.server.errors import ServingError, invalid_argument
from serving.server.grpc_api import metadata_response, status_response

_SPEC = r"/v1/models/([^/:]+)(?:/versions/(\d+)|/labels/([^/:]+))?"
PREDICT_PATH = re.compile(rf"(?i){_SPEC}:(predict|classify|regress)")
STATUS_PATH = re.compile(rf"(?i){_SPEC}(/metadata)?")


def _version(text: str | None) -> int | None:
    """A path's version number; INVALID_ARGUMENT (not a 500) when it does not fit an int64, as in TF Serving."""
    if not text:
        return None
    if int(text) >= 1 << 63:
        raise invalid_argument(f"Failed to convert version: {text}")
    return int(text)


def _model_spec(spec, name: str, version: str | None, label: str | None) -> None:
    spec.name = name
    if version:
        spec.version.value = _version(version)
    elif label:
        spec.version_label = label


def _json_value(value, dtype: tf.DType, alias: str):
    """A JSON value (nested lists, strings, ``{"b64": ...}``) as what numpy takes for `dtype`."""
    if isinstance(value, list):
        return [_json_value(v, dtype, alias) for v in value]
    if isinstance(value, dict):
        if set(value) != {"b64"} or dtype != tf.string:
            raise invalid_argument(f"Input {alias!r}: objects are only {{\"b64\": ...}} values of string inputs. Received: {json.dumps(value)[:80]}")
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (binascii.Error, TypeError):
            raise invalid_argument(f"Input {alias!r}: the b64 value is not valid base64") from None
    if dtype == tf.string:
        if not isinstance(value, str):
            raise invalid_argument(f"Input {alias!r} expects strings. Received: {json.dumps(value)[:80]}")
        return value.encode()
    wrong_number = (isinstance(value, bool) and dtype != tf.bool) or (isinstance(value, float) and dtype.is_integer)  # 1.5 -> int64: no
    if isinstance(value, str) or value is None or wrong_number:
        raise invalid_argument(f"Input {alias!r} expects {dtype.name} numbers. Received: {json.dumps(value)[:80]}")
    return value


def to_array(value, info, alias: str) -> np.ndarray:
    """One input's JSON value as an array of the signature's dtype.

    Raises:
        ServingError: INVALID_ARGUMENT for ragged lists or values of the wrong type.
    """
    dtype = tf.dtypes.as_dtype(info.dtype)
    converted = _json_value(value, dtype, alias)
    try:
        array = np.array(converted, dtype=object if dtype == tf.string else dtype.as_numpy_dtype)
    except (ValueError, TypeError, OverflowError) as error:
        raise invalid_argument(f"Input {alias!r} is not a rectangular list of {dtype.name} values: {error}") from None
    if dtype != tf.string and array.dtype == object:
        raise invalid_argument(f"Input {alias!r} is not a rectangular list of {dtype.name} values")
    return array


def parse_predict_body(body: bytes, servable_inputs) -> tuple[str, dict[str, np.ndarray], bool]:
    """A predict request body -> ``(signature_name, inputs, row_format)``.

    Args:
        body: the JSON request.
        servable_inputs: callable taking a signature name and returning its SignatureDef.

    Raises:
        ServingError: INVALID_ARGUMENT for malformed JSON or inputs.
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise invalid_argument(f"JSON Parse error: {error}") from None
    if not isinstance(doc, dict):
        raise invalid_argument("The request body must be a JSON object with 'instances' or 'inputs'")
    signature_name = doc.get("signature_name", "")
    if not isinstance(signature_name, str):
        raise invalid_argument("'signature_name' must be a string")
    if ("instances" in doc) == ("inputs" in doc):
        raise invalid_argument("Not formatted correctly: expecting exactly one of 'inputs' or 'instances' keys")
    signature = servable_inputs(signature_name)
    infos = dict(signature.inputs)
    if "instances" in doc:
        rows = doc["instances"]
        if not isinstance(rows, list) or not rows:
            raise invalid_argument("'instances' must be a non-empty list")
        if all(isinstance(row, dict) and set(row) != {"b64"} for row in rows):
            keys = set(rows[0])
            if any(set(row) != keys for row in rows):
                raise invalid_argument("Every instance must have the same named inputs")
            columns = {alias: [row[alias] for row in rows] for alias in keys}
        elif len(infos) == 1:
            columns = {next(iter(infos)): rows}
        else:
            raise invalid_argument(f"Instances must be objects naming the inputs {sorted(infos)}")
        row_format = True
    else:
        columns = doc["inputs"]
        if not isinstance(columns, dict) or set(columns) == {"b64"}:
            if len(infos) != 1:
                raise invalid_argument(f"'inputs' must be an object naming the inputs {sorted(infos)}")
            columns = {next(iter(infos)): columns}
        row_format = False
    unknown = sorted(set(columns) - set(infos))
    if unknown:
        raise invalid_argument(f"Inputs {unknown} are not in signature {signature_name or 'serving_default'!r}. Its inputs: {sorted(infos)}")
    return signature_name, {alias: to_array(value, infos[alias], alias) for alias, value in columns.items()}, row_format


def _json_output(alias: str, value):
    """An output (or one row of it) as JSON values: numbers via ``tolist``, bytes as text or ``{"b64": ...}``."""
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value.tolist()
    if isinstance(value, np.ndarray):
        return [_json_output(alias, v) for v in value] if value.ndim else _json_output(alias, value.item())
    if isinstance(value, bytes):
        if alias.endswith("_bytes"):
            return {"b64": base64.b64encode(value).decode()}
        try:
            return value.decode()
        except UnicodeDecodeError:
            return {"b64": base64.b64encode(value).decode()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def predict_json(outputs: dict[str, np.ndarray], row_format: bool) -> dict:
    """Outputs as TF Serving writes them: ``predictions`` rows, or ``outputs`` columns.

    Raises:
        ServingError: INVALID_ARGUMENT when rows are asked for but the outputs differ in batch size.
    """
    if not row_format:
        columns = {alias: _json_output(alias, value) for alias, value in outputs.items()}
        return {"outputs": next(iter(columns.values())) if len(columns) == 1 else columns}
    sizes = {value.shape[0] if value.ndim else None for value in outputs.values()}
    if len(sizes) != 1 or None in sizes:
        raise invalid_argument("Tensors in the output have different batch sizes; ask with 'inputs' (columnar format) instead")
    count = sizes.pop()
    if len(outputs) == 1:
        alias, value = next(iter(outputs.items()))
        return {"predictions": [_json_output(alias, value[i]) for i in range(count)]}
    return {"predictions": [{alias: _json_output(alias, value[i]) for alias, value in outputs.items()} for i in range(count)]}


class RestApi:
    """Routes REST calls to the core; every answer is ``(http_status, json_text)``.

    Args:
        core: the shared serving core.
        prometheus_path: where metrics are served ("" turns them off).
        max_request_bytes: the largest body accepted.
    """

    def __init__(self, core: ServingCore, prometheus_path: str = "/monitoring/prometheus/metrics", max_request_bytes: int = 16 << 20):
        self.core = core
        self.prometheus_path = prometheus_path
        self.max_request_bytes = max_request_bytes

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str, str]:
        """One request -> ``(status, content_type, text)``; errors are ``{"error": ...}`` with TF Serving's status mapping."""
        if method == "GET" and self.prometheus_path and path == self.prometheus_path:
            return 200, "text/plain; version=0.0.4", self.core.metrics.render()
        try:
            return 200, "application/json", json.dumps(self._route(method, path, body), indent=None)
        except ServingError as error:
            return error.http_status, "application/json", json.dumps({"error": error.message})
        except Exception as error:  # A bug must cost one request, not the server.
            logging.getLogger("shoes_serve").exception("REST %s %s failed", method, path)
            return 500, "application/json", json.dumps({"error": f"Internal error: {type(error).__name__}: {error}"})

    def _route(self, method: str, path: str, body: bytes) -> dict:
        if method == "POST" and (match := PREDICT_PATH.fullmatch(path)):
            name, version, label, verb = match.groups()
            if verb.lower() != "predict":
                self.core.store.resolve(name, _version(version), label)
                raise ServingError(grpc.StatusCode.UNIMPLEMENTED, f"{verb} is not served by shoes-serve: its models have only predict signatures.")
            return self.core.timed(name, "rest_predict", lambda: self._predict(name, version, label, body))
        if method == "GET" and (match := STATUS_PATH.fullmatch(path)):
            name, version, label, metadata = match.groups()
            if metadata:
                request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
                _model_spec(request.model_spec, name, version, label)
                response = metadata_response(self.core, request)
                signature_map = get_model_metadata_pb2.SignatureDefMap()
                response.metadata["signature_def"].Unpack(signature_map)
                return {
                    "model_spec": {"name": name, "signature_name": "", "version": str(response.model_spec.version.value)},
                    "metadata": {"signature_def": _message_json(signature_map)},
                }
            request = get_model_status_pb2.GetModelStatusRequest()
            _model_spec(request.model_spec, name, version, label)
            return _message_json(status_response(self.core, request))
        if not path.lower().startswith("/v1/"):
            raise ServingError(grpc.StatusCode.NOT_FOUND, f"Not found: {path} (the API lives under /v1/models/)")
        raise invalid_argument(f"Malformed request: {method} {path}")

    def _predict(self, name: str, version: str | None, label: str | None, body: bytes) -> dict:
        servable = self.core.store.resolve(name, _version(version), label)
        signature_name, inputs, row_format = parse_predict_body(body, servable.signature)
        _, _, outputs = self.core.predict(name, servable.version, None, signature_name, inputs, servable=servable)
        return predict_json(outputs, row_format)


def _message_json(message) -> dict:
    return json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)


def _error(status: int, message: str) -> tuple[int, str, str]:
    return status, "application/json", json.dumps({"error": message})


class RestServer(ThreadingHTTPServer):
    """A threading HTTP server that counts in-flight requests so a shutdown can wait for them."""

    daemon_threads = True
    request_queue_size = 256  # The listen backlog: the default of 5 resets connections under load.

    def __init__(self, address, handler):
        super().__init__(address, handler)
        self.in_flight = 0
        self.stopping = False
        self.idle = threading.Condition()

    def drain(self, grace: float) -> None:
        """Stops accepting, then waits up to `grace` seconds for in-flight requests to be answered."""
        with self.idle:
            self.stopping = True
        self.shutdown()
        with self.idle:
            self.idle.wait_for(lambda: self.in_flight == 0, timeout=grace)
        self.server_close()


def make_http_server(api: RestApi, host: str, port: int, read_timeout: float = 60.0) -> RestServer:
    """A threading HTTP server that answers every request through `api`.

    Args:
        api: the routes.
        host: interface to bind.
        port: port (0 picks a free one).
        read_timeout: seconds a client may take to send its request.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shoes-serve"
        timeout = read_timeout

        def _read_body(self) -> bytes | tuple[int, str, str]:
            """The request body, or the error answer when its size is missing, malformed or too large."""
            if self.headers.get("Transfer-Encoding"):
                return _error(411, "Send the body with a Content-Length (chunked transfer is not accepted)")
            text = self.headers.get("Content-Length") or "0"
            if not text.isdigit():
                return _error(400, f"Content-Length must be a non-negative integer. Received: {text!r}")
            length = int(text)
            if length > api.max_request_bytes:
                return _error(429, f"Request body of {length} bytes exceeds the limit of {api.max_request_bytes} (--max-request-bytes)")
            return self.rfile.read(length) if length else b""

        def _answer(self, method: str) -> None:
            server = self.server
            with server.idle:
                server.in_flight += 1
            try:
                body = self._read_body()
                if isinstance(body, tuple):
                    status, kind, text = body
                    self.close_connection = True
                elif server.stopping:
                    status, kind, text = _error(503, "The server is shutting down")
                    self.close_connection = True
                else:
                    status, kind, text = api.handle(method, self.path.split("?")[0], body)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                if server.stopping:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(data)
            finally:
                with server.idle:
                    server.in_flight -= 1
                    server.idle.notify_all()

        def do_GET(self):
            self._answer("GET")

        def do_POST(self):
            self._answer("POST")

        def log_message(self, format, *args):  # Request logs go to the debug logger, not stderr.
            logging.getLogger("shoes_serve.http").debug(format, *args)

    return RestServer((host, port), Handler)
