"""Segmenters through `shoes-train`, `shoes-eval` and `shoes-export`: presets, label folders, masks from `shoes-data masks`, resume."""

import json
import logging

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.export_cli import main as shoes_export
from shoes_generator.configs import get_preset, override
from shoes_generator.segmentation.data import held_out, label_tree_pairs
from tests.harness import fake_parts, run_cli, shoe_image, write_image
from training.evaluate import main as shoes_eval
from training.train import main as shoes_train

PART_CLASSES = ("background", "sole", "heel", "upper")


def run_dir(out):
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


@pytest.fixture(scope="module")
def parts_folder(tmp_path_factory):
    """40 part-labelled boots in image/ and label/ (one subfolder deep), plus one corrupt image with a label."""
    return fake_parts(tmp_path_factory.mktemp("parts"))


def test_label_trees_split_into_disjoint_train_and_held_out_parts_and_skip_corrupt_files(parts_folder, caplog):
    keys = [f"boots/{index:03d}" for index in range(40)]
    expected_test = sum(held_out(key) for key in keys)
    assert 0 < expected_test < 40
    with caplog.at_level(logging.WARNING, "shoes_generator.segmentation"):
        train_images, train_labels, classes = label_tree_pairs(parts_folder / "image", parts_folder / "label", 16, "train")
        test_images, _, _ = label_tree_pairs(parts_folder / "image", parts_folder / "label", 16, "test")
    assert len(train_images) + len(test_images) == 40 and len(test_images) == expected_test
    assert classes == 4 and set(np.unique(train_labels)) == {0, 1, 2, 3}
    broken = [record for record in caplog.records if "broken" in record.getMessage()]
    assert broken and "Skipped 1 unreadable" in broken[0].getMessage()


def test_an_empty_held_out_split_is_named(tmp_path):
    from shoes_generator.configs import DataConfig
    from shoes_generator.segmentation.data import segmentation_arrays

    keys = [key for key in (f"shoe{index}" for index in range(40)) if not held_out(key)][:3]
    for key in keys:
        write_image(tmp_path / "image" / f"{key}.png", shoe_image(16))
        write_image(tmp_path / "label" / f"{key}.png", Image.fromarray(np.zeros((16, 16), np.uint8), mode="L"))
    config = DataConfig(source="segments", path=str(tmp_path), image_size=16)
    assert len(segmentation_arrays(config, "train")[0]) == 3
    with pytest.raises(ValueError, match="test split .* is empty: about 1 pair in 10"):
        segmentation_arrays(config, "test")


def test_zero_255_masks_read_as_shoe_classes(tmp_path):
    write_image(tmp_path / "photos" / "a.png", shoe_image(16))
    write_image(tmp_path / "masks" / "a.png", Image.fromarray(np.where(np.eye(16, dtype=bool), 255, 0).astype(np.uint8), mode="L"))
    _, labels, classes = label_tree_pairs(tmp_path / "photos", tmp_path / "masks", 16)
    assert classes == 2 and set(np.unique(labels)) == {0, 1}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["model.family=segmentation", "data.source=fmnist"], "go together"),
        (["data.classes=background,shoe,lace"], "fmnist_masks has two classes"),
        (["model.segmenter=deeplab"], "model.segmenter must be one of"),
        (["data.classes=background,background"], "distinct"),
        (["data.domain_a=category=sneaker", "data.domain_b=category=ankle_boot"], "do not apply"),
        (["data.channels=1"], "channels must be 3"),
    ],
)
def test_segmentation_settings_are_checked(settings, message):
    with pytest.raises(ValueError, match=message):
        override(get_preset("segment_fmnist_unet_tiny"), settings)


@pytest.mark.slow
def test_fmnist_segmenter_trains_evaluates_and_exports(tmp_path, capsys):
    assert shoes_train(["--config", "segment_fmnist_unet_tiny", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    run = run_dir(tmp_path / "runs")
    assert Image.open(run / "samples" / "latest.png").size[0] > 3 * 16  # image | predicted | labels
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-4")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"loss", "pixel_accuracy", "mean_iou"} <= set(records[-1])
    capsys.readouterr()
    assert shoes_eval([str(run), "-n", "40"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 40 and report["held_out"] == "Fashion-MNIST test split"
    assert set(report["per_class_iou"]) == {"background", "shoe"} and 0 <= report["mean_iou"] <= 1
    assert json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])["kind"] == "eval"
    assert shoes_export([str(run), "--model-base", str(tmp_path / "models"), "--name", "segmenter"]) == 0
    served = tf.saved_model.load(str(tmp_path / "models" / "segmenter" / "1"))
    png = tf.io.encode_png(np.asarray(shoe_image(16)))
    out = served.signatures["segment"](image_bytes=tf.stack([png]))
    assert out["classes"].shape == (1, 16, 16) and out["mask_bytes"].shape == (1,)
    capsys.readouterr()
    assert shoes_eval([str(run / "saved_model"), "-n", "8"]) == 0  # A run's saved_model/ is scored as its run.
    assert json.loads(capsys.readouterr().out)["examples"] == 8
    assert shoes_eval([str(tmp_path / "models" / "segmenter" / "1"), "-n", "8"]) == 2  # No run beside it: said, not a traceback.
    assert "not a noise generator" in capsys.readouterr().err
    assert shoes_eval([str(run), "-n", "8", "--metrics", "fid"]) == 2  # Generator-only options are refused, not ignored.
    assert "--metrics measure noise generators" in capsys.readouterr().err


@pytest.mark.slow
def test_part_segmenter_learns_parts_from_a_label_folder(tmp_path, parts_folder, capsys, monkeypatch):
    monkeypatch.chdir(parts_folder.parent)  # --data relative: the run must still find it from elsewhere.
    argv = ["--config", "segment_parts_tiny", "--data", parts_folder.name, "--out", str(tmp_path), "--quiet",
            "--set", "train.steps_per_epoch=None", "--set", "train.epochs=25", "--set", "train.checkpoint_every=0"]
    assert shoes_train(argv) == 0
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert shoes_eval([str(run_dir(tmp_path))]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["held_out"] == "held-out tenth of the label folder" and 0 < report["examples"] < 40
    assert list(report["per_class_iou"]) == list(PART_CLASSES)
    assert report["pixel_accuracy"] > 0.9 and report["per_class_iou"]["upper"] > 0.5, report


@pytest.mark.slow
def test_masks_written_by_shoes_data_train_a_segmenter_on_photos(tmp_path, capsys):
    for index in range(12):
        write_image(tmp_path / "photos" / f"{index}.png", shoe_image(16, color=(40 + 15 * index, 30, 200 - 10 * index)))
    code, summary, _ = run_cli(["masks", tmp_path / "photos", tmp_path / "masks"], capsys)
    assert code == 0 and summary["written"] == 12
    argv = ["--config", "segment_fmnist_fcn_tiny", "--set", "data.source=segments", "--data", str(tmp_path / "photos"),
            "--set", f"data.label_path={tmp_path / 'masks'}", "--out", str(tmp_path / "runs"), "--quiet"]
    assert shoes_train(argv) == 0
    config = json.loads((run_dir(tmp_path / "runs") / "config.json").read_text())
    assert config["data"]["source"] == "segments" and config["model"]["segmenter"] == "fcn"
