"""The pattern-transfer export of a tiny trained run: a print (PNG or JPEG, any size) + a type + a seed, or + a sketch."""

import dataclasses
import io
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from shoes_generator.configs import get_preset
from shoes_generator.export.generator import label_vocabularies, noise_from_seeds
from shoes_generator.export.inputs import fit_encoded
from shoes_generator.families import get_family
from shoes_generator.publish import restore_run
from tests.test_export import assert_servable_by_stock_tf_serving


def encoded(array, format_="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buffer, format_)
    return buffer.getvalue()


def leopard_bag(height=40, width=30) -> np.ndarray:
    """Dark spots on tan inside a bag-like rectangle, on white; not square (the export fits it)."""
    image = np.full((height, width, 3), 255, np.uint8)
    body = np.full((height // 2, width - 8, 3), (196, 150, 90), np.uint8)
    body[::4, ::4] = (40, 25, 10)
    image[height // 3 : height // 3 + height // 2, 4:-4] = body
    return image


def sketch(size=16) -> np.ndarray:
    lines = np.full((size, size, 3), 255, np.uint8)
    lines[size // 2, 2:-2] = lines[-3, 2:-2] = 0
    lines[size // 2 : -3, 2] = lines[size // 2 : -3, -3] = 0
    return lines


@pytest.fixture(scope="module")
def run(pattern_run):
    path = pattern_run / "saved_model"
    return pattern_run, tf.saved_model.load(str(path)), path


def call(model, signature, **inputs):
    return model.signatures[signature](**{name: tf.constant(value) for name, value in inputs.items()})


def test_the_run_exports_the_contract_signatures_with_only_stock_ops(run):
    run_dir, model, path = run
    assert set(model.signatures) == {"serving_default", "with_sketch", "labels"}
    inputs = lambda name: set(model.signatures[name].structured_input_signature[1])  # noqa: E731
    assert inputs("serving_default") == {"pattern_bytes", "category", "seed"}
    assert inputs("with_sketch") == {"pattern_bytes", "image_bytes"}
    assert label_vocabularies(model) == {"category": ["sandal", "sneaker", "ankle_boot"]}
    assert_servable_by_stock_tf_serving(path)
    assert (run_dir / "samples" / "latest.png").exists()


def test_a_print_and_a_type_give_the_in_process_models_shoe_the_same_in_any_batch(run):
    run_dir, model, _ = run
    png, jpeg = encoded(leopard_bag()), encoded(leopard_bag(), "JPEG")
    out = call(model, "serving_default", pattern_bytes=np.asarray([png, png, jpeg], object),
               category=np.asarray(["ankle_boot", "sneaker", "ankle_boot"], object), seed=np.array([3, 3, 3], np.int64))["images"].numpy()
    alone = call(model, "serving_default", pattern_bytes=np.asarray([png], object), category=np.asarray(["ankle_boot"], object),
                 seed=np.array([3], np.int64))["images"].numpy()
    np.testing.assert_array_equal(out[0], alone[0])
    assert not np.array_equal(out[0], out[1])  # Another type.
    assert out[2].shape == (16, 16, 3)  # A JPEG exemplar works too.
    _, _, gan = restore_run(run_dir)
    pattern = fit_encoded(tf.constant(png), 16)[None]  # As the export fits it: aspect kept, white padding.
    expected = gan.draw(pattern, noise_from_seeds(tf.constant([3], tf.int64), gan.z_dim), tf.constant([2])).numpy()
    np.testing.assert_allclose(out[0] / 127.5 - 1.0, expected[0], atol=1.5 / 127.5)


def test_with_sketch_follows_the_sketch_and_the_print(run):
    _, model, _ = run
    bag = encoded(leopard_bag())
    other = encoded(np.full((20, 20, 3), (30, 60, 200), np.uint8))
    lines, moved = sketch(), np.roll(sketch(), 3, axis=0)
    out = call(model, "with_sketch", pattern_bytes=np.asarray([bag, bag, other], object),
               image_bytes=np.asarray([encoded(lines), encoded(moved), encoded(lines)], object))["images"].numpy()
    assert not np.array_equal(out[0], out[1]) and not np.array_equal(out[0], out[2])


def test_an_unknown_type_is_invalid_argument_naming_the_valid_ones(run):
    _, model, _ = run
    with pytest.raises(tf.errors.InvalidArgumentError, match="Valid category labels: sandal, sneaker, ankle_boot"):
        call(model, "serving_default", pattern_bytes=np.asarray([encoded(leopard_bag())], object),
             category=np.asarray(["loafer"], object), seed=np.array([0], np.int64))


@pytest.mark.parametrize(
    "section, setting, message",
    [
        ("data", {"labels": ()}, "data.labels"),
        ("model", {"style_dim": 0}, "style_dim"),
        ("model", {"sketch_probability": 2.0}, "sketch_probability"),
        ("model", {"print_mapping": "painted"}, "print_mapping must be one of"),
        ("model", {"print_mapping": "learned"}, "'shading' needs model.print_mapping='tiled'"),
        ("data", {"source": "patterns"}, "Received: judge='shading', print_mapping='tiled', source='patterns'"),
        ("train", {"loss": "wgan_gp"}, "gradient penalty"),
    ],
)
def test_settings_that_cannot_work_are_refused(section, setting, message):
    config = get_preset("pattern_fmnist")
    bad = dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **setting)})
    with pytest.raises(ValueError, match=message):
        get_family("pattern").validate(bad)


def test_the_folder_preset_trains_on_a_shoes_data_patterns_folder(tmp_path):
    from shoes_generator.configs import override
    from shoes_generator.families.pattern import read_pattern_folder
    from shoes_generator.trainer import train
    from tests.harness import fake_patterns

    folder = fake_patterns(tmp_path / "patterns", count=8, size=20)
    arrays = read_pattern_folder(folder, 16)
    assert arrays["exemplar"].shape == arrays["print"].shape == (8, 16, 16, 3) and set(arrays["category"]) <= {"sandal", "sneaker", "ankle_boot"}
    config = override(get_preset("pattern_folder256_tiny"), [f"data.path={folder}", "train.precision=float32"])
    run_dir = train(config, out=tmp_path / "runs", verbose=0).run_dir
    assert (run_dir / "saved_model" / "saved_model.pb").is_file()
    shutil.rmtree(folder / "print")  # A catalogue's own pairs have no print/: read without it.
    assert "print" not in read_pattern_folder(folder, 16)
    (folder / "shoe" / "00003.png").unlink()
    with pytest.raises(FileNotFoundError, match="00003.png"):
        read_pattern_folder(folder, 16)
