"""shoes-explore on a StyleGAN2 export: its w space (mapping's w per seed, lerp, synthesis), locally and served."""

import json
import shutil

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator import latent
from shoes_generator.explore_cli import main

LABELS = {"color": "red", "category": "sneaker"}


@pytest.fixture(scope="module")
def run_dir(stylegan2_run):
    return stylegan2_run


@pytest.fixture(scope="module")
def model(run_dir):
    return latent.open_model(run_dir)


def _serving_default(model, seeds, labels=LABELS):
    inputs = {name: tf.constant([value] * len(seeds)) for name, value in labels.items()}
    return model.saved_model.signatures["serving_default"](seed=tf.constant(seeds, tf.int64), **inputs)["images"].numpy()


def test_the_export_is_explored_in_w_with_lerp(model):
    assert isinstance(model, latent.LocalStyleGenerator)
    assert (model.space, model.interpolation, model.truncation) == ("w", "lerp", 1.0)
    ws = model.saved_model.signatures["synthesis"].structured_input_signature[1]["w"].shape
    assert (model.num_ws, model.latent_dim) == tuple(ws[1:])
    assert model.seed_latents([1, 2], LABELS).shape == (2, model.latent_dim)
    with pytest.raises(ValueError, match="no from_latent signature .*StyleGAN2 export explores w"):
        latent.LocalGenerator(model.source, saved_model=model.saved_model)


def test_cli_interpolate_writes_its_grid_and_its_ends_are_the_seeds_shoes(run_dir, model, tmp_path, capsys):
    out = tmp_path / "walk"
    assert main(["interpolate", str(run_dir), "--seeds", "3,4,5", "--steps", "3", "--label", "color=red",
                 "--label", "category=sneaker", "-o", str(out)]) == 0
    report = json.loads((out / "interpolation.json").read_text())
    assert (report["method"], report["latent_space"], report["truncation"], report["frames"]) == ("lerp", "w", 1.0, 5)
    assert (out / "interpolation.png").is_file() and (out / "interpolation.gif").is_file()
    grid = latent.interpolation_grid(model, [3, 4, 5], steps=3, labels=LABELS)
    ends = _serving_default(model, [3, 4, 5])
    np.testing.assert_array_equal(grid[:, 0], ends[:2])  # psi off: exactly serving_default's shoes
    np.testing.assert_array_equal(grid[:, -1], ends[1:])
    truncated = latent.LocalStyleGenerator(model.source, 0.5, saved_model=model.saved_model)
    average = model.saved_model.signatures["truncated"](
        seed=tf.constant([3], tf.int64), truncation=tf.constant([0.5]), **{n: tf.constant([v]) for n, v in LABELS.items()})["images"]
    np.testing.assert_array_equal(latent.interpolation_grid(truncated, [3, 4], steps=2, labels=LABELS)[0, 0], average.numpy()[0])
    capsys.readouterr()


def test_cli_direction_writes_a_w_dim_direction_and_its_edit_grid(run_dir, model, tmp_path, capsys):
    out = tmp_path / "direction"
    assert main(["direction", str(run_dir), "--attribute", "height", "-n", "20", "--seeds", "2", "--steps", "3",
                 "--truncation", "0.7", "-o", str(out)]) == 0
    report = json.loads((out / "direction.json").read_text())
    assert (report["latent_space"], report["latent_dim"], report["num_ws"], report["truncation"]) == ("w", model.latent_dim, model.num_ws, 0.7)
    assert np.asarray(report["values"]).shape == (2, 3) and report["defaulted_labels"] == ["category", "color"]
    assert (out / "edit_grid.png").is_file() and np.load(out / "direction.npy").shape == (model.latent_dim,)
    capsys.readouterr()


def test_a_found_w_direction_is_walked_in_stds_of_w(model):
    def brightness(images):
        return images.reshape(len(images), -1).mean(axis=1) / 255

    result = latent.explore_direction(model, brightness, samples=30, seeds=2, strengths=(-1.0, 0.0, 1.0), labels=LABELS)
    assert result["direction_found"] and result["direction"].shape == (model.latent_dim,)
    rng = np.random.default_rng(0)  # explore_direction's: 30 samples to fit on, then 2 starts
    w, starts = model.sample(rng, 30, LABELS), model.sample(rng, 2, LABELS)
    assert result["strength_unit"] == pytest.approx(np.std(w @ result["direction"]), rel=1e-4)
    np.testing.assert_array_equal(result["images"][:, 1], model.render(starts))  # strength 0: the start shoes


def test_the_served_model_explores_the_same_w(run_dir, model, tmp_path):
    from serving.server.model_store import entries_from_base
    from tests.serving.helpers import running_server

    shutil.copytree(run_dir / "saved_model", tmp_path / "base" / "shoes" / "1")
    with running_server(entries_from_base(tmp_path / "base")) as server:
        served = latent.open_model(server=f"127.0.0.1:{server.port}", name="shoes")
        try:
            assert isinstance(served, latent.ServedStyleGenerator) and served.vocabularies == model.vocabularies
            assert (served.num_ws, served.latent_dim) == (model.num_ws, model.latent_dim)
            np.testing.assert_array_equal(served.seed_latents([3, 4], LABELS), model.seed_latents([3, 4], LABELS))
            np.testing.assert_array_equal(latent.interpolation_grid(served, [3, 4], 3, labels=LABELS),
                                          latent.interpolation_grid(model, [3, 4], 3, labels=LABELS))
        finally:
            served.close()
