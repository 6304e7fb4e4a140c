"""A run killed with SIGKILL mid-epoch and resumed ends where the uninterrupted run ends."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

SETTINGS = ["train.epochs=3", "train.steps_per_epoch=4", "train.checkpoint_every=3"]

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import keras
    from shoes_generator.configs import get_preset, override
    from shoes_generator.trainer import train

    class KillAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.step.numpy()) == int(sys.argv[2]):
                os.kill(os.getpid(), signal.SIGKILL)

    config = override(get_preset(sys.argv[3]), sys.argv[4:])
    train(config, out=sys.argv[1], verbose=0, extra_callbacks=[KillAt()])
    """
)


def shoes_train(*args):
    return subprocess.run([sys.executable, "-m", "training.train", *map(str, args)], capture_output=True, text=True)


def final_variables(run_dir):
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints"))
    names = [name for name in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in name and "save_counter" not in name]
    return {name: reader.get_tensor(name) for name in names}


# StyleGAN2 with its lazy R1, path length and ADA's p all moving within the twelve steps.
STYLEGAN2 = ["model.r1_interval=4", "model.pl_weight=1", "model.pl_interval=3", "model.ada_interval=2"]
CASES = {  # id: (preset, settings, the prefix of a trained kernel's checkpoint name)
    "cgan-mixed_bfloat16": ("cgan_fmnist_color_tiny", ["train.precision=mixed_bfloat16"], "generator/"),
    "cgan-mixed_float16": ("cgan_fmnist_color_tiny", ["train.precision=mixed_float16"], "generator/"),
    "stylegan2-float32": ("stylegan2_fmnist_color_tiny", ["train.precision=float32", *STYLEGAN2], "synthesis/"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted_run(tmp_path, case):
    preset, extra, network = CASES[case]
    settings = [*SETTINGS, *extra]
    sets = [arg for setting in settings for arg in ("--set", setting)]
    reference = shoes_train("--config", preset, *sets, "--out", tmp_path / "a", "--quiet")
    assert reference.returncode == 0, reference.stderr[-2000:]

    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path / "b"), "7", preset, *settings], capture_output=True, text=True
    )
    assert killed.returncode == -9, killed.stderr[-2000:]  # Killed at step 7: mid-epoch 2, last checkpoint at 6.
    run_b = next((tmp_path / "b").iterdir())
    assert tf.train.latest_checkpoint(str(run_b / "checkpoints")).endswith("ckpt-6")

    resumed = shoes_train("--resume", run_b, "--quiet")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Resuming" in resumed.stderr and "from step 6" in resumed.stderr

    run_a = next((tmp_path / "a").iterdir())
    expected, actual = final_variables(run_a), final_variables(run_b)
    assert tf.train.latest_checkpoint(str(run_b / "checkpoints")).endswith("ckpt-12")
    assert set(expected) == set(actual) and len(expected) > 20
    trained = [name for name in expected if network in name and "kernel" in name]
    assert trained, sorted(expected)[:10]
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=1e-4, atol=1e-5, err_msg=name)
    at_kill = tf.train.load_checkpoint(str(run_b / "checkpoints" / "ckpt-9"))
    kernel = next(name for name in trained if at_kill.has_tensor(name))
    assert not np.allclose(at_kill.get_tensor(kernel), actual[kernel])  # Training went on after the resume.
    records = [json.loads(line) for line in (run_b / "metrics.jsonl").read_text().splitlines()]
    logged = [r["step"] for r in records if r["kind"] == "step"]
    assert logged == sorted(set(logged)) and logged[-1] == 12  # Steps replayed after the kill are not logged twice.
    samples = sorted((run_b / "samples").glob("epoch_*.png"))
    assert [p.name for p in samples] == ["epoch_0001.png", "epoch_0002.png", "epoch_0003.png"]
