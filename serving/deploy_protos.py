"""TF Serving's config messages, for reading the files in ``serving/deploy/`` the way the server does.

The ``tensorflow-serving-api`` wheel ships ``ModelServerConfig`` but neither ``BatchingParameters``
(upstream: ``tensorflow_serving/servables/tensorflow/session_bundle_config.proto``) nor
``MonitoringConfig`` (``tensorflow_serving/config/monitoring_config.proto``). This module builds those
two message types at runtime, in a private descriptor pool, with upstream's full names, field names,
numbers and types: a text file that parses here parses in ``tensorflow_model_server``, and a misspelled
or unknown field fails here as it fails there (text format rejects unknown fields).

``BatchingParameters`` keeps upstream's wrapper types: ``max_batch_size.value`` is the setting, and
``HasField("max_batch_size")`` tells a set value from the server's default. With
``enable_large_batch_splitting`` on, ``max_batch_size`` bounds one request and
``max_execution_batch_size`` bounds one executed batch; otherwise ``max_batch_size`` bounds both.
The server checks more than the parse does when it loads a model (e.g. the last of
``allowed_batch_sizes`` must equal ``max_batch_size``).

``BatchingParameters`` has the nine fields (numbers 1-9) of upstream's message as of TF Serving's
large-batch-splitting support; a field added upstream later would be rejected here.

Neither TensorFlow nor ``tensorflow-serving-api`` is imported here, except by
`parse_model_server_config`, which imports the wheel's ``model_server_config_pb2`` when called.
"""

from __future__ import annotations

import os
from pathlib import Path

from google.protobuf import message_factory, text_format, wrappers_pb2

from serving.descriptors import build_pool, message, proto3_file

_INT64 = ".google.protobuf.Int64Value"
_STRING = ".google.protobuf.StringValue"
_BOOL = ".google.protobuf.BoolValue"

# (name, number, kind) in upstream's order of declaration; kinds as `serving.descriptors.field` takes them.
_BATCHING_PARAMETERS = (
    ("max_batch_size", 1, _INT64),
    ("batch_timeout_micros", 2, _INT64),
    ("max_enqueued_batches", 3, _INT64),
    ("num_batch_threads", 4, _INT64),
    ("thread_pool_name", 5, _STRING),
    ("enable_large_batch_splitting", 8, _BOOL),
    ("max_execution_batch_size", 9, _INT64),
    ("allowed_batch_sizes", 6, "repeated int64"),
    ("pad_variable_length_inputs", 7, "bool"),
)
_PROMETHEUS_CONFIG = (("enable", 1, "bool"), ("path", 2, "string"))
_MONITORING_CONFIG = (("prometheus_config", 1, ".tensorflow.serving.PrometheusConfig"),)


def _build_pool():
    batching = proto3_file(
        "tensorflow_serving/servables/tensorflow/session_bundle_config.proto", "tensorflow.serving", wrappers_pb2.DESCRIPTOR.name
    )
    message(batching, "BatchingParameters", *_BATCHING_PARAMETERS)
    monitoring = proto3_file("tensorflow_serving/config/monitoring_config.proto", "tensorflow.serving")
    message(monitoring, "PrometheusConfig", *_PROMETHEUS_CONFIG)
    message(monitoring, "MonitoringConfig", *_MONITORING_CONFIG)
    return build_pool((wrappers_pb2,), (batching, monitoring))


_POOL = _build_pool()

BatchingParameters = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.serving.BatchingParameters"))
PrometheusConfig = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.serving.PrometheusConfig"))
MonitoringConfig = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.serving.MonitoringConfig"))


def parse_text_config(message_class, path_or_text: str | os.PathLike):
    """Parses a text-format config the way ``tensorflow_model_server`` does (unknown fields are errors).

    ``parse_text_config(MonitoringConfig, path)`` reads a ``--monitoring_config_file``.

    Args:
        message_class: the message type to parse into.
        path_or_text: a file path (a ``Path``, or a ``str`` that names an existing file or has
            none of ``{`` ``}`` ``:`` ``#`` or a newline in it), or the text itself (any other ``str``,
            including ``""``, an all-defaults config).

    Returns:
        The parsed message.

    Raises:
        FileNotFoundError: `path_or_text` looks like a path and names no file.
        google.protobuf.text_format.ParseError: the text is not a valid `message_class`; the message
            names the file, line and column.
    """
    text, source = _read(path_or_text)
    try:
        return text_format.Parse(text, message_class())
    except text_format.ParseError as error:
        raise text_format.ParseError(f"{source}: {error}") from error


def _read(path_or_text: str | os.PathLike) -> tuple[str, str]:
    """``(text, where it came from)`` for `parse_text_config`.

    Args:
        path_or_text: as in `parse_text_config`.
    """
    if isinstance(path_or_text, str) and not os.path.isfile(path_or_text):
        if not path_or_text.strip() or any(c in path_or_text for c in "{}:#\n"):
            return path_or_text, "<text>"
    path = Path(path_or_text)
    if not path.is_file():
        raise FileNotFoundError(f"No config file at {str(path)!r}.")
    return path.read_text(encoding="utf-8"), str(path)


def parse_batching_config(path_or_text: str | os.PathLike):
    """Reads a ``--batching_parameters_file`` (text ``tensorflow.serving.BatchingParameters``).

    Args:
        path_or_text: the file, or its text (see `parse_text_config`).

    Returns:
        A `BatchingParameters` message.
    """
    return parse_text_config(BatchingParameters, path_or_text)


def parse_model_server_config(path_or_text: str | os.PathLike):
    """Reads a ``--model_config_file`` (text ``tensorflow.serving.ModelServerConfig``).

    Needs ``tensorflow-serving-api`` (imported here, not at module import).

    Args:
        path_or_text: the file, or its text (see `parse_text_config`).

    Returns:
        A ``tensorflow_serving.config.model_server_config_pb2.ModelServerConfig`` message.
    """
    from tensorflow_serving.config import model_server_config_pb2

    return parse_text_config(model_server_config_pb2.ModelServerConfig, path_or_text)
