"""The SPADE export of a tiny trained run: part maps of any size in, shoes out; style images; bad maps refused."""

import dataclasses
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from shoes_generator.configs import get_preset
from shoes_generator.export.generator import noise_from_seeds
from shoes_generator.families import get_family
from shoes_generator.imaging.parts import PART_CLASSES
from shoes_generator.publish import restore_run
from tests.test_export import assert_servable_by_stock_tf_serving


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def boot_map(size=16) -> np.ndarray:
    """A drawn boot's parts: sole along the bottom, heel at the back, upper, shaft above it."""
    parts = np.zeros((size, size), np.uint8)
    q = size // 4
    parts[3 * q : 3 * q + 2, 2 : size - 2] = 1
    parts[3 * q - 2 : 3 * q, size - 5 : size - 2] = 2
    parts[2 * q : 3 * q, 2 : size - 2] = 3
    parts[q : 2 * q, size - 7 : size - 2] = 4
    return parts


@pytest.fixture(scope="module")
def run(spade_run):
    path = spade_run / "saved_model"
    return spade_run, tf.saved_model.load(str(path)), path


def call(model, signature, **inputs):
    return model.signatures[signature](**{name: tf.constant(value) for name, value in inputs.items()})


def test_the_run_exports_the_contract_signatures_with_only_stock_ops(run):
    run_dir, model, path = run
    assert set(model.signatures) == {"serving_default", "with_style", "class_names"}
    inputs = lambda name: set(model.signatures[name].structured_input_signature[1])  # noqa: E731
    assert inputs("serving_default") == {"label_map_bytes", "seed"}
    assert inputs("with_style") == {"label_map_bytes", "seed", "style_bytes"}
    assert set(model.signatures["serving_default"].structured_outputs) == {"images", "image_bytes"}
    names = call(model, "class_names", class_id=np.arange(len(PART_CLASSES), dtype=np.int64))
    assert [name.decode() for name in names["name"].numpy()] == list(PART_CLASSES)
    assert names["num_classes"].numpy().tolist() == [len(PART_CLASSES)] * len(PART_CLASSES)
    assert_servable_by_stock_tf_serving(path)
    assert (run_dir / "samples" / "latest.png").exists()


def test_a_map_gives_the_in_process_models_shoe_the_same_in_any_batch_and_seeds_differ(run):
    run_dir, model, _ = run
    maps = np.asarray([png(boot_map())] * 3, object)
    out = call(model, "serving_default", label_map_bytes=maps, seed=np.array([4, 5, 4], np.int64))["images"].numpy()
    alone = call(model, "serving_default", label_map_bytes=maps[:1], seed=np.array([5], np.int64))["images"].numpy()
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_array_equal(out[1], alone[0])
    assert not np.array_equal(out[0], out[1])
    _, _, gan = restore_run(run_dir)
    z = noise_from_seeds(tf.constant([4], tf.int64), gan.z_dim)
    expected = gan.synthesize(gan.one_hot(boot_map()[None]), z).numpy()
    np.testing.assert_allclose(out[0] / 127.5 - 1.0, expected[0], atol=1.5 / 127.5)


def test_a_map_of_another_size_is_fitted_by_nearest_neighbours_and_padded_as_background(run):
    _, model, _ = run
    seed = np.array([3], np.int64)
    small = call(model, "serving_default", label_map_bytes=np.asarray([png(boot_map())], object), seed=seed)["images"].numpy()
    doubled = np.kron(boot_map(), np.ones((2, 2), np.uint8))  # Every class pixel as a 2x2 block: nearest halving restores it.
    large = call(model, "serving_default", label_map_bytes=np.asarray([png(doubled)], object), seed=seed)["images"].numpy()
    np.testing.assert_array_equal(small, large)
    wide = np.full((16, 32), 3, np.uint8)  # Fitted to 8 x 16, then padded: the top and bottom quarters are background.
    padded = np.zeros((16, 16), np.uint8)
    padded[4:12] = 3
    fitted, drawn = (
        call(model, "serving_default", label_map_bytes=np.asarray([png(m)], object), seed=seed)["images"].numpy() for m in (wide, padded)
    )
    np.testing.assert_array_equal(fitted, drawn)


def test_with_style_takes_the_look_of_the_style_image(run):
    run_dir, model, _ = run
    maps, seed = np.asarray([png(boot_map())] * 2, object), np.array([1, 1], np.int64)
    red, blue = (png(np.full((20, 12, 3), colour, np.uint8)) for colour in ((220, 20, 20), (20, 20, 220)))
    styled = call(model, "with_style", label_map_bytes=maps, seed=seed, style_bytes=np.asarray([red, blue], object))["images"].numpy()
    assert not np.array_equal(styled[0], styled[1])
    # The served shoe is the in-process one of z = mu + exp(logvar / 2) * eps(seed) of the style image's encoding.
    style = np.zeros((16, 16, 3), np.uint8)
    style[4:12, 2:14] = (200, 40, 40)
    out = call(model, "with_style", label_map_bytes=maps[:1], seed=seed[:1], style_bytes=np.asarray([png(style)], object))
    _, _, gan = restore_run(run_dir)
    z, _, _ = gan.style(style[None] / 127.5 - 1.0, noise_from_seeds(tf.constant(seed[:1]), gan.z_dim))
    expected = gan.synthesize(gan.one_hot(boot_map()[None]), z).numpy()
    np.testing.assert_allclose(out["images"].numpy()[0] / 127.5 - 1.0, expected[0], atol=1.5 / 127.5)
    seed_only = call(model, "serving_default", label_map_bytes=maps[:1], seed=seed[:1])["images"].numpy()
    assert not np.array_equal(out["images"].numpy(), seed_only)  # The style image, not the seed's z alone, chose the look.
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(jpeg, "JPEG")
    out = call(model, "with_style", label_map_bytes=maps[:1], seed=seed[:1], style_bytes=np.asarray([jpeg.getvalue()], object))
    assert out["images"].shape == (1, 16, 16, 3)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.full((16, 16), len(PART_CLASSES), np.uint8), r"class index outside \[0, 6\).*Received: largest index\] \[6\]"),
        (np.zeros((16, 16, 3), np.uint8), r"single-channel.*Received: a PNG of channels\] \[3\]"),
        (np.zeros((16, 16, 2), np.uint8), r"single-channel.*Received: a PNG of channels\] \[2\]"),  # Grey + alpha.
    ],
)
def test_bad_maps_are_invalid_argument_with_what_was_wrong(run, bad, message):
    _, model, _ = run
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        call(model, "serving_default", label_map_bytes=np.asarray([png(bad)], object), seed=np.array([0], np.int64))


@pytest.mark.parametrize(
    "section, setting, message",
    [
        ("data", {"labels": ("color",)}, "data.labels"),
        ("data", {"classes": ("background",)}, "two or more"),
        ("model", {"d_layers": 1}, "d_layers"),
        ("model", {"kld_weight": -1.0}, "kld_weight"),
        ("train", {"loss": "non_saturating"}, "hinge loss.*Received: train.loss='non_saturating'"),
        ("train", {"d_steps": 2}, "train.d_steps=2"),
    ],
)
def test_settings_that_cannot_work_are_refused(section, setting, message):
    config = get_preset("spade_fmnist_parts")
    get_family("spade").validate(config)  # The preset itself passes (its train.loss is the hinge it trains with).
    bad = dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **setting)})
    with pytest.raises(ValueError, match=message):
        get_family("spade").validate(bad)
