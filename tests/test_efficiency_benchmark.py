"""benchmarks/efficiency.py (issue 19, item 6): the smoke run, and the unfused step it compares against."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import efficiency  # noqa: E402
import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from shoes_generator.builders import build_model  # noqa: E402
from shoes_generator.configs import get_preset  # noqa: E402
from shoes_generator.models import stylegan2_layers  # noqa: E402
from shoes_generator.optimizers import FusedAdam  # noqa: E402


def _norms(model):
    return {type(layer).__name__ for layer in model._flatten_layers() if "Normalization" in type(layer).__name__}


def test_unfused_ops_build_kerass_adam_group_norm_and_bfloat16_filters_then_restore_the_fused_ones():
    config = get_preset("pix2pix_fmnist_edges_tiny")
    with efficiency.unfused_ops():
        unfused = build_model(config)
        filtered = stylegan2_layers.upsample_2x(tf.zeros([1, 2, 2, 1], tf.bfloat16))
        graph = tf.function(stylegan2_layers.upsample_2x).get_concrete_function(tf.TensorSpec([1, 2, 2, 1], tf.bfloat16)).graph
    assert type(unfused.g_optimizer) is keras.optimizers.Adam and _norms(unfused) == {"GroupNormalization"}
    (depthwise,) = [op for op in graph.get_operations() if op.type == "DepthwiseConv2dNative"]
    assert filtered.dtype == tf.bfloat16 and depthwise.inputs[0].dtype == tf.bfloat16
    fused = build_model(config)
    assert isinstance(fused.g_optimizer, FusedAdam) and _norms(fused) == {"InstanceNormalization"}
    graph = tf.function(stylegan2_layers.upsample_2x).get_concrete_function(tf.TensorSpec([1, 2, 2, 1], tf.bfloat16)).graph
    (depthwise,) = [op for op in graph.get_operations() if op.type == "DepthwiseConv2dNative"]
    assert depthwise.inputs[0].dtype == tf.float32


def test_the_smoke_run_reports_the_fraction_of_the_peak_and_the_unfused_speedup(tmp_path, capsys):
    out = tmp_path / "efficiency.json"
    assert efficiency.main(["--smoke", "--presets", "pix2pix_fmnist_edges", "--compare-unfused", "-o", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report == json.loads(capsys.readouterr().out) and report["settings"]["intra_op_threads"] == 0
    (result,) = report["results"]
    assert result["preset"] == "pix2pix_fmnist_edges_tiny" and result["peak_dtype"] == "bfloat16"
    assert result["images_per_s"] > 0 and result["gflop_per_image"] > 0 and 0 < result["fraction_of_peak"]
    assert result["unfused_images_per_s"] > 0
    assert result["speedup"] == pytest.approx(result["images_per_s"] / result["unfused_images_per_s"], abs=2e-3)  # Both rounded.
