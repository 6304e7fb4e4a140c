"""The running server: gRPC and REST front doors over one core, started and stopped together."""

from __future__ import annotations

import logging
import threading
from concurrent import futures
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from serving.server.batching import Batcher, BatchingOptions
from serving.server.core import ServingCore
from serving.server.grpc_api import SERVICES, add_services
from serving.server.metrics import Metrics
from serving.server.model_store import ModelEntry, ModelStore
from serving.server.rest_api import RestApi, make_http_server

logger = logging.getLogger("shoes_serve")


class ShoesServer:
    """gRPC on `port` and REST on `rest_port` (0 picks a free port; see `.port` / `.rest_port` after `start`).

    Args:
        entries: the models to serve.
        host: the interface to bind (loopback unless told otherwise).
        port: gRPC port.
        rest_port: REST port (None: no REST).
        poll_seconds: how often model folders are scanned (0: only at start and on reload).
        batching: server-side batching options (None: every request runs alone).
        prometheus_path: the REST path of the metrics page ("" for none).
        max_request_bytes: the largest gRPC message or REST body accepted.
        max_request_batch: the most examples in one request.
        config_dir: where relative base paths of reloaded configs start.
        grpc_threads: concurrent gRPC calls.
        rest_threads: REST worker threads (None: 4 per CPU, 8 to 64); idle connections take none.
    """

    def __init__(
        self,
        entries: list[ModelEntry],
        *,
        host: str = "127.0.0.1",
        port: int = 8500,
        rest_port: int | None = 8501,
        poll_seconds: float = 2.0,
        batching: BatchingOptions | None = None,
        prometheus_path: str = "/monitoring/prometheus/metrics",
        max_request_bytes: int = 16 << 20,
        max_request_batch: int = 256,
        config_dir: Path = Path("."),
        grpc_threads: int = 64,
        rest_threads: int | None = None,
    ):
        self.store = ModelStore(entries)
        self.metrics = Metrics()
        self.batcher = Batcher(batching, self.metrics) if batching else None
        # Every element takes at least a byte, so a tensor declaring more elements than the request's byte bound is refused.
        self.core = ServingCore(
            self.store, self.batcher, self.metrics, max_request_batch=max_request_batch, max_request_elements=max_request_bytes
        )
        self.host, self.port, self.rest_port = host, port, rest_port
        self.poll_seconds = poll_seconds
        self._grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=grpc_threads, thread_name_prefix="grpc"),
            options=[
                ("grpc.max_receive_message_length", max_request_bytes),
                ("grpc.max_send_message_length", 256 << 20),
                ("grpc.so_reuseport", 0),  # A busy port is an error, not a port silently shared with another server.
            ],
        )
        self._health = add_services(self._grpc, self.core, config_dir)
        self._rest = RestApi(self.core, prometheus_path, max_request_bytes)
        self._http = None
        self._rest_threads = rest_threads
        self._stopped = threading.Event()
        self._stopping = threading.Lock()

    def start(self) -> "ShoesServer":
        """Loads the models, then opens both ports."""
        self.store.start(self.poll_seconds)
        try:
            self.port = self._grpc.add_insecure_port(f"{self.host}:{self.port}")
        except RuntimeError as error:
            raise OSError(f"Could not bind gRPC to {self.host}:{self.port} (in use?): {error}") from None
        self._grpc.start()
        if self.rest_port is not None:
            self._http = make_http_server(self._rest, self.host, self.rest_port, threads=self._rest_threads)
            self.rest_port = self._http.server_address[1]
            threading.Thread(target=self._http.serve_forever, name="rest", daemon=True).start()
        logger.info("serving %s: gRPC %s:%d, REST %s", ", ".join(self.store.model_names()) or "no models", self.host, self.port,
                    f"{self.host}:{self.rest_port}" if self._http else "off")
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Graceful shutdown: health turns NOT_SERVING, new calls are refused, in-flight calls get `grace` seconds."""
        if not self._stopping.acquire(blocking=False):
            return  # Already stopping (a second signal).
        for service in ("",) + SERVICES:
            self._health.set(service, health_pb2.HealthCheckResponse.NOT_SERVING)
        done = self._grpc.stop(grace)
        if self._http is not None:
            self._http.drain(grace)
        done.wait()
        if self.batcher is not None:
            self.batcher.close()
        self.store.stop()
        self._stopped.set()
        logger.info("stopped")

    def wait(self) -> None:
        """Blocks until `stop` is called."""
        self._stopped.wait()
