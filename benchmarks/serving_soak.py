"""Soak test of shoes-serve: 32 concurrent clients for 60 s; every request must succeed, memory must level off.

Prints JSON: requests and errors per API, the server's resident memory (RSS)
sampled every second (after warm-up, at the end, the peak) and its growth over
the second half of the run, where a leak would show. Half the clients use gRPC,
half REST, each through the thin client, all with server-side batching on.

Usage: python benchmarks/serving_soak.py [--seconds 60] [--clients 32] [--out soak.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import threading
import time
from pathlib import Path

from serving.client import ShoesClient
from serving.rest_client import RestClient

_SPEC = importlib.util.spec_from_file_location("serving_throughput", Path(__file__).with_name("serving_throughput.py"))
throughput = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(throughput)


def rss_mib(pid: int) -> float:
    """Resident memory of process `pid` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the soak (default 60)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "models"
        throughput.export_default_model(base)
        batching = Path(tmp) / "batching.config"
        batching.write_text(throughput.BATCHING)
        process, grpc_port, rest_port = throughput.start_server(base, batching)
        try:
            makers = {"grpc": lambda: ShoesClient(f"127.0.0.1:{grpc_port}", timeout=60), "rest": lambda: RestClient(f"http://127.0.0.1:{rest_port}", timeout=60)}
            counts = {api: {"requests": 0, "errors": 0} for api in makers}
            failures: list[str] = []
            lock = threading.Lock()
            stop = time.perf_counter() + args.seconds

            def client_loop(index: int) -> None:
                api = "grpc" if index % 2 == 0 else "rest"
                with makers[api]() as client:
                    seed = index * 1_000_000
                    while time.perf_counter() < stop:
                        try:
                            client.generate(1, seed=seed, color="red", category="sneaker")
                            ok = True
                        except Exception as error:
                            ok = False
                            with lock:
                                failures.append(f"{api}: {error}"[:200])
                        with lock:
                            counts[api]["requests"] += 1
                            counts[api]["errors"] += 0 if ok else 1
                        seed += 1

            baseline = rss_mib(process.pid)
            threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.clients)]
            for thread in threads:
                thread.start()
            samples = []
            while any(thread.is_alive() for thread in threads):
                samples.append(rss_mib(process.pid))
                time.sleep(1.0)
            for thread in threads:
                thread.join()
            half = samples[len(samples) // 2 :] or samples
            result = {
                "seconds": args.seconds,
                "clients": args.clients,
                "apis": counts,
                "errors_total": sum(c["errors"] for c in counts.values()),
                "first_errors": failures[:5],
                "server_rss_mib": {
                    "before_load": round(baseline, 1),
                    "at_half_time": round(half[0], 1),
                    "end": round(samples[-1], 1),
                    "peak": round(max(samples), 1),
                    "growth_second_half": round(samples[-1] - half[0], 1),
                },
            }
        finally:
            process.terminate()
            process.wait(timeout=30)
    throughput.emit(result, args.out)


if __name__ == "__main__":
    main()
