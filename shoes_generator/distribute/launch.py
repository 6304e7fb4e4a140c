"""``shoes-train --workers N``: N local worker processes on loopback, each with its ``TF_CONFIG``.

A way to try multi-worker training on one machine (and the way the tests run it): the same
command each worker of a real cluster runs, with the cluster on 127.0.0.1. No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

GRACE_SECONDS = 60.0  # After one worker fails, how long the others get to stop before they are killed.


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on 127.0.0.1 now (the OS picks them)."""
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind(("127.0.0.1", 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def tf_config(addresses: list[str], index: int) -> str:
    """The ``TF_CONFIG`` of worker `index` of the cluster `addresses` (worker 0 is the chief)."""
    return json.dumps({"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}})


def run_workers(command: list[str], workers: int, env: dict | None = None) -> int:
    """Runs `command` as `workers` processes on loopback and waits for all of them.

    SIGTERM or SIGINT reaching this process is passed to every worker (each checkpoints and stops).
    When a worker fails, the others get `GRACE_SECONDS` to end, then are killed.

    Args:
        command: the worker's command line (``python -m training.train ...`` without ``--workers``).
        workers: how many processes.
        env: their environment (default: this process's), ``TF_CONFIG`` set per worker.

    Returns:
        0 when every worker succeeded, else the first failing worker's exit code.

    Raises:
        ValueError: `workers` < 1.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1. Received: workers={workers}")
    addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
    base = dict(os.environ if env is None else env)
    processes = [
        subprocess.Popen(command, env={**base, "TF_CONFIG": tf_config(addresses, index)}) for index in range(workers)
    ]

    def forward(signum, frame):
        for process in processes:
            if process.poll() is None:
                process.send_signal(signum)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        return _wait(processes)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _wait(processes) -> int:
    """Waits for every process; the first non-zero exit code (others killed after the grace period), else 0."""
    failed, deadline = None, None
    while any(process.poll() is None for process in processes):
        if failed is None:
            failed = next((process.returncode for process in processes if process.returncode not in (None, 0)), None)
            if failed is not None:
                deadline = time.monotonic() + GRACE_SECONDS
        if deadline is not None and time.monotonic() > deadline:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        time.sleep(0.2)
    codes = [process.returncode for process in processes]
    return failed if failed is not None else next((code for code in codes if code), 0)


def worker_command(argv: list[str]) -> list[str]:
    """``shoes-train`` arguments -> the command one worker runs: the same arguments without ``--workers N``."""
    kept, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "--workers":
            skip = True
        elif not argument.startswith("--workers="):
            kept.append(argument)
    return [sys.executable, "-m", "training.train", *kept]
