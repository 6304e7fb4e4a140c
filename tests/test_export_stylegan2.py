"""The StyleGAN2 export of a tiny trained run: seeds and labels, truncation, the w space, mixing and inversion."""

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.export import label_vocabularies, sample
from shoes_generator.export.stylegan2 import is_stylegan2
from tests.test_export import assert_servable_by_stock_tf_serving

RED_SANDALS = {"color": ["red", "red"], "category": ["sandal", "sandal"]}


@pytest.fixture(scope="module")
def run(stylegan2_run):
    path = stylegan2_run / "saved_model"
    return stylegan2_run, tf.saved_model.load(str(path)), path


def call(model, signature, **inputs):
    return model.signatures[signature](**{name: tf.constant(value) for name, value in inputs.items()})


def test_the_run_exports_every_signature_with_named_inputs_and_only_stock_ops(run):
    run_dir, model, path = run
    assert set(model.signatures) == {"serving_default", "truncated", "mapping", "synthesis", "mix", "invert", "labels"}
    assert is_stylegan2(model)
    inputs = lambda name: set(model.signatures[name].structured_input_signature[1])  # noqa: E731
    assert inputs("serving_default") == {"seed", "color", "category"}
    assert inputs("mapping") == {"seed", "color", "category", "truncation"}
    assert inputs("mix") == {"seed", "color", "category", "style_seed", "style_color", "style_category", "crossover", "truncation"}
    assert inputs("synthesis") == {"w"} and inputs("invert") == {"image_bytes"}
    assert set(label_vocabularies(model)) == {"color", "category"}
    assert_servable_by_stock_tf_serving(path)
    assert (run_dir / "ada.png").stat().st_size > 0 and (run_dir / "samples" / "latest.png").exists()


def test_same_seed_and_labels_give_the_same_shoe_in_any_batch_and_truncation_one_is_off(run):
    _, model, _ = run
    batch = sample(model, [5, 6, 7], {"color": ["red", "blue", "red"], "category": ["sandal"] * 3})
    alone = sample(model, [7], {"color": ["red"], "category": ["sandal"]})
    np.testing.assert_array_equal(batch["images"][2], alone["images"][0])
    assert not np.array_equal(batch["images"][0], batch["images"][1])
    off = call(model, "truncated", seed=np.array([5, 6], np.int64), truncation=np.ones(2, np.float32), **RED_SANDALS)
    plain = sample(model, [5, 6], RED_SANDALS)
    np.testing.assert_array_equal(off["images"].numpy(), plain["images"].numpy())


def test_truncation_zero_is_the_labels_average_shoe_and_mapping_then_synthesis_is_the_shoe(run):
    _, model, _ = run
    seeds = np.array([1, 2], np.int64)
    centre = call(model, "truncated", seed=seeds, truncation=np.zeros(2, np.float32), **RED_SANDALS)["images"].numpy()
    np.testing.assert_array_equal(centre[0], centre[1])
    w = call(model, "mapping", seed=seeds, truncation=np.full(2, 0.7, np.float32), **RED_SANDALS)["w"]
    assert w.dtype == tf.float32 and w.shape[1] == 6  # 16 px: 2 * log2(16) - 2 layers.
    again = call(model, "synthesis", w=w.numpy())["images"].numpy()
    truncated = call(model, "truncated", seed=seeds, truncation=np.full(2, 0.7, np.float32), **RED_SANDALS)["images"].numpy()
    np.testing.assert_array_equal(again, truncated)


def test_mix_takes_the_shape_of_one_shoe_and_the_rest_of_the_other(run):
    _, model, _ = run
    first = sample(model, [3], {"color": ["red"], "category": ["ankle_boot"]})["images"].numpy()
    second = sample(model, [9], {"color": ["blue"], "category": ["sneaker"]})["images"].numpy()

    def mix(layer):
        return call(model, "mix", seed=np.array([3], np.int64), color=["red"], category=["ankle_boot"],
                    style_seed=np.array([9], np.int64), style_color=["blue"], style_category=["sneaker"],
                    crossover=np.array([layer], np.int64), truncation=np.ones(1, np.float32))["images"].numpy()

    np.testing.assert_array_equal(mix(6), first)  # Nothing from the style shoe.
    np.testing.assert_array_equal(mix(0), second)  # Everything from it.
    middle = mix(3)
    assert not np.array_equal(middle, first) and not np.array_equal(middle, second)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"crossover must lie in \[0, 6\]"):
        mix(7)


def test_invert_reconstructs_a_photo_closer_than_the_average_shoe_and_its_w_redraws_the_reconstruction(run):
    _, model, _ = run
    shoe = sample(model, [4], {"color": ["red"], "category": ["sneaker"]})
    inverted = call(model, "invert", image_bytes=shoe["image_bytes"].numpy())
    assert inverted["w"].shape == (1, 6, 16) and inverted["images"].shape == (1, 16, 16, 3)
    redrawn = call(model, "synthesis", w=inverted["w"].numpy())["images"].numpy()
    np.testing.assert_array_equal(redrawn, inverted["images"].numpy())
    target = shoe["images"].numpy().astype(float)
    centres = call(model, "truncated", seed=np.zeros(1, np.int64), truncation=np.zeros(1, np.float32),
                   color=["red"], category=["sneaker"])["images"].numpy()
    assert np.abs(inverted["images"].numpy() - target).mean() <= np.abs(centres - target).mean()


def test_unknown_labels_and_non_finite_truncation_are_invalid_arguments(run):
    _, model, _ = run
    with pytest.raises(tf.errors.InvalidArgumentError, match="Valid color labels"):
        sample(model, [1], {"color": ["teal"], "category": ["sandal"]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="truncation must be a finite number"):
        call(model, "truncated", seed=np.array([1], np.int64), truncation=np.array([np.nan], np.float32),
             color=["red"], category=["sandal"])
