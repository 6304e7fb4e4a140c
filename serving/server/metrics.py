"""Prometheus metrics in the text exposition format, under TF Serving's metric names."""

from __future__ import annotations

import bisect
import threading

LATENCY_BUCKETS_US = (1e3, 2.5e3, 5e3, 1e4, 2.5e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _labels(pairs: tuple) -> str:
    return ",".join(f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in pairs)


class Metrics:
    """Counters and histograms the server updates and `/monitoring/prometheus/metrics` renders."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple], float] = {}
        self._histograms: dict[tuple[str, tuple], list] = {}
        self._help: dict[str, tuple[str, str, tuple]] = {}

    def _describe(self, name: str, kind: str, text: str, buckets: tuple = ()) -> None:
        self._help.setdefault(name, (kind, text, buckets))

    def count(self, name: str, text: str, labels: dict, amount: float = 1.0) -> None:
        """Adds `amount` to the counter `name` with `labels`."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._describe(name, "counter", text)
            self._counters[key] = self._counters.get(key, 0.0) + amount

    def observe(self, name: str, text: str, labels: dict, value: float, buckets: tuple) -> None:
        """Records `value` in the histogram `name` with `labels`."""
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._describe(name, "histogram", text, buckets)
            counts = self._histograms.setdefault(key, [[0] * (len(buckets) + 1), 0.0, 0])
            counts[0][bisect.bisect_left(buckets, value)] += 1
            counts[1] += value
            counts[2] += 1

    def request(self, model: str, api: str, status: str, latency_us: float) -> None:
        """One finished request: TF Serving's ``request_count`` and ``request_latency``."""
        self.count(":tensorflow:serving:request_count", "Requests by model and status.", {"model_name": model, "status": status})
        self.observe(
            ":tensorflow:serving:request_latency",
            "Request latency in microseconds.",
            {"model_name": model, "API": api, "entrypoint": "GRPC" if api.startswith("grpc") else "REST"},
            latency_us,
            LATENCY_BUCKETS_US,
        )

    def batch(self, model: str, size: int) -> None:
        self.observe(":tensorflow:serving:batching_session:processed_batch_size", "Examples per run batch.", {"model_name": model}, size, BATCH_BUCKETS)

    def render(self) -> str:
        """The exposition text."""
        lines = []
        with self._lock:
            for name, (kind, text, buckets) in sorted(self._help.items()):
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                if kind == "counter":
                    for (metric, labels), value in sorted(self._counters.items()):
                        if metric == name:
                            lines.append(f"{name}{{{_labels(labels)}}} {value:g}")
                    continue
                for (metric, labels), (counts, total, n) in sorted(self._histograms.items()):
                    if metric != name:
                        continue
                    cumulative = 0
                    for bound, count in zip(list(buckets) + ["+Inf"], counts):
                        cumulative += count
                        le = bound if bound == "+Inf" else f"{bound:g}"
                        lines.append(f"{name}_bucket{{{_labels(labels + (('le', le),))}}} {cumulative}")
                    lines.append(f"{name}_sum{{{_labels(labels)}}} {total:g}")
                    lines.append(f"{name}_count{{{_labels(labels)}}} {n}")
        return "\n".join(lines) + "\n"
