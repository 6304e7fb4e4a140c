"""Frechet distance, the cached shoe classifier and the generator report."""

import json

import numpy as np
import pytest

from shoes_generator.evaluation.frechet import frechet_distance
from shoes_generator.evaluation.generator_eval import requested_labels


def test_frechet_distance_is_zero_for_one_set_and_grows_with_the_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    near, far = frechet_distance(a, a + 0.1), frechet_distance(a, a + 1.0)
    assert near == pytest.approx(6 * 0.01, rel=1e-3) and far == pytest.approx(6.0, rel=1e-3)
    assert frechet_distance(a, rng.normal(scale=2.0, size=(500, 6))) > 3.0


def test_frechet_distance_rejects_mismatched_features():
    with pytest.raises(ValueError, match="Received: shapes"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))


def test_requested_labels_cycle_through_every_combination():
    labels = requested_labels({"color": ["red", "blue"], "category": ["sandal", "sneaker", "boot"]}, 12)
    pairs = list(zip(labels["color"], labels["category"]))
    assert len(set(pairs[:6])) == 6 and pairs[6:] == pairs[:6]


def fmnist_available():
    from shoes_generator.data.fmnist import default_search_dirs

    return any((d / "t10k-images-idx3-ubyte.gz").is_file() for d in default_search_dirs())


@pytest.mark.slow
@pytest.mark.fmnist
@pytest.mark.skipif(not fmnist_available(), reason="Fashion-MNIST files not found")
def test_shoes_eval_reports_accuracies_and_the_floor(tmp_path, capsys):
    from shoes_generator.configs import get_preset
    from shoes_generator.evaluation.classifier import load_or_train_classifier
    from shoes_generator.trainer import train
    from training.evaluate import main as shoes_eval

    classifier, info = load_or_train_classifier(16, tmp_path / "cache", epochs=4, limit=600)
    assert info["test_accuracy"] > 0.6  # Three classes: well above chance after a short training.
    run = train(get_preset("cgan_fmnist_color_tiny"), out=tmp_path / "runs", verbose=0).run_dir
    assert shoes_eval([str(run), "-n", "66", "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["samples"] == 66 and report["image_size"] == 16
    assert 0.0 <= report["type_accuracy"] <= 1.0 and 0.0 <= report["color_accuracy"] <= 1.0
    assert set(report["color_accuracy_per_color"]) == {"black", "blue", "brown", "green", "grey", "orange", "pink", "purple", "red", "white", "yellow"}
    # An untrained generator is far from real shoes; real train vs test shoes are close.
    assert report["frechet_distance"] > 5 * report["frechet_floor_real_vs_real"]
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["kind"] == "eval" and last["frechet_distance"] == report["frechet_distance"]


def test_shoes_eval_names_a_bad_model_argument(tmp_path, capsys):
    from training.evaluate import main as shoes_eval

    assert shoes_eval([str(tmp_path)]) == 2
    assert "Received" in capsys.readouterr().err
