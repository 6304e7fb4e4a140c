"""`pix2pix_fmnist_sketches` through `shoes-train`: its dry run and its tiny variant's training steps and export."""

import json

import numpy as np
import pytest
import tensorflow as tf

from training.train import main as shoes_train


def test_the_sketches_preset_dry_runs(capsys):
    assert shoes_train(["--config", "pix2pix_fmnist_sketches", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert (config["name"], config["data"]["source"], config["model"]["family"]) == ("pix2pix_fmnist_sketches", "fmnist_sketches", "pix2pix")


@pytest.mark.slow
def test_the_tiny_sketches_preset_trains_and_exports(tmp_path):
    assert shoes_train(["--config", "pix2pix_fmnist_sketches_tiny", "--out", str(tmp_path), "--quiet"]) == 0
    (run,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()][-1] == 4
    model = tf.saved_model.load(str(run / "saved_model"))
    encoded = tf.io.encode_png(np.full((64, 64, 1), 255, np.uint8))  # a 64 px sketch, as the held-out styles send
    out = model.signatures["serving_default"](image_bytes=tf.stack([encoded]))
    assert out["images"].shape == (1, 16, 16, 3)
