"""Latent-space exploration: interpolation, attributes, directions, the served backend and shoes-explore."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from shoes_generator import latent
from shoes_generator.explore_cli import main
from shoes_generator.export import export_generator, noise_from_seeds
from shoes_generator.labels import Vocabularies
from shoes_generator.models.conditional import build_conditional_generator

VOCAB = Vocabularies({"color": ["black", "blue", "red"], "category": ["sandal", "sneaker"]})
LABELS = {"color": "red", "category": "sneaker"}


@pytest.fixture(scope="module")
def model_base(tmp_path_factory):
    """A model base holding a tiny untrained conditional generator as ``shoes/1``."""
    keras.utils.set_random_seed(0)
    generator = build_conditional_generator(VOCAB.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    base = tmp_path_factory.mktemp("latent_base")
    export_generator(generator, 8, VOCAB, ("color", "category"), base / "shoes" / "1")
    return base


@pytest.fixture(scope="module")
def local(model_base):
    return latent.LocalGenerator(model_base / "shoes" / "1")


def test_lerp_midpoint_and_slerp_endpoints_and_norms():
    rng = np.random.default_rng(0)
    z0, z1 = rng.normal(size=16), 2 * rng.normal(size=16)
    np.testing.assert_allclose(latent.lerp(z0, z1, 0.5), (z0 + z1) / 2, rtol=1e-6)
    path = latent.slerp(z0, z1, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], z0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(path[-1], z1, rtol=1e-5, atol=1e-6)
    expected_norms = np.linspace(np.linalg.norm(z0), np.linalg.norm(z1), 5)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), expected_norms, rtol=1e-5)
    parallel = latent.slerp(z0, 3 * z0, 0.5)  # near-parallel: falls back to lerp
    np.testing.assert_allclose(parallel, 2 * z0, rtol=1e-5)


def test_interpolation_grid_ends_at_the_seeds_noise(local):
    grid = latent.interpolation_grid(local, [1, 2, 3], steps=4, method="slerp", labels=LABELS)
    assert grid.shape == (2, 4, 16, 16, 3) and grid.dtype == np.uint8
    noise = noise_from_seeds(tf.constant([1, 2, 3], tf.int64), 8).numpy()
    ends = local.saved_model.signatures["from_latent"](
        z=tf.constant(noise), color=tf.constant(["red"] * 3), category=tf.constant(["sneaker"] * 3)
    )["images"].numpy()
    np.testing.assert_array_equal(grid[0, 0], ends[0])
    np.testing.assert_array_equal(grid[0, -1], ends[1])
    np.testing.assert_array_equal(grid[1, 0], ends[1])
    np.testing.assert_array_equal(grid[1, -1], ends[2])
    assert latent.animation_frames(grid).shape[0] == 7
    with pytest.raises(ValueError, match="Valid color values: black, blue, red"):
        latent.interpolation_grid(local, [1, 2], labels={"color": "green", "category": "sneaker"})
    with pytest.raises(ValueError, match="needs the label"):
        local.render(noise, {"color": "red"})


def test_save_gif_writes_every_frame_and_loops(tmp_path):
    frames = np.stack([np.full((8, 8, 3), 30 * i, np.uint8) for i in range(5)])
    path = latent.save_gif(frames, tmp_path / "walk.gif", fps=10)
    with Image.open(path) as gif:
        assert gif.n_frames == 5 and gif.info.get("loop") == 0 and gif.size == (128, 128)


def test_fit_direction_recovers_a_planted_direction():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(400, 16))
    w = rng.normal(size=16)
    values = z @ w + 3.0 + 0.1 * rng.normal(size=400)
    direction = latent.fit_direction(z, values)
    assert np.isclose(np.linalg.norm(direction), 1, atol=1e-5)
    assert direction @ w / np.linalg.norm(w) > 0.95
    with pytest.raises(ValueError, match="does not vary"):
        latent.fit_direction(z, np.ones(400))


def test_monotonic_share_and_rank_correlation():
    values = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.2, 0.2, 0.2], [0.1, 0.3, 0.2995]])
    assert latent.monotonic_share(values) == pytest.approx(0.75)  # the 0.0005 dip is within tolerance
    assert latent.mean_rank_correlation(values[:3]) == pytest.approx(0.0)  # +1, -1, constant 0
    assert latent.mean_rank_correlation(values[:1]) == pytest.approx(1.0)


def test_shoe_height_on_black_and_on_white_backgrounds():
    light_on_black = np.zeros((2, 20, 20, 3), np.uint8)
    light_on_black[0, 5:15, 4:16] = 230  # 10 rows
    dark_on_white = np.full((1, 20, 20, 3), 255, np.uint8)
    dark_on_white[0, 2:18, 6:12] = (120, 40, 30)  # 16 rows
    np.testing.assert_allclose(latent.shoe_height(light_on_black), [0.5, 0.0])
    np.testing.assert_allclose(latent.shoe_height(dark_on_white), [0.8])


def test_boot_probability_is_the_softmax_of_the_ankle_boot_logit():
    inputs = keras.Input((16, 16, 3))
    classifier = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(inputs))))
    images = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    logits = classifier.predict(images, verbose=0)
    expected = tf.nn.softmax(logits).numpy()[:, 2]  # CATEGORY_NAMES: sandal, sneaker, ankle_boot
    np.testing.assert_allclose(latent.boot_probability(images, classifier), expected, rtol=1e-5)
    assert set(latent.ATTRIBUTES) == {"height", "boot"}


def test_explore_direction_reports_the_fit_and_the_edit_grid(local):
    strengths = (-2.0, 0.0, 2.0)
    result = latent.explore_direction(local, "height", samples=64, seeds=3, strengths=strengths, labels=LABELS)
    assert result["images"].shape == (3, 3, 16, 16, 3)
    assert result["direction"].shape == (8,)
    assert result["attribute"] == "height"
    assert all(0 <= v <= 1 for row in result["values"] for v in row)
    assert np.asarray(result["values"]).shape == (3, 3) and result["strengths"] == list(strengths)
    json.dumps({k: v for k, v in result.items() if k not in ("images", "direction")})


def test_a_constant_attribute_finds_no_direction_and_says_so(local):
    # E.g. an untrained generator that draws no shoe: every height is the same.
    result = latent.explore_direction(local, lambda images: np.full(len(images), 0.5), samples=32, seeds=2, strengths=(-1.0, 1.0),
                                      labels=LABELS)
    assert not result["direction_found"] and np.linalg.norm(result["direction"]) == 0
    assert result["r2"] is None and result["monotonic_share"] is None and result["mean_rank_correlation"] is None


def _fake_attribute(images):
    """Mean brightness: cheap and always varying with z."""
    return images.reshape(len(images), -1).mean(axis=1) / 255


def test_explore_direction_with_a_custom_attribute_walks_monotonically(local):
    result = latent.explore_direction(local, _fake_attribute, samples=200, seeds=4, strengths=(-2, -1, 0, 1, 2), labels=LABELS)
    assert result["attribute"] == "_fake_attribute" and result["direction_found"]
    assert result["monotonic_share"] == latent.monotonic_share(result["values"]) == 1.0  # Every seed brightens along it.
    assert result["r2"] is not None
    assert result["mean_rank_correlation"] > 0  # the fitted direction brightens on average


def test_cli_direction_and_interpolate_write_their_files(model_base, tmp_path, capsys):
    model = str(model_base / "shoes" / "1")
    out = tmp_path / "direction"
    assert main(["direction", model, "--attribute", "height", "-n", "40", "--seeds", "2", "--steps", "3",
                 "--label", "color=blue", "--out", str(out)]) == 0
    report = json.loads((out / "direction.json").read_text())
    assert report["labels"] == {"color": "blue", "category": "sandal"} and report["defaulted_labels"] == ["category"]
    assert {"r2", "monotonic_share", "mean_rank_correlation", "strengths", "values"} <= set(report)
    assert (out / "edit_grid.png").is_file() and np.load(out / "direction.npy").shape == (8,)
    out = tmp_path / "walk"
    assert main(["interpolate", model, "--seeds", "4,5", "--steps", "3", "--method", "lerp", "--label", "color=red",
                 "--label", "category=sneaker", "--out", str(out)]) == 0
    assert (out / "interpolation.png").is_file() and (out / "interpolation.gif").is_file()
    capsys.readouterr()
    assert main(["interpolate", model, "--label", "size=9", "--out", str(out)]) == 2
    assert "shoes-explore: error: Unknown label(s) size" in capsys.readouterr().err
    assert main(["interpolate", str(tmp_path), "--out", str(out)]) == 2
    assert "neither a run directory" in capsys.readouterr().err


def test_served_generator_renders_like_the_local_one(model_base, local):
    from serving.server.model_store import entries_from_base
    from tests.serving.helpers import running_server

    z = np.random.default_rng(3).normal(size=(3, 8)).astype(np.float32)
    labels = {"color": ["red", "black", "blue"], "category": "sandal"}
    with running_server(entries_from_base(model_base)) as server:
        served = latent.ServedGenerator(f"127.0.0.1:{server.port}", "shoes")
        try:
            assert served.latent_dim == 8 and served.vocabularies == VOCAB.to_dict()
            np.testing.assert_array_equal(served.render(z, labels), local.render(z, labels))
        finally:
            served.close()


def test_image_size_renders_one_shoe(local):
    assert latent.image_size(local, LABELS) == 16
