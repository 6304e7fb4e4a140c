"""Serving errors as TF Serving reports them: a canonical status code plus a message."""

from __future__ import annotations

import grpc

# TF Serving's REST mapping (model_servers/http_server.cc, ToHTTPStatusCode).
HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class ServingError(Exception):
    """A request failed with a canonical status `code` (``grpc.StatusCode``) and a message for the caller."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self.code, 500)

    @property
    def error_code(self) -> int:
        """The numeric code (``tensorflow.error.Code`` uses the same numbers)."""
        return self.code.value[0]


def invalid_argument(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.NOT_FOUND, message)


def from_tensorflow(error) -> ServingError:
    """A ``tf.errors.OpError`` as a ServingError with the same code and the op's own message."""
    code = _BY_NUMBER.get(getattr(error, "error_code", 2), grpc.StatusCode.UNKNOWN)
    return ServingError(code, clean_message(getattr(error, "message", str(error))))


def clean_message(message: str) -> str:
    """The caller-facing part of a TensorFlow op error: an assertion's own text, without graph internals."""
    marker = "assertion failed: ["
    if marker in message:
        start = message.index(marker) + len(marker)
        line = message[start:].split("\n", 1)[0]
        # The assertion's own text is the first of its "[...] [...]" items; it may hold brackets ("in [0, 6]").
        end = line.find("] [")
        if end == -1:
            end = line.rfind("]") if "]" in line else len(line)
        return line[:end].strip()
    lines = [line.strip() for line in message.split("\n\t [[")[0].splitlines() if line.strip()]
    meaningful = [line for line in lines if not line.startswith(("Graph execution error", "Detected at node", "<stack traces"))]
    return (meaningful or lines or [message])[-1]
