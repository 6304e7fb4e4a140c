"""Every family walked as a user walks it: a run stopped mid-epoch resumes (`shoes-train --resume`) to the state
of the uninterrupted run, learning-rate schedules included, from a config.json written before families had own
model sections too, and `shoes-export` publishes what it trained, servable by a stock TF Serving."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from serving.export_cli import main as shoes_export
from shoes_generator.callbacks import global_step
from shoes_generator.configs import PRESETS, get_preset, override
from shoes_generator.trainer import train
from tests import harness
from tests.test_export import assert_servable_by_stock_tf_serving
from tests.training.test_resume import final_variables
from training.train import main as shoes_train

FAMILIES = {  # family -> its tiny preset walked here (pix2pix with a mask input and a decaying learning rate)
    "dcgan": "dcgan64_paper_tiny",
    "conditional": "cgan_fmnist_color_tiny",
    "pix2pix": "pix2pix_mask2product_tiny",
    "cyclegan": "cyclegan_sneaker2boot_tiny",
    "segmentation": "segment_fmnist_unet_tiny",
    "stylegan2": "stylegan2_fmnist_color_tiny",
    "spade": "spade_fmnist_parts_tiny",
    "pattern": "pattern_fmnist_tiny",
}
SETTINGS = {  # family -> settings that put its periodic state to work in four steps
    # StyleGAN2: R1, path length and ADA's p all move; float32, as bfloat16 convolutions are emulated on CPUs without AVX512-BF16.
    "stylegan2": ["model.r1_interval=2", "model.pl_weight=1", "model.pl_interval=3", "model.ada_interval=1", "train.precision=float32"],
}
LEGACY = Path(__file__).parent / "legacy_configs"  # Written by the flat ModelConfig of runs before family sections.
FOLDER_DATA = {  # data.source -> the harness writer of a folder it reads
    "pairs": harness.fake_ab_pairs,
    "triplets": harness.fake_triplets,
    "folder": harness.fake_zappos,
    "segments": harness.fake_parts,
    "patterns": harness.fake_patterns,
}


def test_every_family_and_folder_source_is_walked_or_has_a_writer():
    tiny = [name for name in PRESETS if name.endswith("_tiny")]
    assert {get_preset(name).model.family for name in tiny} == set(FAMILIES)
    assert all(get_preset(FAMILIES[family]).model.family == family for family in FAMILIES)
    assert {get_preset(name).data.source for name in tiny} <= {"fmnist", "fmnist_color", "fmnist_edges", "fmnist_sketches", "fmnist_masks", "fmnist_parts", "fmnist_patterns", *FOLDER_DATA}


def data_settings(preset: str, tmp_path) -> list[str]:
    """Settings that point a folder preset at a fake folder of its kind (none for Fashion-MNIST)."""
    source = get_preset(preset).data.source
    if source not in FOLDER_DATA:
        return []
    return [f"data.path={FOLDER_DATA[source](tmp_path / 'data')}", "train.batch_size=2", "train.sample_columns=2"]


def saved_arrays(path) -> list[tuple[tuple, bytes]]:
    """Every variable of a SavedModel as (shape, bytes), sorted: its content, whatever order the export tracked them in."""
    reader = tf.train.load_checkpoint(str(path / "variables" / "variables"))
    arrays = [reader.get_tensor(key) for key in reader.get_variable_to_shape_map() if "OBJECT_GRAPH" not in key]
    return sorted((array.shape, array.tobytes()) for array in arrays)


class StopAt(keras.callbacks.Callback):
    """Stops training with an exception once the run reaches `step` (after that step's checkpoint)."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if global_step(self.model) == self.step:
            raise KeyboardInterrupt(f"stopped at step {self.step}")


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_stopped_run_resumes_to_the_straight_runs_state_and_shoes_export_publishes_it(family, tmp_path, capsys):
    preset = FAMILIES[family]
    config = override(get_preset(preset), data_settings(preset, tmp_path) + SETTINGS.get(family, []))  # 2 epochs of 2 steps, a checkpoint every step.
    train(config, out=tmp_path / "straight", verbose=0)
    with pytest.raises(KeyboardInterrupt):
        train(config, out=tmp_path / "stopped", verbose=0, extra_callbacks=[StopAt(3)])  # Mid-epoch 2.
    (run,) = (tmp_path / "stopped").iterdir()
    if (LEGACY / f"{family}.json").exists():  # A family older than per-family model sections:
        written = json.loads((run / "config.json").read_text())  # resume from config.json as runs wrote it then,
        legacy = json.loads((LEGACY / f"{family}.json").read_text())["model"]  # one flat model section, every field.
        assert set(legacy) > set(written["model"]) and all(legacy[key] == value for key, value in written["model"].items())
        (run / "config.json").write_text(json.dumps({**written, "model": legacy}))
    assert shoes_train(["--resume", str(run), "--quiet"]) == 0
    (straight,) = (tmp_path / "straight").iterdir()
    expected, actual = final_variables(straight), final_variables(run)
    assert set(actual) == set(expected) and any("optimizer" in key for key in expected)
    for key in expected:  # Networks, optimizers (learning-rate schedules included), EMA, pools, RNG states.
        np.testing.assert_allclose(actual[key], expected[key], rtol=1e-4, atol=1e-5, err_msg=key)

    capsys.readouterr()
    assert shoes_export([str(run), "--model-base", str(tmp_path / "models"), "--model", "m"]) == 0, capsys.readouterr().err
    published = json.loads(capsys.readouterr().out)
    assert published["version"] == 1 and published["step"] == 4
    ours, theirs = run / "saved_model", tmp_path / "models" / "m" / "1"
    assert set(tf.saved_model.load(str(theirs)).signatures) == set(tf.saved_model.load(str(ours)).signatures)
    assert_servable_by_stock_tf_serving(theirs)  # Core ops only: nothing of the input pipeline (its py_function) leaks in.
    expected, actual = saved_arrays(ours), saved_arrays(theirs)  # EMA BatchNorm statistics included (a seeded refresh).
    assert len(expected) > 4 and actual == expected
