"""The client extra installs into a fresh virtual environment without TensorFlow and talks to shoes-serve."""

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_client_extra_installs_and_generates_without_tensorflow(tmp_path, server):
    env_dir = tmp_path / "thin"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # A copy of the working tree (tracked and new, unignored files), so the build leaves nothing in the checkout.
    source = tmp_path / "src"
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "--cached", "--others", "--exclude-standard"], check=True, capture_output=True, text=True).stdout.split()
    for name in files:
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((REPO / name).read_bytes())
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", f"{source}[client]"], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]

    installed = subprocess.run([str(python), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True)
    names = {package["name"].lower() for package in json.loads(installed.stdout)}
    assert "grpcio" in names and "protobuf" in names
    assert not names & {"tensorflow", "tensorflow-cpu", "keras", "tensorflow-serving-api"}

    out = tmp_path / "shoes"
    client = env_dir / "bin" / "shoes-client"
    run = subprocess.run(
        [str(client), "--target", f"127.0.0.1:{server.port}", "generate", "--color", "red", "--category", "sneaker", "-n", "2", "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["count"] == 2 and len(list(out.glob("red_sneaker_seed*.png"))) == 2
    rest = subprocess.run(
        [str(client), "--rest", f"http://127.0.0.1:{server.rest_port}", "labels"], capture_output=True, text=True, timeout=120
    )
    assert rest.returncode == 0, rest.stderr
    assert json.loads(rest.stdout)["color"] == ["black", "blue", "red"]
