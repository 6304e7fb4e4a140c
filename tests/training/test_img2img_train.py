"""pix2pix and CycleGAN through `shoes-train`: every data kind, grids, checkpoints, resume, export, evaluation."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from shoes_generator.configs import get_preset, override
from shoes_generator.runs import read_config
from training.evaluate import main as shoes_eval
from training.train import main as shoes_train


def run_dir(out):
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


@pytest.mark.slow
def test_pix2pix_on_fmnist_sketches_leaves_grids_checkpoints_and_a_servable_export(tmp_path, capsys):
    assert shoes_train(["--config", "pix2pix_fmnist_edges_tiny", "--out", str(tmp_path), "--quiet"]) == 0
    run = run_dir(tmp_path)
    grid = Image.open(run / "samples" / "latest.png")
    assert grid.size[0] > 3 * 16  # input | output | target
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-4")
    model = tf.saved_model.load(str(run / "saved_model"))
    assert {"serving_default", "from_pixels"} <= set(model.signatures)
    sketch = np.full((2, 40, 24, 3), 255, np.uint8)
    out = model.signatures["from_pixels"](image=tf.constant(sketch))
    assert out["images"].shape == (2, 16, 16, 3) and out["image_bytes"].shape == (2,)
    capsys.readouterr()
    assert shoes_eval([str(run), "-n", "16"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["examples"] == 16 and 0 <= report["type_accuracy"] <= 1 and report["psnr"] > 0 and 0 < report["l1"] < 2


@pytest.mark.slow
def test_pix2pix_trains_on_ab_folders_and_on_photo_mask_triplets(tmp_path, ab_pairs, triplets):
    small = ["--set", "train.batch_size=2", "--set", "train.sample_columns=2"]
    assert shoes_train(["--config", "pix2pix_edges2shoes_tiny", "--data", str(ab_pairs), "--out", str(tmp_path / "ab"), *small, "--quiet"]) == 0
    assert read_config(run_dir(tmp_path / "ab")).data.source == "pairs"
    assert shoes_train(["--config", "pix2pix_mask2product_tiny", "--data", str(triplets), "--out", str(tmp_path / "m"), *small, "--quiet"]) == 0
    model = tf.saved_model.load(str(run_dir(tmp_path / "m") / "saved_model"))
    inputs = model.signatures["from_pixels"].structured_input_signature[1]
    assert set(inputs) == {"image", "mask"} and inputs["mask"].shape[-1] == 1


@pytest.mark.slow
def test_cyclegan_sneaker_to_boot_exports_both_directions_and_the_blend(tmp_path, capsys):
    assert shoes_train(["--config", "cyclegan_sneaker2boot_tiny", "--out", str(tmp_path), "--quiet"]) == 0
    run = run_dir(tmp_path)
    model = tf.saved_model.load(str(run / "saved_model"))
    assert {"serving_default", "b_to_a", "blend", "from_pixels", "b_to_a_pixels", "blend_pixels"} <= set(model.signatures)
    shoes = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    plain = model.signatures["from_pixels"](image=tf.constant(shoes))["images"].numpy()
    full = model.signatures["blend_pixels"](image=tf.constant(shoes), alpha=tf.ones([3]))["images"].numpy()
    half = model.signatures["blend_pixels"](image=tf.constant(shoes), alpha=tf.fill([3], 0.5))["images"].numpy()
    np.testing.assert_array_equal(plain, full)
    assert not np.array_equal(half, full)
    capsys.readouterr()
    assert shoes_eval([str(run), "-n", "8"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "a_to_b_classified_as_ankle_boot" in report and report["cycle_l1_aba"] >= 0
    from shoes_generator.blend import main as blend

    assert blend([str(run), "--out", str(tmp_path / "strip.png"), "--count", "2"]) == 0
    assert Image.open(tmp_path / "strip.png").size[0] > 7 * 16  # input, 5 alphas, pixel blend


@pytest.mark.slow
def test_cyclegan_between_two_brands_of_a_folder(tmp_path, zappos_tree):
    argv = ["--config", "cyclegan_brands_tiny", "--data", str(zappos_tree), "--out", str(tmp_path / "runs"), "--set", "train.batch_size=2",
            "--set", "train.sample_columns=2", "--quiet"]
    assert shoes_train(argv) == 0
    assert (run_dir(tmp_path / "runs") / "samples" / "latest.png").is_file()


def test_image_to_image_configs_are_checked():
    with pytest.raises(ValueError, match="pix2pix' trains on pairs"):
        override(get_preset("pix2pix_fmnist_edges"), ["data.source=fmnist"])
    with pytest.raises(ValueError, match="needs data.domain_a"):
        override(get_preset("cyclegan_sneaker2boot"), ["data.domain_b=none"])
    with pytest.raises(ValueError, match="data.direction"):
        override(get_preset("pix2pix_fmnist_edges"), ["data.direction=sideways"])
