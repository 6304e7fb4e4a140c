"""What both front doors (gRPC and REST) share: resolve the model spec, check limits, run, count."""

from __future__ import annotations

import time

import grpc
import numpy as np

from serving.server.batching import Batcher
from serving.server.errors import ServingError, invalid_argument
from serving.server.metrics import Metrics
from serving.server.model_store import ModelStore
from serving.server.servable import DEFAULT_SIGNATURE, Servable, batch_size_of, select_outputs


class ServingCore:
    """Runs Predict calls against the store, through the batcher when one is given.

    Args:
        store: the served models.
        batcher: merges concurrent requests (None runs each request alone).
        metrics: where requests are counted.
        max_request_batch: the most examples one request may hold.
        max_request_elements: the most elements one input tensor may declare.
    """

    def __init__(
        self,
        store: ModelStore,
        batcher: Batcher | None = None,
        metrics: Metrics | None = None,
        max_request_batch: int = 256,
        max_request_elements: int = 16 << 20,
    ):
        self.store = store
        self.batcher = batcher
        self.metrics = metrics or Metrics()
        self.max_request_batch = max_request_batch
        self.max_request_elements = max_request_elements

    def predict(
        self,
        name: str,
        version: int | None,
        label: str | None,
        signature_name: str,
        inputs: dict[str, np.ndarray],
        sent_dtypes: dict[str, int] | None = None,
        output_filter=(),
        servable: Servable | None = None,
    ) -> tuple[Servable, str, dict[str, np.ndarray]]:
        """Resolves the servable (unless given), checks and runs the request; returns ``(servable, signature, outputs)``.

        Raises:
            ServingError: with TF Serving's code for whatever was wrong.
        """
        servable = servable or self.store.resolve(name, version, label)
        signature_name = signature_name or DEFAULT_SIGNATURE
        signature = servable.signature(signature_name)
        prepared = servable.prepare(signature_name, inputs, sent_dtypes)
        self.check_batch(batch_size_of(prepared))
        if self.batcher is not None:
            outputs = self.batcher.run(servable, signature_name, prepared)
        else:
            outputs = servable.run(signature_name, prepared)
        return servable, signature_name, select_outputs(signature, outputs, output_filter)

    def check_batch(self, size: int) -> None:
        """Refuses a request of more than `max_request_batch` examples.

        Raises:
            ServingError: INVALID_ARGUMENT naming the limit.
        """
        if size > self.max_request_batch:
            raise invalid_argument(f"A request holds at most {self.max_request_batch} examples (--max-request-batch). Received: {size}")

    def timed(self, model: str, api: str, call):
        """Runs `call()` and records its status and latency under `model` and `api`."""
        started = time.perf_counter()
        status = "OK"
        try:
            return call()
        except ServingError as error:
            status = error.code.name
            raise
        except Exception:
            status = grpc.StatusCode.INTERNAL.name
            raise
        finally:  # Names the server does not serve share one series, so random names cannot grow the page.
            known = model if self.store.serves(model) else "<unknown>"
            self.metrics.request(known, api, status, (time.perf_counter() - started) * 1e6)
