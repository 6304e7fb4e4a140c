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

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format, wrappers_pb2

_Field = descriptor_pb2.FieldDescriptorProto

_INT64 = ".google.protobuf.Int64Value"
_STRING = ".google.protobuf.StringValue"
_BOOL = ".google.protobuf.BoolValue"

# (name, number, type or message type name, repeated) in upstream's order of declaration.
_BATCHING_PARAMETERS = (
    ("max_batch_size", 1, _INT64, False),
    ("batch_timeout_micros", 2, _INT64, False),
    ("max_enqueued_batches", 3, _INT64, False),
    ("num_batch_threads", 4, _INT64, False),
    ("thread_pool_name", 5, _STRING, False),
    ("enable_large_batch_splitting", 8, _BOOL, False),
    ("max_execution_batch_size", 9, _INT64, False),
    ("allowed_batch_sizes", 6, _Field.TYPE_INT64, True),
    ("pad_variable_length_inputs", 7, _Field.TYPE_BOOL, False),
)
_PROMETHEUS_CONFIG = (
    ("enable", 1, _Field.TYPE_BOOL, False),
    ("path", 2, _Field.TYPE_STRING, False),
)
_MONITORING_CONFIG = (("prometheus_config", 1, ".tensorflow.serving.PrometheusConfig", False),)


def _message(file: descriptor_pb2.FileDescriptorProto, name: str, fields) -> None:
    """Appends message `name` with `fields` to `file`.

    Args:
        file: the file descriptor to extend.
        name: the message's short name.
        fields: ``(name, number, type, repeated)`` rows; ``type`` is a scalar ``TYPE_*`` constant or a
            fully qualified message name (leading dot).
    """
    message = file.message_type.add(name=name)
    for field_name, number, kind, repeated in fields:
        field = message.field.add(name=field_name, number=number, json_name=_json_name(field_name))
        field.label = _Field.LABEL_REPEATED if repeated else _Field.LABEL_OPTIONAL
        if isinstance(kind, str):
            field.type, field.type_name = _Field.TYPE_MESSAGE, kind
        else:
            field.type = kind


def _json_name(name: str) -> str:
    """protoc's JSON name: ``max_batch_size`` -> ``maxBatchSize``.

    Args:
        name: a snake_case field name.
    """
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _file(name: str, dependencies: tuple[str, ...] = ()) -> descriptor_pb2.FileDescriptorProto:
    """An empty proto3 file of package ``tensorflow.serving``.

    Args:
        name: the file's upstream path.
        dependencies: the files it imports.
    """
    return descriptor_pb2.FileDescriptorProto(name=name, package="tensorflow.serving", syntax="proto3", dependency=dependencies)


def _build_pool() -> descriptor_pool.DescriptorPool:
    pool = descriptor_pool.DescriptorPool()
    wrappers = descriptor_pb2.FileDescriptorProto()
    wrappers_pb2.DESCRIPTOR.CopyToProto(wrappers)
    pool.Add(wrappers)

    batching = _file("tensorflow_serving/servables/tensorflow/session_bundle_config.proto", (wrappers.name,))
    _message(batching, "BatchingParameters", _BATCHING_PARAMETERS)
    pool.Add(batching)

    monitoring = _file("tensorflow_serving/config/monitoring_config.proto")
    _message(monitoring, "PrometheusConfig", _PROMETHEUS_CONFIG)
    _message(monitoring, "MonitoringConfig", _MONITORING_CONFIG)
    pool.Add(monitoring)
    return pool


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
