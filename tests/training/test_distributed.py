"""Training on several workers and devices (issue 19): the pieces, and proof by equivalence with real processes.

Two replicas that each take half of every global batch must end where one process ends with the
same global batch and data order (float32). Tolerances, on every checkpointed variable (weights,
optimizer slots, EMA copy, RNG states): every variable of magnitude above 1e-2 within 1e-5 of its
magnitude (`CLOSE`; seen: 1e-7 to 4e-7), and every variable within a noise allowance: 5e-5 for the
segmenter after 4 steps (Adam at 1e-3), 2e-4 after 16, 5e-6 for the conditional GAN (Adam at 2e-4),
one learning rate per step for pix2pix and CycleGAN. The noise: conv biases ahead of a normalization
have gradient 0, so they hold float rounding (two half-batch gradient sums, synchronized BatchNorm's
sum-of-squares moments) that Adam turns into updates of up to its learning rate; seen: 1e-5
(segmenter), 1.8e-4 (pix2pix; 2.3e-4 with one thread). Each
test also checks that the weights moved by 10 times `CLOSE`. What differs by design is left out and
said where (bfloat16 rounding, mode seeking's pairs within each replica's batch, StyleGAN2's minibatch
standard deviation groups within each replica's batch). StyleGAN2, with no normalization, agrees within
5e-6 on every variable (seen: 3.6e-7).
"""

import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.configs import get_preset, override
from shoes_generator.distribute.data import replica_batches
from shoes_generator.distribute.dropout import ReplicaDropout
from shoes_generator.distribute.launch import free_ports, tf_config, worker_command
from shoes_generator.distribute.strategy import Worker, cluster_workers, make_strategy
from shoes_generator.gans.adversarial import replica_share
from shoes_generator.trainer import train
from training.train import EXIT_PREEMPTED
from training.train import main as shoes_train

ROOT = Path(__file__).resolve().parents[2]
SEGMENTER = "segment_fmnist_unet_tiny"
TOLERANCE = 5e-5  # Every variable, the segmenter after 4 steps: noise allowance (see the module's docstring).
CLOSE = 1e-5  # Every variable of magnitude above 1e-2, relative to its magnitude (when above 1).
FAMILIES = {  # family -> a tiny preset on Fashion-MNIST (no folder to fake in another process)
    "dcgan": "dcgan64_paper_tiny",
    "conditional": "cgan_fmnist_color_tiny",
    "pix2pix": "pix2pix_fmnist_edges_tiny",
    "cyclegan": "cyclegan_sneaker2boot_tiny",
    "segmentation": SEGMENTER,
    "stylegan2": "stylegan2_fmnist_color_tiny",
    "spade": "spade_fmnist_parts_tiny",
    "pattern": "pattern_fmnist_tiny",
}
# The conditional GAN and pix2pix compared in float32 (bfloat16 rounding of two half batches differs at 1e-2), the
# GAN without mode seeking: its penalty pairs rows i and half + i of each replica's batch, not one process's pairs.
CGAN_EQUAL = ["train.precision=float32", "train.mode_seeking=0"]
# StyleGAN2 with R1, path length and ADA (fixed p 0.5: the tiny run's r_t never lifts an adaptive p above 0) on
# alternate steps of four; minibatch std groups of 1 (its groups of 4 stay within each replica's batch of 2, by design).
STYLEGAN2_EQUAL = ["train.precision=float32", "model.mbstd_group=1", "model.r1_interval=2", "model.pl_weight=1",
                   "model.pl_interval=2", "model.ada_p=0.5", "model.ada_interval=2"]


def variables(checkpoint: Path) -> dict:
    """Every variable of a checkpoint (a ``ckpt-N`` prefix, or a checkpoints folder: its latest)."""
    reader = tf.train.load_checkpoint(str(checkpoint))
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in key
            and "save_counter" not in key}


def assert_same_training(expected: Path, actual: Path, atol: float = TOLERANCE, close: float = CLOSE) -> None:
    """Checkpoint `actual` holds `expected`'s values: every variable within `atol` (the noise allowance), every variable
    of magnitude above 1e-2 within `close` of its scale; and the weights moved since the first kept checkpoint by over
    10 times `close` (so the comparison could fail)."""
    expected_values, actual_values = variables(expected), variables(actual)
    assert set(actual_values) == set(expected_values) and any("optimizer" in key for key in expected_values)
    for key, value in expected_values.items():
        np.testing.assert_allclose(actual_values[key], value, rtol=0, atol=atol, err_msg=key)
        scale = float(np.max(np.abs(value))) if value.dtype.kind == "f" and value.size else 0.0
        if scale > 1e-2:
            np.testing.assert_allclose(actual_values[key], value, rtol=0, atol=close * max(1.0, scale), err_msg=key)
    folder = expected if expected.is_dir() else expected.parent
    first = variables(min(folder.glob("ckpt-*.index"), key=lambda path: int(path.stem.split("-")[1])).with_suffix(""))
    moved = max(float(np.max(np.abs(value - first[key]))) for key, value in expected_values.items()
                if ("/kernel/" in key or "_trainable_variables/" in key) and value.dtype.kind == "f")  # Weights.
    assert moved > 10 * close


def helper(out: Path, presets, settings=(), devices: int = 1) -> list[str]:
    """The command of `tests.training.distributed_runs` (tiny presets one after another under one strategy)."""
    return [sys.executable, "-m", "tests.training.distributed_runs", str(out), *presets, "--devices", str(devices),
            *(argument for setting in settings for argument in ("--set", setting))]


def worker_env(tmp_path: Path) -> dict:
    """The workers' environment: the project importable, scratch folders under ``tmp_path/scratch`` (checked empty after)."""
    (tmp_path / "scratch").mkdir(exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "scratch"), "TF_CPP_MIN_LOG_LEVEL": "2"}


def run_dir(out: Path, preset: str) -> Path:
    (path,) = (out / preset).iterdir()
    return path


# ------------------------------------------------------------------------------------------ the pieces
def test_each_replica_gets_its_rows_of_every_global_batch():
    stream = tf.data.Dataset.range(3).map(lambda i: {"image": tf.reshape(tf.range(8) + 8 * tf.cast(i, tf.int32), [8, 1])})
    context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=4)
    batches = [batch["image"].numpy()[:, 0].tolist() for batch in replica_batches(stream, context, 8)]
    # Worker 1 of 2 holds replicas 2 and 3: rows 4-5 and 6-7 of each global batch of 8, one replica after the other.
    assert batches == [[4, 5], [6, 7], [12, 13], [14, 15], [20, 21], [22, 23]]
    # A stream factory builds only the worker's rows (decoded and augmented there alone), the same per-replica batches.
    asked = []
    factory = lambda rows: asked.append(rows) or stream.map(lambda batch: {"image": batch["image"][rows[0] : sum(rows)]})
    assert [batch["image"].numpy()[:, 0].tolist() for batch in replica_batches(factory, context, 8)] == batches
    assert asked == [(4, 4)]


def test_one_process_draws_its_noise_as_before_and_a_batch_must_split_over_the_replicas():
    draw = lambda rows: tf.reshape(tf.range(rows * 2), [rows, 2])
    np.testing.assert_array_equal(replica_share(draw, 3), draw(3))
    worker = Worker(None)
    assert worker.is_chief and worker.replicas == 1
    worker = Worker(types.SimpleNamespace(num_replicas_in_sync=3))  # As under three replicas.
    with pytest.raises(ValueError, match=r"split evenly over the 3 replicas. Received: train.batch_size=4"):
        worker.check_batch(4)


def test_prepare_synchronizes_batchnorm_and_draws_dropout_per_global_example_only_under_several_replicas():
    def network():
        inputs = keras.Input((4,), name="x")
        hidden = keras.layers.BatchNormalization()(keras.layers.Dense(4)(inputs))
        return keras.Model(inputs, keras.layers.Dropout(0.5, seed=3)(hidden))

    one, two = network(), network()
    Worker(None).prepare(one)
    Worker(types.SimpleNamespace(num_replicas_in_sync=2)).prepare(two)
    assert [type(layer).__name__ for layer in one.layers[-2:]] == ["BatchNormalization", "Dropout"]
    assert type(two.layers[-1]) is ReplicaDropout and two.layers[-2].synchronized and not one.layers[-2].synchronized
    two.set_weights(one.get_weights())
    x = np.ones((6, 4), "float32")  # Outside a strategy (one replica) it drops as Dropout does.
    np.testing.assert_array_equal(two(x, training=True), one(x, training=True))


def test_tf_config_is_read_and_checked(monkeypatch):
    assert cluster_workers("") == 0 and cluster_workers(tf_config(["a:1", "b:2", "c:3"], 2)) == 3
    with pytest.raises(ValueError, match=r"TF_CONFIG must be JSON.*Received: TF_CONFIG='\{\"cluster\": \{\}\}'"):
        cluster_workers('{"cluster": {}}')
    monkeypatch.setenv("TF_CONFIG", tf_config(["a:1", "b:2"], 0))
    with pytest.raises(ValueError, match="not from --devices. Received: devices=2 with TF_CONFIG set"):
        make_strategy(2)
    with pytest.raises(ValueError, match="devices must be a positive int. Received: devices=0"):
        make_strategy(0)


def test_the_launcher_gives_each_worker_the_same_command_and_its_own_task():
    assert worker_command(["--config", "x", "--workers", "2", "--quiet"])[1:] == ["-m", "training.train", "--config", "x", "--quiet"]
    assert worker_command(["--workers=3", "--resume", "r"])[3:] == ["--resume", "r"]
    ports = free_ports(3)
    assert len(set(ports)) == 3
    assert json.loads(tf_config(["127.0.0.1:1", "127.0.0.1:2"], 1))["task"] == {"type": "worker", "index": 1}


def test_shoes_train_checks_workers_and_devices(capsys):
    for arguments, message in ((["--workers", "0"], "expected a positive whole number. Received: '0'"),
                               (["--workers", "2", "--devices", "2"], "not allowed with argument")):
        with pytest.raises(SystemExit) as stop:
            shoes_train(["--config", SEGMENTER, *arguments])
        assert stop.value.code == 2 and message in capsys.readouterr().err


# ------------------------------------------------------------------------------ real processes
EPOCHS = 8  # Of 2 steps: the segmenter still trains when the signal comes.


def children(pid: int) -> list[int]:
    """The child processes of `pid`, in the order they started (Linux)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.slow
def test_two_workers_train_the_segmenter_as_one_process_and_a_sigterm_on_one_stops_both_for_a_resume(tmp_path):
    """``shoes-train --workers 2`` (two processes on loopback, 2 examples of each global batch of 4 each) until SIGTERM
    reaches worker 1 alone, as a preempted pod: both stop after the same step with a checkpoint (exit 143). Their
    checkpoint equals one process's at that step; ``--resume`` in one process (another worker count) ends where the
    uninterrupted run ends."""
    settings = [f"train.epochs={EPOCHS}", "train.keep_checkpoints=100"]
    command = [sys.executable, "-m", "training.train", "--config", SEGMENTER, "--workers", "2", "--quiet",
               "-o", str(tmp_path / "runs"), *(argument for setting in settings for argument in ("--set", setting))]
    launcher = subprocess.Popen(command, env=worker_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list((tmp_path / "runs").glob("*/checkpoints/ckpt-2.index")) and time.monotonic() < deadline:
        assert launcher.poll() is None, launcher.communicate()[1][-3000:]
        time.sleep(0.2)
    os.kill(children(launcher.pid)[1], signal.SIGTERM)
    _, errors = launcher.communicate(timeout=180)
    assert launcher.returncode == EXIT_PREEMPTED, errors[-3000:]
    assert errors.count("--resume continues the run") == 2  # Both workers stopped on it.
    (run,) = (tmp_path / "runs").iterdir()  # One run directory: the other worker removed its scratch folder.
    assert not list((tmp_path / "scratch").iterdir()) and not (run / "saved_model").exists()
    stopped = int(variables(run / "checkpoints")["step/.ATTRIBUTES/VARIABLE_VALUE"])
    assert 2 <= stopped < 2 * EPOCHS

    straight = train(override(get_preset(SEGMENTER), settings), out=tmp_path / "straight", verbose=0).run_dir
    assert_same_training(straight / "checkpoints" / f"ckpt-{stopped}", run / "checkpoints" / f"ckpt-{stopped}")
    assert shoes_train(["--resume", str(run), "--quiet"]) == 0
    # 16 steps: the conv biases ahead of BatchNorm (gradient 0, values of rounding noise near 3e-5) drift apart by
    # up to 5e-5; 2e-4 is still far below what the weights moved.
    assert_same_training(straight / "checkpoints", run / "checkpoints", atol=2e-4)
    assert (run / "saved_model" / "saved_model.pb").is_file()


@pytest.mark.slow
def test_two_logical_devices_train_the_conditional_gan_pix2pix_and_cyclegan_as_one_process(tmp_path):
    """MirroredStrategy over 2 logical CPU devices: the conditional GAN's noise and pix2pix's U-Net dropout masks are
    drawn per example of the global batch, CycleGAN's image pools run on the global batch, and all three end as one
    process ends. Every weight and Adam slot of magnitude above 1e-2 agrees within 1e-5 (CycleGAN: 2e-5, four
    networks) of its magnitude (seen: 4e-7, 1.5e-5); CycleGAN's pools hold the same images. pix2pix and CycleGAN allow
    every variable one learning rate per step (8e-4, 1e-3): their conv biases ahead of instance norm have gradient 0
    and hold rounding noise that Adam moves by up to about the learning rate each step (seen: 1.8e-4 and 1.3e-4 on two
    threads, 2.3e-4 and 2.7e-4 on one).

    CycleGAN is compared after 2 steps at a constant 5e-4 (the second step already draws from its pools; the weights
    move 10x the relative tolerance), the others after 4: the tiny CycleGAN's normalized 4x4 maps amplify rounding, its gap
    doubles each step and then leaps at the fourth to 1e-2 in some Adam slots for some roundings (one thread instead
    of two, or a fused kernel instead of Keras's ops, in either process)."""
    presets = {  # preset -> (atol, close, extra settings)
        "cgan_fmnist_color_tiny": (5e-6, CLOSE, []), "pix2pix_fmnist_edges_tiny": (8e-4, CLOSE, []),
        "cyclegan_sneaker2boot_tiny": (1e-3, 2e-5, ["train.epochs=1", "train.decay_epochs=0", "train.g_lr=5e-4", "train.d_lr=5e-4"]),
    }
    for preset, (atol, close, extra) in presets.items():
        settings = [*CGAN_EQUAL, *extra]
        subprocess.run(helper(tmp_path / "two", [preset], settings, devices=2), env=worker_env(tmp_path), check=True, timeout=900)
        one = train(override(get_preset(preset), settings), out=tmp_path / "one" / preset, verbose=0).run_dir
        assert_same_training(one / "checkpoints", run_dir(tmp_path / "two", preset) / "checkpoints", atol=atol, close=close)


@pytest.mark.slow
def test_two_logical_devices_train_stylegan2_as_one_process(tmp_path):
    """MirroredStrategy over 2 logical CPU devices, 4 steps of the tiny StyleGAN2 (global batch 4): latents, style
    mixing, path-length ``y`` and rows, synthesis noise and ADA's parameters are drawn per example of the global batch,
    ADA's ``r_t`` and the path-length mean are summed over the replicas; every variable (weights, Adam slots, EMA
    copies, RNG states, ``pl_mean``, ADA's ``p`` and ``r_t``) within 5e-6 of one process's (seen: 3.6e-7; before the
    per-example draws: 0.14)."""
    preset = FAMILIES["stylegan2"]
    subprocess.run(helper(tmp_path / "two", [preset], STYLEGAN2_EQUAL, devices=2), env=worker_env(tmp_path), check=True, timeout=900)
    one = train(override(get_preset(preset), STYLEGAN2_EQUAL), out=tmp_path / "one", verbose=0).run_dir
    assert_same_training(one / "checkpoints", run_dir(tmp_path / "two", preset) / "checkpoints", atol=5e-6)
    trained = variables(one / "checkpoints")
    assert trained["pl_mean/.ATTRIBUTES/VARIABLE_VALUE"] > 0 and trained["ada_rt/.ATTRIBUTES/VARIABLE_VALUE"] != 0


def test_ada_and_stylegan2_noise_draw_per_global_example_and_move_p_by_the_global_batch(tmp_path):
    """Two replicas (logical CPU devices) each augmenting, noising and measuring half of a batch of 4 give one
    process's images and noise, ``r_t`` and ``p``: ``r_t = 0.5`` over the batch (the replicas' own: 1 and 0), ``p``
    moves by 4 images (0.5 - 0.04), not 2."""
    result = subprocess.run([sys.executable, "-c", REPLICA_DRAWS], env=worker_env(tmp_path), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    two, one = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(two["p"], 0.46, atol=1e-6)
    np.testing.assert_allclose(two["rt"], 0.5, atol=1e-6)
    for key in ("images", "noise", "p", "rt"):
        np.testing.assert_allclose(two[key], one[key], rtol=0, atol=1e-6, err_msg=key)
    assert two["moved"] > 0.1 and np.max(np.abs(two["noise"])) > 0.1  # Augmented, noised.


# One process and two replicas: AdaptiveAugment (p 0.5, every transform) and a NoiseInjection layer (strength 1) on a
# batch of 4 (2 per replica), then one controller update from logits whose signs are (+, +, -, +).
REPLICA_DRAWS = """
import json
import numpy as np
from shoes_generator.distribute.strategy import make_strategy
strategy = make_strategy(2)
import keras
import tensorflow as tf
from shoes_generator.gans.ada import AdaptiveAugment
from shoes_generator.gans.adversarial import replicas_in_sync
from shoes_generator.models.stylegan2_layers import NoiseInjection

images = np.random.default_rng(0).uniform(0.0, 1.0, (4, 8, 8, 3)).astype("float32")
logits = np.array([[1.0], [2.0], [-1.0], [3.0]], "float32")

def run(strategy, replicas):
    with strategy.scope():
        ada = AdaptiveAugment(interval=1, speed_images=100, initial_p=0.5)
        noise = NoiseInjection(seed=3)
        noise.build((None, 8, 8, 3))
        noise.strength.assign(1.0)

    def replica(batch):
        augmented = ada(batch["images"], [7, 11])
        noised = noise(tf.zeros_like(batch["images"]), training=True)
        ada.accumulate(batch["logits"])
        ada.maybe_update(1, tf.shape(batch["images"])[0] * replicas_in_sync())
        return augmented, noised

    share = lambda context: {"images": images[context.replica_id_in_sync_group * 4 // replicas:][: 4 // replicas],
                             "logits": logits[context.replica_id_in_sync_group * 4 // replicas:][: 4 // replicas]}
    batches = strategy.experimental_distribute_values_from_function(share)
    augmented, noised = tf.function(lambda batch: strategy.run(replica, args=(batch,)))(batches)
    rows = lambda value: np.concatenate([np.asarray(part) for part in strategy.experimental_local_results(value)]).tolist()
    return {"images": rows(augmented), "noise": rows(noised), "p": float(ada.p.numpy()), "rt": float(ada.rt.numpy()),
            "moved": float(np.max(np.abs(np.array(rows(augmented)) - images)))}

print(json.dumps([run(strategy, 2), run(tf.distribute.OneDeviceStrategy("/cpu:0"), 1)]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("scale", ["workers", "devices"])
def test_every_family_trains_a_step_on_two_loopback_workers_and_on_two_logical_devices(scale, tmp_path):
    """Every family's tiny preset takes one `DistributedFit` step (no callbacks, no export: the segmenter's run covers
    those) in one cluster of two loopback workers, started as ``--workers 2`` starts them (`run_workers`; one cluster
    for all, sparing a start-up per family), or in one process over two logical CPU devices."""
    presets = sorted(FAMILIES.values())
    command = [*helper(tmp_path, presets, devices=2 if scale == "devices" else 1), "--one-step"]
    if scale == "workers":
        result = subprocess.run([sys.executable, "-c", RUN_WORKERS, json.dumps(command)], env=worker_env(tmp_path),
                                capture_output=True, text=True, timeout=900)
    else:
        result = subprocess.run(command, env=worker_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    steps = json.loads(result.stdout.strip().splitlines()[-1])  # The chief's line.
    assert sorted(steps) == presets
    for preset, outcome in steps.items():
        assert outcome["step"] == 1 and outcome["logs"] and all(np.isfinite(list(outcome["logs"].values()))), (preset, outcome)
    assert not list((tmp_path / "scratch").iterdir())


# `run_workers` in a process of its own, so the test reads the chief's stdout.
RUN_WORKERS = "import json, sys; from shoes_generator.distribute.launch import run_workers; sys.exit(run_workers(json.loads(sys.argv[1]), 2))"
