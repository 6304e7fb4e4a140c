"""shoes-export on a trained run, and the main job's serving demo (export, serve, grid through the client, stop)."""

import json
import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from serving.export_cli import main as shoes_export
from shoes_generator.configs import get_preset
from shoes_generator.publish import export_run
from shoes_generator.trainer import train

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return train(get_preset("cgan_fmnist_color_tiny"), out=tmp_path_factory.mktemp("runs"), verbose=0).run_dir


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_export_numbers_versions_and_matches_the_runs_own_export(tiny_run, tmp_path, capsys):
    assert shoes_export([str(tiny_run), "--model-base", str(tmp_path), "--model", "shoes"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert (first["version"], first["step"]) == (1, 4)
    path, _ = export_run(tiny_run, tmp_path, "shoes")
    assert path == tmp_path / "shoes" / "2" and not [p for p in (tmp_path / "shoes").iterdir() if p.name.startswith(".")]
    exported = tf.saved_model.load(str(path)).signatures["serving_default"]
    trained = tf.saved_model.load(str(tiny_run / "saved_model")).signatures["serving_default"]
    inputs = {"seed": tf.constant([3, 4], tf.int64), "color": tf.constant(["red", "blue"]), "category": tf.constant(["sandal", "sneaker"])}
    # Same weights, and BatchNorm statistics refreshed from the weights and a fixed seed only: the same images.
    np.testing.assert_array_equal(exported(**inputs)["images"].numpy(), trained(**inputs)["images"].numpy())
    assert shoes_export([str(tiny_run), "--model-base", str(tmp_path), "--model", "shoes", "--version", "2"]) == 1  # Run time.
    assert "already exists" in capsys.readouterr().err
    assert shoes_export([str(tiny_run), "--model-base", str(tmp_path), "--model", "../escape"]) == 2  # Usage.


@pytest.mark.slow
def test_serve_demo_leaves_the_grid_and_stops_the_server(tiny_run, tmp_path):
    env = {**os.environ, "GRPC_PORT": str(free_port()), "REST_PORT": str(free_port()), "BIN": str(Path(os.sys.executable).parent)}
    done = subprocess.run(["bash", str(REPO / "scripts" / "serve_demo.sh"), str(tiny_run), str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:] + (tmp_path / "shoes-serve.log").read_text()[-3000:]
    grid = json.loads((tmp_path / "grid.json").read_text())
    assert grid["combinations"] == 33 and grid["files"] == 33 * 4  # 11 colours x 3 types, 4 shoes each.
    assert (tmp_path / "shoes" / "grid.png").stat().st_size > 10_000
    assert len(list((tmp_path / "shoes" / "truncated").glob("red_ankle_boot_seed*.png"))) == 4
    assert "stopped" in (tmp_path / "shoes-serve.log").read_text()  # SIGTERM, then a graceful exit.
    assert "DeprecationWarning" not in done.stderr + (tmp_path / "shoes-serve.log").read_text()  # The new spellings.
