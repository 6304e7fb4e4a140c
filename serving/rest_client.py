"""`RestClient`: the `ShoesClient` methods over TF Serving's REST API (stdlib HTTP, no TensorFlow).

Requests use the columnar format (``{"signature_name", "inputs"}``); ``bytes`` travel as
``{"b64": ...}``, ``str`` as plain strings. Answers come back as numpy arrays typed by the
signature's output dtypes (read once from the model's metadata when an answer holds numbers),
strings as bytes, so both transports return the same arrays.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
from google.protobuf import json_format

from serving import wire
from serving.client import DEFAULT_SIGNATURE, BaseClient, ServingError

# TF Serving's http_server.cc maps status codes to HTTP; this maps back (400 also stands for
# FAILED_PRECONDITION and OUT_OF_RANGE, 500 for UNKNOWN and DATA_LOSS, 409 for ALREADY_EXISTS).
HTTP_CODES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def to_json(value):
    """An input value in TF Serving's JSON: nested lists, ``bytes`` as ``{"b64": ...}``.

    Args:
        value: a numpy array or scalar, a (nested) list, str, bytes or number.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


def _is_b64(value) -> bool:
    return isinstance(value, dict) and set(value) == {"b64"}


def _strings_to_bytes(value):
    """JSON strings and ``{"b64": ...}`` objects -> bytes, at any nesting depth."""
    if _is_b64(value):
        return base64.b64decode(value["b64"])
    if isinstance(value, str):
        return value.encode("utf-8")
    return [_strings_to_bytes(item) for item in value] if isinstance(value, list) else value


def _first_leaf(value):
    while isinstance(value, list) and value:
        value = value[0]
    return value


class RestClient(BaseClient):
    """The REST client (``/v1/models/NAME[/versions/N | /labels/L][/metadata | :predict]``).

    Args:
        url: the server's REST root, e.g. ``http://localhost:8501``.
        model: model name on the server.
        version: a version number to pin, or None for the server's choice.
        version_label: a version label to pin instead (not with `version`).
        timeout: seconds each HTTP request may take.
        retries: how many times a request answered 503 or refused is repeated.
        backoff: seconds before the first retry; doubles with every further retry.
    """

    def __init__(
        self,
        url: str = "http://localhost:8501",
        model: str = "shoes",
        *,
        version: int | None = None,
        version_label: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.1,
    ):
        super().__init__(model, version, version_label, timeout, retries, backoff)
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://. Received: url={url!r}")
        self.url = url.rstrip("/")
        self._signatures = None  # the last SignatureDefMap fetched (output dtypes and names come from it)

    def _forget_model(self) -> None:
        self._signatures = None

    @property
    def model_url(self) -> str:
        """The model's REST resource, with the pinned version or label."""
        url = f"{self.url}/v1/models/{urllib.parse.quote(self.model, safe='')}"
        if self.version is not None:
            return f"{url}/versions/{self.version}"
        if self.version_label is not None:
            return f"{url}/labels/{urllib.parse.quote(self.version_label, safe='')}"
        return url

    def _request(self, url: str, body: dict | None = None) -> dict:
        """GETs `url` (POSTs `body` as JSON when given); returns the JSON answer or raises ServingError."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            raise ServingError(HTTP_CODES.get(error.code, "UNKNOWN"), _error_message(error)) from None
        except TimeoutError:
            raise ServingError("DEADLINE_EXCEEDED", f"no answer from {url} within {self.timeout} s") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise ServingError("DEADLINE_EXCEEDED", f"no answer from {url} within {self.timeout} s") from None
            raise ServingError("UNAVAILABLE", f"cannot reach {url}: {error.reason}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ServingError("UNKNOWN", f"{url} answered with something other than JSON: {text[:200]!r}") from None

    def _send_predict(self, inputs, signature_name, output_filter):
        body = {"signature_name": signature_name, "inputs": {name: to_json(value) for name, value in inputs.items()}}
        outputs = self._request(f"{self.model_url}:predict", body).get("outputs")
        if not isinstance(outputs, dict) or _is_b64(outputs):  # TF Serving drops the name of a lone output
            outputs = {self._output_names(signature_name)[0]: outputs}
        missing = sorted(set(output_filter) - set(outputs))
        if missing:
            raise ServingError("INVALID_ARGUMENT", f"output_filter names {missing}; the outputs are {sorted(outputs)}")
        return {name: self._to_array(signature_name, name, outputs[name]) for name in output_filter or outputs}

    def _to_array(self, signature_name: str, name: str, value) -> np.ndarray:
        if isinstance(_first_leaf(value), (str, dict)):
            array = np.empty(np.shape(value), dtype=object)  # shape first: numpy would split bytes otherwise
            array[...] = _strings_to_bytes(value)
            return array
        return np.asarray(value, dtype=self._output_dtype(signature_name, name))

    def _signature(self, signature_name: str):
        signature_name = signature_name or DEFAULT_SIGNATURE
        if self._signatures is None:
            self._send_metadata()
        if signature_name not in self._signatures.signature_def:
            known = sorted(self._signatures.signature_def)
            raise ServingError("FAILED_PRECONDITION", f"No signature {signature_name!r} in the metadata: {known}")
        return self._signatures.signature_def[signature_name]

    def _output_names(self, signature_name: str) -> list[str]:
        return sorted(self._signature(signature_name).outputs)

    def _output_dtype(self, signature_name: str, name: str) -> np.dtype | None:
        outputs = self._signature(signature_name).outputs
        return wire.numpy_dtype(outputs[name].dtype) if name in outputs else None

    def _send_status(self):
        answer = self._request(self.model_url)
        return json_format.ParseDict(answer, wire.GetModelStatusResponse(), ignore_unknown_fields=True)

    def _send_metadata(self):
        answer = self._request(f"{self.model_url}/metadata")
        signatures = answer.get("metadata", {}).get("signature_def")
        if not isinstance(signatures, dict):
            raise ServingError("UNKNOWN", f"{self.model_url}/metadata answered without signature_def: {answer}")
        signatures = {key: value for key, value in signatures.items() if key != "@type"}  # the Any's type, if printed
        self._signatures = json_format.ParseDict(signatures, wire.SignatureDefMap(), ignore_unknown_fields=True)
        return self._signatures


def _error_message(error: urllib.error.HTTPError) -> str:
    """The ``{"error": ...}`` text of an HTTP error answer (its raw body or reason otherwise)."""
    body = error.read().decode("utf-8", errors="replace")
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body.strip() or f"HTTP {error.code} {error.reason}"
