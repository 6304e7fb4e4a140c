"""The second, independently trained shoe classifier (kind "crosscheck") and the two-judge report."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from shoes_generator.data.names import CATEGORY_NAMES
from shoes_generator.evaluation.classifier import (
    build_crosscheck_classifier,
    build_shoe_classifier,
    classifier_path,
    predict_types,
    random_tints,
)
from tests.evaluation.test_evaluation import needs_fmnist


def load_benchmark(name: str = "type_crosscheck"):
    """``benchmarks/<name>.py`` as a module (the benchmarks are scripts, not a package)."""
    path = Path(__file__).parents[2] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_random_tints_leave_the_background_white_and_vary_the_colour():
    gray = np.zeros((64, 8, 8, 3), np.uint8)
    gray[:, 2:6, 2:6] = 200
    tinted = random_tints(gray, seed=3)
    assert tinted.dtype == np.uint8 and tinted.shape == gray.shape
    assert np.all(tinted[:, 0, 0] == 255)  # No shoe: white.
    colours = tinted[:, 4, 4].astype(int)
    assert colours.std(axis=0).min() > 30  # Random RGB colours, not one tint.
    assert np.array_equal(random_tints(gray, seed=3), tinted) and not np.array_equal(random_tints(gray, seed=4), tinted)


def test_predict_types_names_each_image_by_its_largest_logit():
    class Logits:
        def predict(self, images, batch_size, verbose):
            return np.eye(3)[[2, 0, 1, 2]] * 5.0

    called = predict_types(Logits(), np.zeros((4, 8, 8, 3), np.uint8))
    assert list(called) == [CATEGORY_NAMES[2], CATEGORY_NAMES[0], CATEGORY_NAMES[1], CATEGORY_NAMES[2]]


def test_the_two_judges_differ_in_architecture_and_cache_file(tmp_path):
    first, second = build_shoe_classifier(16), build_crosscheck_classifier(16)
    assert {layer.__class__.__name__ for layer in second.layers} - {layer.__class__.__name__ for layer in first.layers} >= {
        "BatchNormalization", "GlobalMaxPooling2D", "RandomTranslation"}
    assert second.get_layer("features").output.shape[-1] == 64 and second.output.shape[-1] == 3
    assert classifier_path(16, tmp_path) != classifier_path(16, tmp_path, "crosscheck")
    with pytest.raises(ValueError, match="Unknown classifier kind 'other'"):
        classifier_path(16, tmp_path, "other")


def test_type_report_counts_each_judge_per_type_and_their_agreement():
    bench = load_benchmark()
    asked = np.array(["sandal", "sandal", "sneaker", "ankle_boot"])
    called = {"project": np.array(["sandal", "sneaker", "sneaker", "ankle_boot"]),
              "crosscheck": np.array(["sandal", "sandal", "sandal", "ankle_boot"])}
    report = bench.type_report(asked, called)
    assert report["project"]["accuracy"] == 0.75 and report["crosscheck"]["accuracy"] == 0.75
    assert report["project"]["per_type"] == {"sandal": 0.5, "sneaker": 1.0, "ankle_boot": 1.0}
    assert report["crosscheck"]["confusion"]["sneaker"] == {"sandal": 1, "sneaker": 0, "ankle_boot": 0}
    assert report["judges_agree"] == 0.5
    assert set(report["project"]["per_type"]) == set(CATEGORY_NAMES)


@pytest.mark.fmnist
@needs_fmnist
def test_the_crosscheck_judge_trains_on_grey_and_tinted_shoes_and_is_cached(tmp_path):
    from shoes_generator.evaluation.classifier import crosscheck_shoes, load_or_train_classifier

    images, categories = crosscheck_shoes("test", 16, limit=50)
    assert images.shape == (150, 16, 16, 3) and len(categories) == 150
    assert images[:50, 0, 0].max() == 0 and images[50:, 0, 0].min() == 255  # Light on black, then dark/tinted on white.
    model, info = load_or_train_classifier(16, tmp_path, epochs=4, limit=400, kind="crosscheck")
    assert info["kind"] == "crosscheck" and info["test_accuracy"] > 0.6  # Three classes: chance is 0.33.
    assert classifier_path(16, tmp_path, "crosscheck").is_file() and not classifier_path(16, tmp_path).exists()
    again, _ = load_or_train_classifier(16, tmp_path, kind="crosscheck")
    assert np.allclose(again.predict(images[:8], verbose=0), model.predict(images[:8], verbose=0), atol=1e-5)
