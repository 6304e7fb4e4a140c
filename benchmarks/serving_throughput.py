"""Serving throughput and latency: shoes-serve over gRPC and REST beside the in-process SavedModel.

Prints JSON. One run measures, side by side on the same exported generator
(the `cgan_fmnist_color` network, 32 px; untrained weights cost the same):
- in process: the loaded SavedModel's ``serving_default`` at batch 1 (the
  latency floor) and at the batching limit (the throughput ceiling);
- shoes-serve (its own process, as deployed) over gRPC and REST at concurrency
  1, 8 and 32, through the thin client's ``generate`` (PNG decoding included),
  asking for 1 and for 8 shoes per request, without and with server-side
  batching.
Targets (issue 4): at concurrency 32 with batching, gRPC reaches >= 80% of the
in-process batched throughput; at concurrency 1, gRPC p50 adds <= 3 ms to the
in-process batch-1 call. Client threads and the server share this machine's
cores, as a sidecar deployment would.

Usage: python benchmarks/serving_throughput.py [--seconds 8] [--model-dir DIR] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from serving.client import ShoesClient  # noqa: E402
from serving.rest_client import RestClient  # noqa: E402

CONCURRENCY = (1, 8, 32)
IMAGES_PER_REQUEST = (1, 8)
BATCHING = "max_batch_size { value: 32 }\nbatch_timeout_micros { value: 5000 }\nnum_batch_threads { value: 2 }\nmax_enqueued_batches { value: 64 }\n"
MAX_BATCH = 32


def export_default_model(base: Path) -> Path:
    """Exports an untrained `cgan_fmnist_color` generator as ``<base>/shoes/1``."""
    from shoes_generator.builders import build_networks
    from shoes_generator.configs import get_preset
    from shoes_generator.data.fmnist import CATEGORY_NAMES
    from shoes_generator.export import export_generator
    from shoes_generator.imaging.colors import COLOR_NAMES
    from shoes_generator.labels import Vocabularies

    config = get_preset("cgan_fmnist_color")
    vocab = Vocabularies({"color": list(COLOR_NAMES), "category": list(CATEGORY_NAMES)})
    generator, _ = build_networks(config, vocab)
    return export_generator(generator, config.model.latent_dim, vocab, ("color", "category"), base / "shoes" / "1")


def summary(latencies: list[float], seconds: float, images: int) -> dict:
    ordered = sorted(latencies)
    return {
        "images_per_s": round(images / seconds, 1),
        "p50_ms": round(1e3 * ordered[len(ordered) // 2], 2),
        "p99_ms": round(1e3 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "requests": len(ordered),
    }


def in_process(model_dir: Path, seconds: float) -> dict:
    model = tf.saved_model.load(str(model_dir))
    serve = model.signatures["serving_default"]
    results = {}
    for batch in (1, MAX_BATCH):
        inputs = {
            "seed": tf.range(batch, dtype=tf.int64),
            "color": tf.constant(["red"] * batch),
            "category": tf.constant(["sneaker"] * batch),
        }
        for _ in range(5):
            serve(**inputs)
        latencies, start = [], time.perf_counter()
        while time.perf_counter() - start < seconds:
            began = time.perf_counter()
            serve(**inputs)["image_bytes"].numpy()
            latencies.append(time.perf_counter() - began)
        results[f"batch_{batch}"] = summary(latencies, time.perf_counter() - start, batch * len(latencies))
    return results


def client_call(client, images: int):
    """One `generate` of `images` shoes through the thin client (PNG decoding included), as apps call it."""

    def call(seed: int) -> None:
        client.generate(images, seed=seed, color="red", category="sneaker")

    return call


def load(call, concurrency: int, seconds: float, images_per_call: int = 1) -> dict:
    """`concurrency` threads calling `call` in a loop for `seconds`; counts errors."""
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + seconds

    def worker(index: int) -> None:
        seed = index * 1_000_000
        mine = []
        while time.perf_counter() < stop:
            began = time.perf_counter()
            try:
                call(seed)
                mine.append(time.perf_counter() - began)
            except Exception:
                with lock:
                    errors[0] += 1
            seed += 1
        with lock:
            latencies.extend(mine)

    for _ in range(3):
        call(0)
    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = summary(latencies, time.perf_counter() - start, len(latencies) * images_per_call)
    result["errors"] = errors[0]
    return result


def start_server(base: Path, batching_file: Path | None) -> tuple[subprocess.Popen, int, int]:
    """Starts ``shoes-serve`` over `base` on free ports; returns the process and its gRPC and REST ports."""
    command = [sys.executable, "-m", "serving.server.cli", "--model-base", str(base), "--server", "127.0.0.1:0", "--rest-port", "0", "--log-level", "WARNING"]
    if batching_file is not None:
        command += ["--batching-config", str(batching_file)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    for line in process.stderr:
        match = re.search(r"gRPC on [\d.]+:(\d+), REST on [\d.]+:(\d+)", line)
        if match:
            threading.Thread(target=process.stderr.read, daemon=True).start()  # Keep draining its log.
            return process, int(match.group(1)), int(match.group(2))
    raise RuntimeError(f"shoes-serve exited with {process.wait()} before listening")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per measurement (default 8)")
    parser.add_argument("--model-dir", type=Path, help="a model base holding shoes/<version> (default: export the preset's network)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = args.model_dir or Path(tmp) / "models"
        if args.model_dir is None:
            export_default_model(base)
        version_dir = max((p for p in (base / "shoes").iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
        batching_file = Path(tmp) / "batching.config"
        batching_file.write_text(BATCHING)
        results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__},
                   "seconds_per_measurement": args.seconds, "in_process": in_process(version_dir, args.seconds)}
        for mode, config in (("no_batching", None), ("batching", batching_file)):
            process, grpc_port, rest_port = start_server(base, config)
            clients = {"grpc": ShoesClient(f"127.0.0.1:{grpc_port}", timeout=120), "rest": RestClient(f"http://127.0.0.1:{rest_port}", timeout=120)}
            try:
                results[mode] = {
                    f"{api}_{images}_per_request": {f"concurrency_{c}": load(client_call(client, images), c, args.seconds, images) for c in CONCURRENCY}
                    for images in IMAGES_PER_REQUEST
                    for api, client in clients.items()
                }
            finally:
                for client in clients.values():
                    client.close()
                process.terminate()
                process.wait(timeout=30)
    ceiling = results["in_process"][f"batch_{MAX_BATCH}"]["images_per_s"]
    added = results["no_batching"]["grpc_1_per_request"]["concurrency_1"]["p50_ms"] - results["in_process"]["batch_1"]["p50_ms"]
    results["targets"] = {
        **{
            f"grpc_c32_batched_share_of_in_process_batched_{images}_per_request": round(
                results["batching"][f"grpc_{images}_per_request"]["concurrency_32"]["images_per_s"] / ceiling, 3
            )
            for images in IMAGES_PER_REQUEST
        },
        "grpc_c32_batched_share_target": 0.8,
        "grpc_c1_p50_added_ms": round(added, 2),
        "grpc_c1_p50_added_target_ms": 3.0,
    }
    emit(results, args.out)


def emit(results: dict, out: Path | None) -> None:
    """Prints `results` as JSON, and writes it to `out` when given."""
    text = json.dumps(results, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")


if __name__ == "__main__":
    main()
