"""TF Serving warm-up requests: ``assets.extra/tf_serving_warmup_requests`` in a SavedModel.

TF Serving replays these ``PredictionLog`` records when it loads a version, so
the first real request does not pay for tracing and memory allocation.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import tensorflow as tf

WARMUP_FILE = Path("assets.extra") / "tf_serving_warmup_requests"


@dataclasses.dataclass(frozen=True)
class WarmupRequest:
    """One Predict call: a signature and its named input arrays."""

    signature_name: str
    inputs: dict[str, np.ndarray]


def write_warmup_requests(saved_model_dir: str | Path, requests: list[WarmupRequest], model_name: str = "") -> Path:
    """Writes `requests` as ``PredictionLog`` records into `saved_model_dir`'s ``assets.extra``.

    Args:
        saved_model_dir: an exported SavedModel directory.
        requests: the calls to replay.
        model_name: the name put in each request's model spec (TF Serving overrides it).
    """
    from tensorflow_serving.apis import prediction_log_pb2, predict_pb2

    path = Path(saved_model_dir) / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for request in requests:
            predict = predict_pb2.PredictRequest()
            predict.model_spec.name = model_name
            predict.model_spec.signature_name = request.signature_name
            for name, value in request.inputs.items():
                predict.inputs[name].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=predict))
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(saved_model_dir: str | Path) -> list:
    """The ``PredictRequest`` messages recorded in `saved_model_dir` ([] when it has none)."""
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(saved_model_dir) / WARMUP_FILE
    if not path.is_file():
        return []
    requests = []
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        if log.WhichOneof("log_type") == "predict_log":
            requests.append(log.predict_log.request)
    return requests
