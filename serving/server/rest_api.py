"""TF Serving's REST API over the core: model status, metadata and predict (row and columnar JSON)."""

from __future__ import annotations

import base64
import binascii
import errno
import json
import logging
import os
import queue
import re
import selectors
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler

import grpc
import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

from serving.server.core import ServingCore
from serving.server.errors import ServingError, invalid_argument
from serving.server.grpc_api import metadata_response, status_response

logger = logging.getLogger("shoes_serve")

MAX_JSON_DEPTH = 32  # Nesting levels of one input's value (numpy arrays have at most 64 dimensions; models take a few).
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


def _json_value(value, dtype: tf.DType, alias: str, depth: int = 0):
    """A JSON value (nested lists, strings, ``{"b64": ...}``) as what numpy takes for `dtype`.

    Raises:
        ServingError: INVALID_ARGUMENT for a value nested deeper than MAX_JSON_DEPTH or of the wrong type.
    """
    if isinstance(value, list):
        if depth >= MAX_JSON_DEPTH:
            raise invalid_argument(f"Input {alias!r} is nested too deep: at most {MAX_JSON_DEPTH} levels of lists")
        return [_json_value(v, dtype, alias, depth + 1) for v in value]
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
        try:
            return value.encode()
        except UnicodeEncodeError as error:  # A lone surrogate ("\ud800") is valid JSON but no UTF-8 string.
            raise invalid_argument(f"Input {alias!r} holds a string that is not valid Unicode: {error.reason} at {error.start}") from None
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
    except RecursionError:  # json's depth limit is the interpreter's recursion limit (about 1000 levels).
        raise invalid_argument("JSON Parse error: the document is nested too deep") from None
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
            logger.exception("REST %s %s failed", method, path)
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


def default_rest_threads() -> int:
    """TF Serving's default (``--rest_api_num_threads``: 4 per CPU), kept between 8 and 64."""
    return max(8, min(64, 4 * (os.cpu_count() or 1)))


class _Connection:
    """One client connection: its socket, its request handler (kept across keep-alive requests), and since when it
    has been waiting for its next request."""

    __slots__ = ("sock", "address", "handler", "parked_at")

    def __init__(self, sock: socket.socket, address):
        self.sock, self.address = sock, address
        self.handler = None
        self.parked_at = time.monotonic()


class RestServer(socketserver.TCPServer):
    """An HTTP server with a fixed pool of `threads` workers, as TF Serving's (libevent plus a thread pool).

    One event-loop thread accepts connections and parks every connection that waits for a request; a connection
    takes a worker only once it has bytes to read, and goes back to the loop between keep-alive requests. So
    thousands of idle or half-open connections cost a file descriptor each, not a thread each, and a client that
    went away is one debug line, not a traceback. A connection idle for `idle_timeout` seconds is closed.

    `drain` (shutdown) keeps accepting: new requests, and the next request on a kept-alive connection, are answered
    503 at once until the requests in flight are done (or the grace ends); then the listening socket is closed,
    so later connections are refused at once.
    """

    allow_reuse_address = True
    request_queue_size = 256  # The listen backlog: the default of 5 resets connections under load.

    def __init__(self, address, handler, threads: int, idle_timeout: float):
        if threads < 1:
            raise ValueError(f"--rest-threads must be at least 1. Received: {threads}")
        super().__init__(address, handler)
        self.socket.setblocking(False)
        self.threads, self.idle_timeout = threads, idle_timeout
        self.in_flight = 0
        self.stopping = False
        self.idle = threading.Condition()
        self._closed = False
        self._ready: queue.SimpleQueue = queue.SimpleQueue()  # connections with bytes to read, for the workers
        self._returned: queue.SimpleQueue = queue.SimpleQueue()  # connections a worker hands back to the loop
        self._open: set[_Connection] = set()
        self._open_lock = threading.Lock()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._loop_started, self._loop_done = False, threading.Event()
        self._workers = [threading.Thread(target=self._work, name=f"rest-{i}", daemon=True) for i in range(threads)]
        for worker in self._workers:
            worker.start()

    # The event loop: accept, park, hand readable connections to the workers, expire idle ones.
    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._loop_started = True
        selector = selectors.DefaultSelector()
        selector.register(self.socket, selectors.EVENT_READ, "listen")
        selector.register(self._wake_read, selectors.EVENT_READ, "wake")
        parked: dict[_Connection, None] = {}  # insertion order = parking order, oldest first
        accept_paused_until = 0.0
        try:
            while not self._closed:
                now = time.monotonic()
                if accept_paused_until and now >= accept_paused_until:
                    selector.register(self.socket, selectors.EVENT_READ, "listen")
                    accept_paused_until = 0.0
                for key, _ in selector.select(timeout=min(poll_interval, self.idle_timeout)):
                    if key.data == "listen":
                        if not self._accept(selector, parked):
                            selector.unregister(self.socket)  # Out of file descriptors: retry shortly.
                            accept_paused_until = time.monotonic() + 0.1
                    elif key.data == "wake":
                        self._drain_wakeups()
                    else:
                        selector.unregister(key.fileobj)
                        parked.pop(key.data, None)
                        self._ready.put(key.data)
                while True:
                    try:
                        connection = self._returned.get_nowait()
                    except queue.Empty:
                        break
                    connection.parked_at = time.monotonic()
                    parked[connection] = None
                    selector.register(connection.sock, selectors.EVENT_READ, connection)
                expired = time.monotonic() - self.idle_timeout
                for connection in [c for c in parked if c.parked_at < expired]:
                    selector.unregister(connection.sock)
                    del parked[connection]
                    self._close(connection)
        finally:
            for connection in list(parked):
                self._close(connection)
            selector.close()
            self._loop_done.set()

    def _accept(self, selector, parked) -> bool:
        """Accepts every pending connection; False when the process is out of file descriptors."""
        while True:
            try:
                sock, address = self.socket.accept()
            except BlockingIOError:
                return True
            except OSError as error:
                if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    logger.warning("REST: cannot accept connections (%s); retrying in 0.1 s", error.strerror)
                    return False
                logger.debug("REST: accept failed: %s", error)  # e.g. ECONNABORTED: the client left first
                continue
            connection = _Connection(sock, address)
            with self._open_lock:
                self._open.add(connection)
            parked[connection] = None
            selector.register(sock, selectors.EVENT_READ, connection)

    def _wake(self) -> None:
        try:
            self._wake_write.send(b"x")
        except (BlockingIOError, OSError):
            pass  # The loop has wake-ups pending already (or is closed).

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    # The workers: serve requests while the connection has some, then park it again.
    def _work(self) -> None:
        while True:
            connection = self._ready.get()
            if connection is None:
                return
            self._serve(connection)

    def _serve(self, connection: _Connection) -> None:
        try:
            if connection.handler is None:
                connection.handler = self.RequestHandlerClass(connection.sock, connection.address, self)
            handler = connection.handler
            while True:
                handler.handle_one_request()
                if handler.close_connection or self._closed:
                    break
                if not self._buffered(handler):
                    self._returned.put(connection)
                    self._wake()
                    return
        except OSError as error:  # The client went away (reset, broken pipe) or timed out: not the server's fault.
            logger.debug("REST client %s:%s went away: %s", *connection.address[:2], error)
        except Exception:  # A bug costs one connection, not a worker.
            logger.exception("REST connection from %s:%s failed", *connection.address[:2])
        self._close(connection)

    @staticmethod
    def _buffered(handler) -> bool:
        """Whether the next request already waits in the handler's read buffer or the socket (pipelining)."""
        sock = handler.connection
        sock.settimeout(0)
        try:
            return bool(handler.rfile.peek(1))
        except OSError:
            return False  # Let the loop find the error (readable) and a worker close it.
        finally:
            sock.settimeout(handler.timeout)

    def _close(self, connection: _Connection) -> None:
        with self._open_lock:
            self._open.discard(connection)
        sock = connection.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            sock.recv(1 << 16)  # What the client sent unread: closing over it would reset the answer away.
        except OSError:
            pass
        try:
            if connection.handler is not None:
                connection.handler.finish()
        except OSError:
            pass
        sock.close()

    # Shutdown.
    def drain(self, grace: float) -> None:
        """Answers 503 to every new request while the in-flight ones finish (up to `grace` seconds), then closes."""
        with self.idle:
            self.stopping = True
            self.idle.wait_for(lambda: self.in_flight == 0, timeout=grace)
        self.server_close()

    def server_close(self) -> None:
        """Closes the listening socket, the parked connections, and (shut down) the ones still in a worker."""
        if self._closed:
            return
        self._closed = True
        self._wake()
        if self._loop_started:
            self._loop_done.wait(timeout=5)
        with self._open_lock:
            busy = list(self._open)
        for connection in busy:
            try:
                connection.sock.shutdown(socket.SHUT_RDWR)  # A worker blocked reading it returns at once.
            except OSError:
                pass
        for _ in self._workers:
            self._ready.put(None)
        super().server_close()
        self._wake_read.close()
        self._wake_write.close()


def make_http_server(api: RestApi, host: str, port: int, read_timeout: float = 60.0, threads: int | None = None) -> RestServer:
    """An HTTP server that answers every request through `api`, on a fixed pool of worker threads.

    Args:
        api: the routes.
        host: interface to bind.
        port: port (0 picks a free one).
        read_timeout: seconds a client may take to send its request (also how long an idle connection is kept).
        threads: worker threads (None: `default_rest_threads`).
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "shoes-serve"
        timeout = read_timeout

        def __init__(self, request, client_address, server):  # Set up only: the server calls handle_one_request.
            self.request, self.client_address, self.server = request, client_address, server
            self.close_connection = True
            self.setup()

        def _read_body(self) -> bytes | tuple[int, str, str]:
            """The request body, or the error answer when its size is missing, malformed or too large."""
            if self.headers.get("Transfer-Encoding"):
                return _error(411, "Send the body with a Content-Length (chunked transfer is not accepted)")
            text = self.headers.get("Content-Length") or "0"
            if not (text.isascii() and text.isdigit()):  # "²".isdigit() is True, but int("²") fails.
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
                self._send(status, kind, text.encode())
            finally:
                with server.idle:
                    server.in_flight -= 1
                    server.idle.notify_all()

        def _send(self, status: int, kind: str, data: bytes, message: str | None = None) -> None:
            self.send_response(status, message)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            if self.server.stopping or self.close_connection:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def __getattr__(self, name: str):
            # Every method reaches the API, which answers TF Serving's 400 "Malformed request: <METHOD> <path>" to
            # those it does not route (http_rest_api_handler.cc makes any other method InvalidArgument), as JSON.
            if name.startswith("do_"):
                return lambda: self._answer(name[3:])
            raise AttributeError(name)

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            if self.request_version == "HTTP/0.9":  # No status line, no headers: nothing TF Serving's clients send.
                self.send_error(400, "HTTP/0.9 requests are not served")
                return False
            return True

        def send_error(self, code, message=None, explain=None):
            """Errors of the HTTP layer (bad request line, headers too long, ...) as TF Serving-style JSON."""
            self.log_error("code %d, message %s", code, message)
            if self.request_version in ("", "HTTP/0.9"):
                self.request_version = "HTTP/1.0"  # So the answer has a status line.
            self.close_connection = True
            short = self.responses.get(code, ("Error",))[0]
            self._send(code, "application/json", json.dumps({"error": message or short}).encode(), short)

        def log_message(self, format, *args):  # Request logs go to the debug logger, not stderr.
            logging.getLogger("shoes_serve.http").debug(format, *args)

    return RestServer((host, port), Handler, threads or default_rest_threads(), read_timeout)
