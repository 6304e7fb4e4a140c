"""benchmarks/gpu_precision.py (issue 19, item 5) runs: a CPU smoke test of the script, and its refusal to time CPUs."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import gpu_precision  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="a GPU is visible: the script times it")
def test_without_a_gpu_it_refuses_to_time_and_says_how_to_smoke_test(capsys):
    assert gpu_precision.main(["--families", "segmentation"]) == 2
    assert "no GPU visible" in capsys.readouterr().err


@pytest.mark.slow  # float16 is emulated on CPUs: about 10 s on an idle machine.
def test_the_smoke_run_reports_both_precisions_and_the_device(tmp_path, capsys):
    assert gpu_precision.main(["--smoke", "--families", "segmentation", "-o", str(tmp_path / "out.json")]) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert report == json.loads(capsys.readouterr().out) and report["device"] == "cpu" and report["smoke"]
    (result,) = report["results"].values()
    assert result["preset"] == "segment_fmnist_unet_tiny" and set(result["images_per_s"]) == {"float32", "mixed_float16"}
    assert all(value > 0 for value in result["images_per_s"].values())
