"""The part segmenter on Fashion-MNIST: `fmnist_part_pairs`, the `segment_fmnist_parts` preset, its tiny run through
`shoes-train`, `shoes-eval` (per-part IoU) and `shoes-export` (the `segment` signature)."""

import json

import numpy as np
import pytest
import tensorflow as tf

from serving.export_cli import main as shoes_export
from shoes_generator.configs import get_preset, override
from shoes_generator.data.fmnist import colored_shoe_arrays
from shoes_generator.imaging.parts import PART_CLASSES, SHAFT, part_shares
from shoes_generator.segmentation.data import fmnist_part_pairs
from training.evaluate import main as shoes_eval
from training.train import main as shoes_train


def test_fmnist_part_pairs_label_the_coloured_shoes_boots_with_shafts():
    images, parts = fmnist_part_pairs("test", image_size=16, limit=60)
    assert images.shape == (60, 16, 16, 3) and images.dtype == np.uint8
    assert parts.shape == (60, 16, 16) and parts.dtype == np.uint8 and parts.max() < len(PART_CLASSES)
    np.testing.assert_array_equal(images, colored_shoe_arrays("test", size=16, limit=60)[0])
    _, _, categories = colored_shoe_arrays("test", size=16, limit=60)
    assert part_shares(parts[categories == "ankle_boot"])["shaft"] > 0.05
    assert part_shares(parts[categories == "sneaker"])["shaft"] < part_shares(parts[categories == "ankle_boot"])["shaft"] / 3
    assert (parts[categories == "ankle_boot"] == SHAFT).any()


def test_preset_dry_runs_with_the_part_classes_and_refuses_others(capsys):
    assert shoes_train(["--config", "segment_fmnist_parts", "--dry-run"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["data"]["source"] == "fmnist_parts" and config["data"]["classes"] == list(PART_CLASSES)
    assert config["model"]["segmenter"] == "unet" and config["data"]["image_size"] == 32
    with pytest.raises(ValueError, match="fmnist_parts has the classes"):
        override(get_preset("segment_fmnist_parts_tiny"), ["data.classes=background,shoe"])


@pytest.mark.slow
def test_tiny_part_segmenter_trains_evaluates_per_part_and_exports(tmp_path, capsys):
    assert shoes_train(["--config", "segment_fmnist_parts_tiny", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    (run,) = [path for path in (tmp_path / "runs").iterdir() if path.is_dir()]
    capsys.readouterr()
    assert shoes_eval([str(run), "-n", "16"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 16 and report["held_out"] == "Fashion-MNIST test split"
    assert list(report["per_class_iou"]) == list(PART_CLASSES)
    assert shoes_export([str(run), "--model-base", str(tmp_path / "models"), "--model", "parts"]) == 0
    served = tf.saved_model.load(str(tmp_path / "models" / "parts" / "1"))
    images, _ = fmnist_part_pairs("test", image_size=16, limit=2)
    out = served.signatures["segment"](image_bytes=tf.stack([tf.io.encode_png(image) for image in images]))
    assert out["classes"].shape == (2, 16, 16) and int(tf.reduce_max(out["classes"])) < len(PART_CLASSES)
    names = served.signatures["class_names"](class_id=tf.range(len(PART_CLASSES), dtype=tf.int64))["name"]
    assert [name.decode() for name in names.numpy()] == list(PART_CLASSES)
