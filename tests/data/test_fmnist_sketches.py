"""The ``fmnist_sketches`` source: training sketches in random training styles only, seeded per example, cached; the test
split is the project's own sketches; and its preset trains."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from shoes_generator.configs import DataConfig, get_preset
from shoes_generator.data import fmnist_sketches
from shoes_generator.data.fmnist_edges import framed_shoe_arrays, sketch_arrays
from shoes_generator.data.fmnist_sketches import SHIFT, ZOOM, fit_sketches, reframe, styled_sketch_arrays, training_styles
from shoes_generator.data.pipeline import to_uint8
from shoes_generator.data.training_data import training_data
from shoes_generator.export.inputs import fit_pixels
from shoes_generator.imaging import sketch_styles
from tests.data.test_training_data import real_fmnist_dirs


@pytest.fixture
def no_held_out_drawing(monkeypatch):
    """Makes drawing any held-out style fail, so a test proves training never draws one."""

    def refuse(shoe, rng):
        raise AssertionError("a held-out style was drawn for training")

    monkeypatch.setattr(sketch_styles, "STYLES", {**sketch_styles.TRAIN_STYLES, **{name: refuse for name in sketch_styles.HELD_OUT_STYLES}})


@pytest.mark.fmnist
@pytest.mark.skipif(not real_fmnist_dirs(), reason="the real Fashion-MNIST files are not installed")
def test_training_sketches_come_in_training_styles_only_and_are_seeded_per_example(tmp_path, no_held_out_drawing):
    shoes, sketches, categories, styles = styled_sketch_arrays("train", limit=24, variants=2, seed=0, cache_dir=tmp_path)
    assert shoes.shape == sketches.shape == (48, 32, 32) and sketches.dtype == np.uint8 and len(categories) == len(styles) == 48
    assert set(styles) <= set(sketch_styles.TRAIN_STYLES) and len(set(styles)) >= 4
    assert np.array_equal(categories[:24], categories[24:])  # variant-major: every shoe once, then every shoe again
    assert not np.array_equal(sketches[:24], sketches[24:])  # in new sketches
    framed = framed_shoe_arrays("train", 24)[0]
    kept = [np.array_equal(shoes[k], framed[k % 24]) for k in range(48)]
    assert 10 < sum(kept) < 38  # about half the pairs reframed
    for shoe, sketch in zip(shoes, sketches):  # sketch and target aligned, reframed or not
        near = ndimage.distance_transform_edt(shoe < 20) <= 2.5  # within 2.5 px of any part of the shoe
        assert (sketch < 160)[near].sum() >= 0.9 * (sketch < 160).sum()
    again = styled_sketch_arrays("train", limit=24, variants=2, seed=0, cache_dir=tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(again, (shoes, sketches, categories, styles)))
    other_seed = styled_sketch_arrays("train", limit=24, variants=2, seed=1, cache_dir=tmp_path)[1]
    assert not np.array_equal(other_seed, sketches)
    assert not list(tmp_path.iterdir())  # limited sets are not cached


def test_reframing_zooms_and_moves_the_shoe_within_its_ranges():
    shoe = np.zeros((32, 32), np.uint8)
    shoe[6:26, 4:28] = 200
    for seed in range(20):
        moved = reframe(shoe, np.random.default_rng(seed))
        area = (moved > 100).sum() / (shoe > 100).sum()
        assert ZOOM[0] ** 2 - 0.15 < area < ZOOM[1] ** 2 + 0.15
        rows, cols = np.nonzero(moved > 100)
        assert abs(rows.mean() - 15.5) <= SHIFT + 0.6 and abs(cols.mean() - 15.5) <= SHIFT + 0.6
    assert np.array_equal(reframe(shoe, np.random.default_rng(3)), reframe(shoe, np.random.default_rng(3)))


def test_training_refuses_styles_that_are_held_out(monkeypatch):
    assert set(training_styles()) == set(sketch_styles.TRAIN_STYLES)
    monkeypatch.setattr(fmnist_sketches, "TRAIN_STYLES", {**sketch_styles.TRAIN_STYLES, "mouse": sketch_styles.mouse_style})
    with pytest.raises(RuntimeError, match=r"never be trained on.*\['mouse'\]"):
        training_styles()


def test_sketches_of_larger_canvases_are_fitted_as_serving_fits_them():
    line = np.full((64, 64), 255, np.uint8)
    line[30:32, 8:56] = 0  # 2 px wide at 64 px
    small = np.full((32, 32), 255, np.uint8)
    fitted = fit_sketches([line, small])
    assert fitted.shape == (2, 32, 32) and np.array_equal(fitted[1], small)
    assert fitted[0][15, 6:26].max() < 100 and (fitted[0][:12] == 255).all()  # 1 px dark at 32 px, paper elsewhere
    served = to_uint8(fit_pixels(tf.constant(np.repeat(line[..., None], 3, -1)), 32)).numpy()[..., 0]
    assert np.abs(served.astype(int) - fitted[0]).max() <= 1  # what the served model's input fitting makes of it


@pytest.mark.fmnist
@pytest.mark.skipif(not real_fmnist_dirs(), reason="the real Fashion-MNIST files are not installed")
def test_the_source_trains_on_styled_sketches_and_tests_on_the_projects_own(tmp_path):
    config = DataConfig(source="fmnist_sketches", image_size=16, limit=8)
    train = training_data(config, batch_size=4, seed=0)
    assert train.num_examples == 8 and train.image_keys == ("input", "target")
    batch = next(train.stream(0).as_numpy_iterator())
    assert batch["input"].shape == batch["target"].shape == (4, 16, 16, 3)
    test = training_data(config, batch_size=4, seed=0, split="test")
    edges = training_data(DataConfig(source="fmnist_edges", image_size=16, limit=8), batch_size=4, seed=0, split="test")
    for a, b in zip(test.elements.as_numpy_iterator(), edges.elements.as_numpy_iterator(), strict=True):
        np.testing.assert_array_equal(a["input"], b["input"])
    assert sketch_arrays("test", limit=8)[1].shape == (8, 32, 32)


def test_the_preset_is_the_edges_preset_on_many_styles():
    sketches, edges = get_preset("pix2pix_fmnist_sketches"), get_preset("pix2pix_fmnist_edges")
    assert sketches.data.source == "fmnist_sketches" and sketches.model == edges.model
    assert (sketches.train.epochs, sketches.train.decay_epochs) == (30, 12)
    assert dataclasses.replace(sketches.train, epochs=edges.train.epochs, decay_epochs=edges.train.decay_epochs) == edges.train
    tiny = get_preset("pix2pix_fmnist_sketches_tiny")
    assert (tiny.data.source, tiny.data.image_size) == ("fmnist_sketches", 16)
