"""The shoes-serve command: it serves, stops cleanly on SIGTERM, and refuses a bad model base with exit code 2."""

import queue
import re
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from tests.serving.helpers import assert_serving, connected

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"shoes-serve: gRPC on ([^\s,]+):(\d+), REST on ([^\s,]+):(\d+)")


def shoes_serve(*args: str, **options) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "serving.server.cli", *args], cwd=ROOT, text=True, **options)


def wait_until_ready(process: subprocess.Popen, timeout: float = 60) -> re.Match:
    """Reads the server's stderr (in a thread, so a silent server cannot hang the test) until the ready line."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            break
        seen.append(line)
        if match := READY.search(line):
            return match
        assert process.poll() is None, "".join(seen)
    pytest.fail("shoes-serve did not report its ports:\n" + "".join(seen[-30:]))


def test_serves_then_exits_0_on_sigterm(model_base):
    process = shoes_serve("--model-base", str(model_base), "--server", "127.0.0.1:0", "--rest-port", "0", "--poll-seconds", "0",
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        ready = wait_until_ready(process)
        assert int(ready.group(2)) > 0 and int(ready.group(4)) > 0
        with connected(types.SimpleNamespace(port=int(ready.group(2)))) as client:
            assert_serving(client)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_missing_model_base_exits_2_with_a_clear_message():
    process = shoes_serve("--model-base", "/nonexistent", "--server", "127.0.0.1:0", "--rest-port", "0", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "shoes-serve: error: --model-base is not a folder: '/nonexistent'" in stderr


def test_help_lists_the_options():
    process = shoes_serve("--help", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert stdout.startswith("usage: shoes-serve")
    for option in ("--model-base", "--model-config", "--server", "--rest-port", "--enable-batching", "--max-request-bytes", "--rest-threads"):
        assert option in stdout
