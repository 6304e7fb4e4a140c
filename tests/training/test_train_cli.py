"""`shoes-train`: presets, overrides, dry runs, and what a tiny run leaves in its directory."""

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.configs import get_preset, override
from shoes_generator.trainer import train
from training.train import main as shoes_train


def test_dry_run_prints_the_dcgan_reference_numbers(capsys):
    assert shoes_train(["--config", "dcgan64_paper", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert (config["model"]["latent_dim"], config["model"]["g_filters"], config["model"]["d_filters"]) == (100, 64, 64)
    assert (config["data"]["image_size"], config["data"]["channels"]) == (64, 3)
    train_cfg = config["train"]
    assert (train_cfg["g_lr"], train_cfg["d_lr"], train_cfg["beta_1"]) == (2e-4, 2e-4, 0.5)
    assert (train_cfg["batch_size"], train_cfg["epochs"]) == (128, 25)


def test_overrides_and_data_flag_reach_the_config(capsys, tmp_path):
    code = shoes_train(["--config", "cgan_fmnist_color", "--set", "train.batch_size=32", "--data", str(tmp_path), "--dry-run"])
    assert code == 0
    config = json.loads(capsys.readouterr().out)
    assert config["train"]["batch_size"] == 32
    assert (config["data"]["source"], config["data"]["path"]) == ("folder", str(tmp_path))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--config", "nope"], "Known presets"),
        (["--config", "dcgan64_paper", "--set", "train.bogus=1"], "Unknown setting 'train.bogus'"),
        (["--config", "dcgan64_paper", "--set", "train.batch_size=big"], "train.batch_size"),
        (["--config", "dcgan64_paper", "--set", "train.precision=fp8"], "train.precision='fp8'"),
        (["--resume", "/nonexistent/run"], "no config.json"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    assert shoes_train(argv) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["dcgan64_paper_tiny", "cgan_fmnist_color_tiny"])
def test_tiny_presets_train_and_leave_a_complete_run_directory(preset, tmp_path):
    result = train(get_preset(preset), out=tmp_path, verbose=0)
    run = result.run_dir
    assert run.name == f"00000-{preset}" and result.step == 4
    assert json.loads((run / "config.json").read_text())["name"] == preset
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [1, 2]
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in records)
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["epoch_0001.png", "epoch_0002.png", "latest.png"]
    assert (run / "loss_curve.png").stat().st_size > 1000
    assert list((run / "logs").rglob("events.out.tfevents*"))
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-4")
    assert (run / "saved_model" / "saved_model.pb").is_file()
    second = train(get_preset(preset), out=tmp_path, verbose=0)
    assert second.run_dir.name == f"00001-{preset}"


@pytest.mark.slow
def test_trains_on_an_image_folder_with_labels_from_its_tree(zappos_tree, tmp_path):
    config = override(
        get_preset("cgan_fmnist_color_tiny"),
        ["data.source=folder", f"data.path={zappos_tree.parent}", "data.labels=category", "data.limit=none", "train.batch_size=2"],
    )
    result = train(config, out=tmp_path, verbose=0)
    vocab = json.loads((result.run_dir / "vocabularies.json").read_text())
    assert vocab == {"category": ["Boots", "Sandals", "Shoes"]}
    assert result.step == 4


@pytest.mark.slow
def test_resume_with_more_epochs_extends_the_run_and_keeps_labels_in_check(tmp_path, capsys):
    config = override(get_preset("cgan_fmnist_color_tiny"), ["train.epochs=1"])
    run = train(config, out=tmp_path, verbose=0).run_dir
    assert shoes_train(["--resume", str(run), "--epochs", "2", "--quiet"]) == 0
    assert json.loads((run / "config.json").read_text())["train"]["epochs"] == 2
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-4")
    (run / "vocabularies.json").write_text(json.dumps({"category": ["boot"], "color": ["red"]}))
    assert shoes_train(["--resume", str(run), "--epochs", "3", "--quiet"]) == 1  # Found while running: exit 1.
    assert "labels changed" in capsys.readouterr().err


@pytest.mark.slow
def test_a_torn_metrics_line_is_dropped_on_resume_and_the_clock_keeps_counting(tmp_path, caplog):
    config = override(get_preset("dcgan64_paper_tiny"), ["train.epochs=1"])
    run = train(config, out=tmp_path, verbose=0).run_dir
    metrics = run / "metrics.jsonl"
    first = [json.loads(line) for line in metrics.read_text().splitlines()]
    metrics.write_text(metrics.read_text() + '{"kind": "step", "step": 2, "d_lo')  # A crash mid-write.
    with caplog.at_level("WARNING", logger="shoes_generator.runs"):
        assert shoes_train(["--resume", str(run), "--epochs", "2", "--quiet"]) == 0
    assert any("torn line" in r.getMessage() and str(metrics) in r.getMessage() for r in caplog.records)
    records = [json.loads(line) for line in metrics.read_text().splitlines()]  # Every line parses again.
    assert records[: len(first)] == first
    epochs = [record for record in records if record["kind"] == "epoch"]
    assert [record["epoch"] for record in epochs] == [1, 2]
    assert epochs[1]["seconds"] > epochs[0]["seconds"]  # Counted on from the first process's seconds.


def test_metrics_lines_after_a_torn_one_start_on_a_line_of_their_own(tmp_path, caplog):
    from shoes_generator.runs import append_metrics, read_metrics

    path = tmp_path / "metrics.jsonl"
    append_metrics(path, {"kind": "step", "step": 1})
    path.write_text(path.read_text() + '{"kind": "ep')
    append_metrics(path, {"kind": "eval", "step": 1, "fid": 2.5})
    append_metrics(path, {"kind": "step", "step": None})  # Hand-edited, or another tool's: no step to trim by.
    with caplog.at_level("WARNING", logger="shoes_generator.runs"):
        assert read_metrics(path) == [{"kind": "step", "step": 1}, {"kind": "eval", "step": 1, "fid": 2.5}]
    assert "line 2 of" in caplog.text and "line 4 of" in caplog.text and str(path) in caplog.text


@pytest.mark.parametrize("extra", [["--set", "train.batch_size=8"], ["--data", "photos"]])
def test_resume_refuses_settings_it_would_otherwise_ignore(extra, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        shoes_train(["--resume", str(tmp_path), *extra])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "a resumed run keeps the config it started with" in error and " ".join(extra) in error


def test_invalid_settings_fail_before_a_run_directory_exists(tmp_path, capsys):
    for setting in ("train.loss=wasserstein", "data.image_size=48", "train.checkpoint_every=3", "train.ema_decay=1"):
        argv = ["--config", "cgan_fmnist_color_tiny", "--set", "train.steps_per_execution=2", "--set", setting]
        assert shoes_train([*argv, "--out", str(tmp_path)]) == 2, setting
        assert "Received" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_sample_metrics_are_logged_every_k_epochs(tmp_path, monkeypatch):
    from shoes_generator.evaluation.classifier import load_or_train_classifier

    load_or_train_classifier(16, tmp_path / "cache", epochs=1, limit=100)  # A quick judge, cached where the run looks.
    monkeypatch.setenv("SHOES_CACHE", str(tmp_path / "cache"))
    config = override(get_preset("cgan_fmnist_color_tiny"), ["train.epochs=3", "train.metrics_every=2", "train.metrics_samples=24"])
    run = train(config, out=tmp_path / "runs", verbose=0).run_dir
    epochs = {r["epoch"]: r for r in map(json.loads, (run / "metrics.jsonl").read_text().splitlines()) if r["kind"] == "epoch"}
    assert "fid" not in epochs[1] and "fid" not in epochs[3]
    assert {"fid", "kid", "kid_std", "precision", "recall"} <= set(epochs[2]) and epochs[2]["fid"] > 0
    with pytest.raises(ValueError, match="noise generators"):
        override(get_preset("pix2pix_fmnist_edges_tiny"), ["train.metrics_every=1"])


def _fake_train(monkeypatch, outcome):
    """Replaces the trainer with one that returns `outcome` (a run result) or raises it."""
    import types

    import shoes_generator.trainer

    def fake(config, out, **kwargs):
        if isinstance(outcome, Exception):
            raise outcome
        return types.SimpleNamespace(run_dir=Path(out) / "00007-dcgan64_paper", step=outcome)

    monkeypatch.setattr(shoes_generator.trainer, "train", fake)


def test_the_last_stdout_line_is_the_run_directory_as_json(monkeypatch, tmp_path, capsys):
    _fake_train(monkeypatch, 12)
    (tmp_path / "data").mkdir()
    assert shoes_train(["--config", "dcgan64_paper", "--data", str(tmp_path / "data"), "-o", str(tmp_path / "runs")]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[-1]) == {"run": str(tmp_path / "runs" / "00007-dcgan64_paper"), "step": 12}
    assert "run directory:" in captured.err and "run directory:" not in captured.out


def test_a_failure_while_training_exits_1_and_a_wrong_command_line_exits_2(monkeypatch, tmp_path, capsys):
    _fake_train(monkeypatch, ValueError("the data changed under the run"))
    (tmp_path / "data").mkdir()
    assert shoes_train(["--config", "dcgan64_paper", "--data", str(tmp_path / "data"), "--out", str(tmp_path)]) == 1
    assert "shoes-train: error: the data changed under the run" in capsys.readouterr().err
    assert shoes_train(["--config", "no_such_preset", "--out", str(tmp_path)]) == 2


def test_a_time_limit_stops_at_a_whole_step_then_checkpoints_exports_and_resumes(tmp_path, capsys):
    argv = ["--config", "cgan_fmnist_color_tiny", "--set", "train.epochs=500", "--quiet", "--out", str(tmp_path)]
    assert shoes_train([*argv, "--time-limit", "0.05"]) == 0  # Three seconds of 1000 steps.
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    run, step = Path(record["run"]), record["step"]
    assert 0 < step < 1000 and (run / "saved_model" / "saved_model.pb").is_file()
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith(f"ckpt-{step}")
    assert shoes_train(["--resume", str(run), "--quiet", "--time-limit", "0.05"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["step"] > step


@pytest.mark.parametrize("minutes", ["0", "-1", "soon", "inf"])
def test_a_time_limit_must_be_a_positive_number_of_minutes(minutes, capsys):
    with pytest.raises(SystemExit) as exit_info:
        shoes_train(["--config", "cgan_fmnist_color_tiny", "--time-limit", minutes])
    assert exit_info.value.code == 2 and f"Received: {minutes!r}" in capsys.readouterr().err


@pytest.mark.parametrize("preset", ["stylegan2_fmnist_color", "stylegan2_limited", "stylegan2_folder256"])
def test_stylegan2_presets_dry_run(preset, capsys):
    assert shoes_train(["--config", preset, "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["model"]["family"] == "stylegan2" and config["name"] == preset
    assert (config["data"]["limit"] == 1000) == (preset == "stylegan2_limited")
    assert shoes_train(["--config", preset, "--set", "model.ada=false", "--dry-run"]) == 0  # ADA off, the comparison's switch.
    assert json.loads(capsys.readouterr().out)["model"]["ada"] is False
