"""A thin client for the shoe generators behind TF Serving (or ``shoes-serve``), without TensorFlow.

`ShoesClient` speaks gRPC, `RestClient` (in ``serving.rest_client``, importable from here too)
the REST API; both offer the same methods and share everything but the sending::

    with ShoesClient("localhost:8500") as client:
        shoes = client.generate(4, seed=0, color="red", category="sneaker")  # PIL images
        print(client.labels())  # {"category": [...], "color": [...]}

Failed calls raise `ServingError` with TF Serving's status name and message. Calls that find the
server UNAVAILABLE are retried with exponential backoff; every call has a deadline.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Iterable, Mapping

import grpc
import numpy as np
from PIL import Image

from serving import wire

MiB = 1 << 20
DEFAULT_SIGNATURE = "serving_default"


class ServingError(Exception):
    """A failed call.

    Args:
        code: the gRPC status name, e.g. ``"INVALID_ARGUMENT"``.
        message: the server's message.
    """

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code, self.message = code, message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def generate_inputs(n: int, seed: int, truncation: float | None, labels: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The ``serving_default`` inputs for `n` shoes: seeds ``seed..seed+n-1`` and one string per label and shoe.

    Args:
        n: number of shoes, >= 1.
        seed: first seed.
        truncation: sent as a float32 ``truncation`` input when not None.
        labels: label name -> one value for every shoe, or a sequence of `n` values.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer. Received: n={n!r}")
    inputs = {"seed": np.arange(seed, seed + n, dtype=np.int64)}
    for name, value in labels.items():
        values = [value] * n if isinstance(value, (str, bytes)) else list(value)
        if len(values) != n:
            raise ValueError(f"Label {name!r} needs one value or {n} values. Received: {value!r}")
        inputs[name] = np.array([str(v) if not isinstance(v, bytes) else v for v in values], dtype=object)
    if truncation is not None:
        inputs["truncation"] = np.full([n], truncation, dtype=np.float32)
    return inputs


def encode_image(image: Image.Image | str | Path | bytes) -> bytes:
    """PNG bytes of `image`.

    Args:
        image: a PIL image, an image file path, or encoded image bytes (any format PIL reads).
    """
    if isinstance(image, (str, Path, bytes)):
        with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as opened:
            image = opened.copy()
    if not isinstance(image, Image.Image):
        raise TypeError(f"Expected a PIL image, a path or encoded bytes. Received: {type(image).__name__}")
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def decode_images(outputs: Mapping[str, np.ndarray], name: str = "image_bytes") -> list[Image.Image]:
    """The PIL images of an output of encoded images (a string tensor).

    Args:
        outputs: the answer of `predict`.
        name: the output holding the encoded images.
    """
    if name not in outputs:
        raise ValueError(f"The model's answer has no {name!r} output. Received outputs: {sorted(outputs)}")
    images = []
    for data in np.asarray(outputs[name], dtype=object).ravel():
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            images.append(image)
    return images


def _tensor_infos(infos) -> dict[str, dict]:
    return {
        name: {
            "dtype": wire.DataType.Name(info.dtype),
            "shape": None if info.tensor_shape.unknown_rank else [dim.size for dim in info.tensor_shape.dim],
        }
        for name, info in sorted(infos.items())
    }


def signatures_to_dict(signature_map) -> dict[str, dict]:
    """A ``SignatureDefMap`` as plain data: name -> {method_name, inputs, outputs: {tensor: {dtype, shape}}}.

    Args:
        signature_map: a ``tensorflow.serving.SignatureDefMap``; unknown dimensions are -1, an unknown
            rank gives ``shape: None``.
    """
    return {
        name: {"method_name": s.method_name, "inputs": _tensor_infos(s.inputs), "outputs": _tensor_infos(s.outputs)}
        for name, s in sorted(signature_map.signature_def.items())
    }


def statuses_to_dicts(response) -> list[dict]:
    """A ``GetModelStatusResponse`` as ``[{"version", "state", "error": None | {"code", "message"}}]``.

    Args:
        response: the status answer.
    """
    return [
        {
            "version": status.version,
            "state": wire.ModelVersionStatus.State.Name(status.state),
            "error": None
            if status.status.error_code == wire.ErrorCode.OK
            else {"code": wire.ErrorCode.Name(status.status.error_code), "message": status.status.error_message},
        }
        for status in response.model_version_status
    ]


class BaseClient:
    """The methods both transports share; a subclass only sends (`_send_predict`, `_send_status`, `_send_metadata`).

    Takes `ShoesClient`'s arguments but the target and message size; calls answered UNAVAILABLE are
    retried `retries` times, waiting `backoff` seconds and twice as long before each further retry.
    """

    def __init__(
        self, model: str, version: int | None, version_label: str | None, timeout: float, retries: int, backoff: float
    ):
        if version is not None and version_label is not None:
            raise ValueError(f"Pin a version or a version label, not both. Received: {version=}, {version_label=}")
        self.model, self.version, self.version_label = model, version, version_label
        self.timeout, self.retries, self.backoff = timeout, retries, backoff

    def _send_predict(self, inputs: dict, signature_name: str, output_filter: list[str]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _send_status(self):
        """Returns a ``GetModelStatusResponse``."""
        raise NotImplementedError

    def _send_metadata(self):
        """Returns the model's ``SignatureDefMap``."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases the connection."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _retrying(self, send, *args):
        for attempt in range(self.retries + 1):
            try:
                return send(*args)
            except ServingError as error:
                if error.code != "UNAVAILABLE" or attempt == self.retries:
                    raise
            time.sleep(self.backoff * 2**attempt)

    def predict(
        self,
        inputs: Mapping[str, object],
        signature_name: str = DEFAULT_SIGNATURE,
        output_filter: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs a signature; returns its outputs as numpy arrays (strings as object arrays of bytes).

        Args:
            inputs: input name -> numpy array, (nested) list, scalar or TensorProto. Over gRPC, numpy
                arrays keep their dtype and lists are typed as ``tf.make_tensor_proto`` types them
                (ints as int32, floats as float32): pass int64 seeds as numpy arrays.
            signature_name: the signature to run.
            output_filter: names of the outputs to return (all when None).
        """
        inputs = {name: wire.to_ndarray(value) if _is_tensor_proto(value) else value for name, value in inputs.items()}
        return self._retrying(self._send_predict, inputs, signature_name, list(output_filter or ()))

    def generate(self, n: int, *, seed: int = 0, truncation: float | None = None, **labels) -> list[Image.Image]:
        """Generates `n` shoes from seeds ``seed..seed+n-1``; the same seed and labels give the same shoe.

        Args:
            n: number of shoes.
            seed: first seed.
            truncation: truncation threshold (BigGAN's trick; smaller = tamer shoes), or a StyleGAN2's psi
                (1 = off, 0.7 a usual choice); when given, the model's ``truncated`` signature is called
                instead of ``serving_default``.
            **labels: label values, e.g. ``color="red", category="ankle_boot"``: one string for all
                shoes or a list of `n`.
        """
        signature = DEFAULT_SIGNATURE if truncation is None else "truncated"
        outputs = self.predict(generate_inputs(n, seed, truncation, labels), signature_name=signature, output_filter=["image_bytes"])
        return decode_images(outputs)

    def translate(
        self,
        image: Image.Image | str | Path | bytes,
        *,
        mask: Image.Image | str | Path | bytes | None = None,
        alpha: float | None = None,
        signature: str = DEFAULT_SIGNATURE,
    ) -> Image.Image:
        """Runs an image-to-image model (sketch -> shoe, photo + mask -> product shot, A -> B) on one image.

        Args:
            image: a PIL image, an image path or encoded image bytes; sent as PNG ``image_bytes`` [1].
            mask: the mask of a photo + mask model, sent as ``mask_bytes``.
            alpha: a CycleGAN blend weight in [0, 1] (0 keeps the input's design, 1 is the full
                translation); calls the ``blend`` signature.
            signature: the signature to run (``b_to_a`` for a CycleGAN's way back).
        """
        inputs = {"image_bytes": np.array([encode_image(image)], dtype=object)}
        if mask is not None:
            inputs["mask_bytes"] = np.array([encode_image(mask)], dtype=object)
        if alpha is not None:
            inputs["alpha"] = np.array([alpha], dtype=np.float32)
            signature = "blend"
        return decode_images(self.predict(inputs, signature, output_filter=["image_bytes"]))[0]

    def mix(
        self,
        *,
        seed: int = 0,
        style_seed: int = 1,
        crossover: int,
        labels: Mapping[str, str] | None = None,
        style_labels: Mapping[str, str] | None = None,
        truncation: float = 1.0,
    ) -> Image.Image:
        """Combines two shoes of a StyleGAN2 model (its ``mix`` signature): the coarse layers (shape) of the
        first, the fine layers (details, colours) of the second.

        Args:
            seed: the first shoe's seed.
            style_seed: the second shoe's seed.
            crossover: the first synthesis layer taken from the second shoe (0: all of it; the model's
                ``num_ws``: none; the middle is a usual choice).
            labels: the first shoe's labels, e.g. ``{"category": "ankle_boot"}``.
            style_labels: the second shoe's labels where they differ from the first one's, e.g.
                ``{"category": "sneaker"}`` (the others are the first shoe's).
            truncation: psi toward each label combination's average shoe (1 = off).
        """
        labels = dict(labels or {})
        style_labels = {**labels, **(style_labels or {})}
        inputs = {
            "seed": np.array([seed], np.int64),
            "style_seed": np.array([style_seed], np.int64),
            "crossover": np.array([crossover], np.int64),
            "truncation": np.array([truncation], np.float32),
            **{name: np.array([str(value)], dtype=object) for name, value in labels.items()},
            **{f"style_{name}": np.array([str(value)], dtype=object) for name, value in style_labels.items()},
        }
        return decode_images(self.predict(inputs, "mix", output_filter=["image_bytes"]))[0]

    def invert(self, image: Image.Image | str | Path | bytes) -> tuple[np.ndarray, Image.Image]:
        """A StyleGAN2 model's latent of a photo (its ``invert`` signature): the designer's own sneaker as ``w``.

        Args:
            image: a PIL image, an image path or encoded image bytes (any size; fitted to the model's square).

        Returns:
            ``(w float32 [num_ws, w_dim], the reconstruction)``; `synthesize` or `mix` start from that ``w``.
        """
        inputs = {"image_bytes": np.array([encode_image(image)], dtype=object)}
        outputs = self.predict(inputs, "invert", output_filter=["w", "image_bytes"])
        return np.asarray(outputs["w"][0], np.float32), decode_images(outputs)[0]

    def synthesize(self, w: np.ndarray) -> list[Image.Image]:
        """Shoes from StyleGAN2 latents ``w`` (``[num_ws, w_dim]`` or a batch of them; the ``synthesis`` signature)."""
        w = np.asarray(w, np.float32)
        outputs = self.predict({"w": w[None] if w.ndim == 2 else w}, "synthesis", output_filter=["image_bytes"])
        return decode_images(outputs)

    def sketch_to_shoe(self, sketch: Image.Image | str | Path | bytes) -> Image.Image:
        """A shoe drawn from a sketch (dark lines on white) by a pix2pix sketch model."""
        return self.translate(sketch)

    def segment(self, image: Image.Image | str | Path | bytes) -> tuple[np.ndarray, dict[int, str]]:
        """A segmenter's class per pixel for one image, and the names of the classes found.

        Args:
            image: a PIL image, an image path or encoded image bytes; sent as PNG ``image_bytes`` [1]
                (any size: the model fits it to its square, padding with white).

        Returns:
            ``(classes uint8 [S, S], {class id: name})`` from the ``segment`` and ``class_names`` signatures.
        """
        inputs = {"image_bytes": np.array([encode_image(image)], dtype=object)}
        classes = np.asarray(self.predict(inputs, "segment", output_filter=["classes"])["classes"][0], np.uint8)
        found = np.unique(classes).astype(np.int64)
        names = self.predict({"class_id": found}, "class_names", output_filter=["name"])["name"]
        return classes, {int(index): name.decode() if isinstance(name, bytes) else str(name) for index, name in zip(found, names)}

    def labels(self) -> dict[str, list[str]]:
        """Label name -> valid values (``{}`` for a model without a ``labels`` signature).

        The label names are the string inputs of ``serving_default``; the ``labels`` signature maps
        ``name`` [K] to ``values`` [K, V] (padded with "") and ``counts`` [K].
        """
        signatures = self.metadata()
        if "labels" not in signatures or DEFAULT_SIGNATURE not in signatures:
            return {}
        inputs = signatures[DEFAULT_SIGNATURE]["inputs"]
        names = [name for name, info in inputs.items() if info["dtype"] == "DT_STRING"]
        if not names:
            return {}
        outputs = self.predict({"name": np.array(names, dtype=object)}, signature_name="labels")
        rows = zip(names, outputs["values"], outputs["counts"])
        return {name: [value.decode() for value in values[:count]] for name, values, count in rows}

    def status(self) -> list[dict]:
        """The model's versions: ``[{"version", "state", "error": None | {"code", "message"}}]``."""
        return statuses_to_dicts(self._retrying(self._send_status))

    def metadata(self) -> dict[str, dict]:
        """The model's signatures: name -> {method_name, inputs, outputs: {tensor: {dtype, shape}}}."""
        return signatures_to_dict(self._retrying(self._send_metadata))


class ShoesClient(BaseClient):
    """The gRPC client (TF Serving's ``PredictionService`` and ``ModelService``).

    Args:
        target: the server's ``host:port``.
        model: model name on the server.
        version: a version number to pin, or None for the server's choice.
        version_label: a version label to pin instead (not with `version`).
        timeout: deadline of every call, in seconds.
        retries: how many times a call answered UNAVAILABLE is repeated.
        max_message_bytes: largest request and answer the channel accepts.
        backoff: seconds before the first retry; doubles with every further retry.
    """

    def __init__(
        self,
        target: str = "localhost:8500",
        model: str = "shoes",
        *,
        version: int | None = None,
        version_label: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        max_message_bytes: int = 64 * MiB,
        backoff: float = 0.1,
    ):
        super().__init__(model, version, version_label, timeout, retries, backoff)
        self.target = target
        limits = ("grpc.max_send_message_length", "grpc.max_receive_message_length")
        options = [(limit, max_message_bytes) for limit in limits]
        self._channel = grpc.insecure_channel(target, options=options)
        replies = {
            wire.PREDICT: wire.PredictResponse,
            wire.GET_MODEL_STATUS: wire.GetModelStatusResponse,
            wire.GET_MODEL_METADATA: wire.GetModelMetadataResponse,
        }
        self._methods = {
            path: self._channel.unary_unary(path, request_serializer=_serialize, response_deserializer=reply.FromString)
            for path, reply in replies.items()
        }

    def close(self) -> None:
        """Closes the channel."""
        self._channel.close()

    def _call(self, path: str, request):
        try:
            return self._methods[path](request, timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code().name if hasattr(error, "code") else "UNKNOWN"
            message = error.details() if hasattr(error, "details") else str(error)
            if code == "DEADLINE_EXCEEDED":
                message = f"{message} (no answer from {self.target} within {self.timeout} s)"
            raise ServingError(code, message) from None

    def _model_spec(self, signature_name: str = ""):
        spec = wire.ModelSpec(name=self.model, signature_name=signature_name)
        if self.version is not None:
            spec.version.value = self.version
        elif self.version_label is not None:
            spec.version_label = self.version_label
        return spec

    def _send_predict(self, inputs, signature_name, output_filter):
        request = wire.PredictRequest(model_spec=self._model_spec(signature_name), output_filter=output_filter)
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(wire.to_tensor_proto(value))
        response = self._call(wire.PREDICT, request)
        return {name: wire.to_ndarray(tensor) for name, tensor in response.outputs.items()}

    def _send_status(self):
        return self._call(wire.GET_MODEL_STATUS, wire.GetModelStatusRequest(model_spec=self._model_spec()))

    def _send_metadata(self):
        request = wire.GetModelMetadataRequest(model_spec=self._model_spec(), metadata_field=["signature_def"])
        response = self._call(wire.GET_MODEL_METADATA, request)
        signatures = wire.SignatureDefMap()
        if "signature_def" not in response.metadata or not response.metadata["signature_def"].Unpack(signatures):
            raise ServingError("UNKNOWN", f"{self.target} answered without a signature_def map: {response}")
        return signatures


def _serialize(message) -> bytes:
    return message.SerializeToString()


def _is_tensor_proto(value) -> bool:
    """True for this package's and TensorFlow's TensorProto alike."""
    return getattr(getattr(value, "DESCRIPTOR", None), "full_name", None) == "tensorflow.TensorProto"


def __getattr__(name: str):
    if name == "RestClient":  # Lives in rest_client.py, which imports this module.
        from serving.rest_client import RestClient

        return RestClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
