"""Frechet distance, the cached shoe classifier and the generator report."""

import json
import warnings
from collections import Counter

import numpy as np
import pytest

from shoes_generator.data.fmnist import CATEGORY_NAMES
from shoes_generator.evaluation.frechet import frechet_distance
from shoes_generator.evaluation.generator_eval import requested_labels
from shoes_generator.evaluation.streaming import label_accuracy
from shoes_generator.imaging.colors import COLOR_NAMES

ZAPPOS_CATEGORIES = ["Boots", "Sandals", "Shoes", "Slippers"]


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


def test_frechet_distance_of_singular_covariances_is_finite_and_silent():
    a = np.random.default_rng(1).normal(size=(6, 32))  # N < D: rank-deficient covariances.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # No SciPy deprecation (disp=) nor LinAlgWarning.
        same, other = frechet_distance(a, a), frechet_distance(a, a[::-1] * 2.0)
    assert same == pytest.approx(0.0, abs=1e-4) and np.isfinite(other) and other > 1.0


def test_requested_labels_cycle_through_every_combination():
    labels = requested_labels({"color": ["red", "blue"], "category": ["sandal", "sneaker", "boot"]}, 12)
    pairs = list(zip(labels["color"], labels["category"]))
    assert len(set(pairs[:6])) == 6 and pairs[6:] == pairs[:6]


def test_label_accuracy_scores_known_labels_overall_and_per_label():
    asked = np.array(["sandal", "sneaker", "ankle_boot"] * 4)
    found = asked.copy()
    found[[0, 3, 1]] = "ankle_boot"  # Two sandals and one sneaker read wrong.
    report = label_accuracy("type_accuracy", asked, found, ["sandal", "sneaker", "ankle_boot"], CATEGORY_NAMES, "per_type")
    assert report == {
        "type_accuracy": round(9 / 12, 4),
        "per_type": {"ankle_boot": 1.0, "sandal": 0.5, "sneaker": 0.75},
    }
    subset = label_accuracy("type_accuracy", asked[1::3], found[1::3], ["sneaker"], CATEGORY_NAMES)
    assert subset == {"type_accuracy": 0.75}  # A vocabulary that is a strict subset of the judge's is scored.


def test_label_accuracy_is_omitted_with_a_note_for_labels_the_judge_does_not_know():
    asked = np.array(ZAPPOS_CATEGORIES * 2)
    report = label_accuracy("type_accuracy", asked, np.full(8, "sneaker"), ZAPPOS_CATEGORIES, CATEGORY_NAMES, "per_type")
    assert set(report) == {"type_accuracy_note"}
    assert "Boots" in report["type_accuracy_note"] and "ankle_boot" in report["type_accuracy_note"]
    mixed = label_accuracy("color_accuracy", asked[:2], asked[:2], ["red", "teal"], COLOR_NAMES)
    assert set(mixed) == {"color_accuracy_note"} and "['teal']" in mixed["color_accuracy_note"]


def test_label_accuracy_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match=r"Received: shapes \(3,\) and \(2,\)"):
        label_accuracy("type_accuracy", np.array(["sandal"] * 3), np.array(["sandal"] * 2), ["sandal"], CATEGORY_NAMES)


def fmnist_available():
    from shoes_generator.data.fmnist import default_search_dirs

    return any((d / "t10k-images-idx3-ubyte.gz").is_file() for d in default_search_dirs())


needs_fmnist = pytest.mark.skipif(not fmnist_available(), reason="Fashion-MNIST files not found")


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory):
    """A cache folder holding a briefly trained 16 px shoe classifier."""
    from shoes_generator.evaluation.classifier import load_or_train_classifier

    cache = tmp_path_factory.mktemp("cache")
    _, info = load_or_train_classifier(16, cache, epochs=4, limit=600)
    assert info["test_accuracy"] > 0.6  # Three classes: well above chance after a short training.
    return cache


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_shoes_eval_reports_accuracies_and_the_floor(tmp_path, classifier_cache, capsys):
    import tensorflow as tf

    from shoes_generator.configs import get_preset
    from shoes_generator.evaluation.classifier import feature_extractor, load_or_train_classifier
    from shoes_generator.evaluation.generator_eval import generate
    from shoes_generator.imaging.colors import classify_batch
    from shoes_generator.trainer import train
    from training.evaluate import main as shoes_eval

    run = train(get_preset("cgan_fmnist_color_tiny"), out=tmp_path / "runs", verbose=0).run_dir
    assert shoes_eval([str(run), "-n", "66", "--cache", str(classifier_cache), "--out", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["samples"] == 66 and report["image_size"] == 16
    # The accuracies are recomputed from the same samples (generation is deterministic per seed).
    images, labels = generate(tf.saved_model.load(str(run / "saved_model")), 66, seed=0)
    found_colors = np.asarray(COLOR_NAMES)[classify_batch(images)[0]]
    assert report["color_accuracy"] == round(float(np.mean(found_colors == labels["color"])), 4)
    classifier, _ = load_or_train_classifier(16, classifier_cache)
    logits = feature_extractor(classifier).predict(images, batch_size=256, verbose=0)[1]
    assert report["type_accuracy"] == round(float(np.mean(np.asarray(CATEGORY_NAMES)[logits.argmax(1)] == labels["category"])), 4)
    per_color, counts = report["color_accuracy_per_color"], Counter(labels["color"])
    assert set(per_color) == set(COLOR_NAMES) and sum(counts.values()) == 66
    weighted = sum(per_color[name] * n for name, n in counts.items()) / 66
    assert weighted == pytest.approx(report["color_accuracy"], abs=1e-3)
    # An untrained generator is far from real shoes; real train vs test shoes are close.
    assert report["frechet_distance"] > 5 * report["frechet_floor_real_vs_real"]
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["kind"] == "eval" and last["frechet_distance"] == report["frechet_distance"]


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_evaluation_omits_type_accuracy_for_categories_the_classifier_does_not_know(tmp_path, classifier_cache):
    from shoes_generator.evaluation.generator_eval import evaluate_saved_model
    from shoes_generator.export import export_generator
    from shoes_generator.labels import Vocabularies
    from shoes_generator.models.conditional import build_conditional_generator

    vocab = Vocabularies({"category": ZAPPOS_CATEGORIES, "color": ["black", "red"]})
    generator = build_conditional_generator(vocab.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    path = export_generator(generator, 8, vocab, ("category", "color"), tmp_path / "zappos_model")
    report = evaluate_saved_model(path, count=16, cache_dir=classifier_cache, reference_limit=32)
    assert "type_accuracy" not in report and "Boots" in report["type_accuracy_note"]
    assert "color_accuracy" in report and "color_accuracy_note" not in report  # Known colours: still scored.


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_streamed_report_equals_a_direct_computation_on_the_same_images(tmp_path, classifier_cache):
    import tensorflow as tf

    from shoes_generator.evaluation.generator_eval import evaluate_saved_model, generate
    from shoes_generator.evaluation.streaming import label_cells, within_group_spread
    from shoes_generator.evaluation.reference import real_shoes
    from shoes_generator.export import export_generator
    from shoes_generator.labels import Vocabularies
    from shoes_generator.metrics import ClassifierFeatures
    from shoes_generator.models.conditional import build_conditional_generator

    vocab = Vocabularies({"category": list(CATEGORY_NAMES), "color": ["black", "red"]})
    generator = build_conditional_generator(vocab.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    path = export_generator(generator, 8, vocab, ("category", "color"), tmp_path / "model")
    report = evaluate_saved_model(path, 45, cache_dir=classifier_cache, reference_limit=40, metrics=("fid",), batch_size=16, max_per_group=8)
    # The old one-shot way: every image in memory, features of all of them at once.
    images, labels = generate(tf.saved_model.load(str(path)), 45)
    judge = ClassifierFeatures(16, classifier_cache).judge
    (features, types), real_test = judge(images), real_shoes("test", 16, True, 40, seed=7)
    test_features, train_features = judge(real_test[0])[0], judge(real_shoes("train", 16, True, 40, seed=11)[0])[0]
    real_cells = label_cells({"category": real_test[1], "color": real_test[2]})
    assert report["samples"] == 45 and report["fid_classifier"] == pytest.approx(report["frechet_distance"], abs=1e-3)
    direct = {
        "frechet_distance": frechet_distance(features, test_features),
        "frechet_floor_real_vs_real": frechet_distance(train_features, test_features),
        "within_label_spread": within_group_spread(features, label_cells(labels), 8),
        "within_label_spread_real": within_group_spread(test_features, real_cells, 8),
    }
    for key, value in direct.items():
        assert report[key] == pytest.approx(value, rel=1e-4, abs=1e-3), key
    assert report["type_accuracy"] == label_accuracy("type_accuracy", labels["category"], types, CATEGORY_NAMES, CATEGORY_NAMES)["type_accuracy"]


def test_shoes_eval_names_a_bad_model_argument(tmp_path, capsys):
    from training.evaluate import main as shoes_eval

    assert shoes_eval([str(tmp_path)]) == 2
    assert "Received" in capsys.readouterr().err


def test_within_group_spread_exposes_a_collapsed_generator():
    from shoes_generator.evaluation.streaming import within_group_spread

    rng = np.random.default_rng(0)
    groups = np.repeat(["red|sneaker", "blue|sandal"], 20)
    varied = rng.normal(size=(40, 8))
    collapsed = np.repeat(rng.normal(size=(2, 8)), 20, axis=0) + rng.normal(scale=0.01, size=(40, 8))
    assert within_group_spread(varied, groups) > 3.0  # ~ sqrt(2 * 8) for unit normals
    assert within_group_spread(collapsed, groups) < 0.1
    with pytest.raises(ValueError, match="no group holds two items|No group holds two items"):
        within_group_spread(varied[:2], np.array(["a", "b"]))


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_shoes_eval_adds_fid_kid_and_precision_recall_locally_and_for_a_served_model(tmp_path, classifier_cache, capsys):
    from serving.server.app import ShoesServer
    from serving.server.model_store import entries_from_base
    from shoes_generator.configs import get_preset
    from shoes_generator.publish import export_run
    from shoes_generator.trainer import train
    from training.evaluate import main as shoes_eval

    run = train(get_preset("cgan_fmnist_color_tiny"), out=tmp_path / "runs", verbose=0).run_dir
    common = ["-n", "60", "--cache", str(classifier_cache), "--metrics", "fid,kid,pr,acc"]
    assert shoes_eval([str(run), *common, "--out", str(tmp_path / "local.json")]) == 0
    local = json.loads((tmp_path / "local.json").read_text())
    for key in ("fid_classifier", "kid_classifier", "precision_classifier", "recall_classifier"):
        assert key in local and f"{key}_floor_real_vs_real" in local
    # The streaming FID uses the same features as the one-shot Frechet distance.
    assert local["fid_classifier"] == pytest.approx(local["frechet_distance"], rel=1e-2, abs=1e-2)
    assert local["fid_classifier"] > 5 * local["fid_classifier_floor_real_vs_real"]
    assert local["precision_classifier_floor_real_vs_real"] > local["precision_classifier"]

    export_run(run, tmp_path / "models", "shoes")
    server = ShoesServer(entries_from_base(tmp_path / "models"), port=0, rest_port=None, poll_seconds=0).start()
    try:
        assert shoes_eval(["--server", f"127.0.0.1:{server.port}", "--name", "shoes", *common, "--out", str(tmp_path / "served.json")]) == 0
    finally:
        server.stop(grace=1)
    served = json.loads((tmp_path / "served.json").read_text())
    assert served["model"].startswith("served shoes") and served["type_accuracy"] == pytest.approx(local["type_accuracy"], abs=0.05)
    assert shoes_eval([str(run), "--server", "x:1"]) == 2 and shoes_eval([str(run), "--metrics", "is"]) == 2


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_one_command_trains_or_loads_the_cached_classifier(tmp_path, classifier_cache, capsys):
    import shutil

    from shoes_generator.evaluation.classifier import classifier_path, main

    cache = shutil.copytree(classifier_cache, tmp_path / "cache")
    cached = classifier_path(16, cache)
    before = cached.stat().st_mtime_ns
    assert main(["--image-size", "16", "--cache", str(cache)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["16"]["epochs"] == 4 and report["16"]["path"] == str(cached) and cached.stat().st_mtime_ns == before
    assert main(["--image-size", "16", "--cache", str(cache), "--retrain", "--epochs", "1", "--limit", "100"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["16"]["epochs"] == 1 and cached.stat().st_mtime_ns != before
    with pytest.raises(SystemExit):
        main(["--image-size", "4"])


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_shoes_eval_of_a_pattern_run_scores_held_out_prints_against_chance_and_the_oracle(pattern_run, classifier_cache, tmp_path):
    """`shoes-eval` on a pattern-transfer run: 12 held-out prints x 3 types x 4 seeds through the export, the
    fidelity recomputed from the same shoes, and the real prints' own fidelity (the oracle) well above chance."""
    import tensorflow as tf

    from shoes_generator.data.fmnist import CATEGORY_NAMES
    from shoes_generator.evaluation.pattern_eval import draw_types, held_out_prints, top1
    from training.evaluate import main as shoes_eval

    out = tmp_path / "report.json"
    assert shoes_eval([str(pattern_run), "--cache", str(classifier_cache), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["family"] == "pattern" and report["patterns"] == 12 and report["shoes"] == 12 * 3 * 4
    assert report["chance"] == pytest.approx(1 / 12, abs=1e-4) and report["oracle_top1"] > 3 * report["chance"]
    for key in ("pattern_top1", "sketch_pattern_top1", "type_accuracy", "grey_type_accuracy", "real_type_accuracy"):
        assert 0.0 <= report[key] <= 1.0, key
    per_type = report["type_accuracy_per_type"]
    assert set(per_type) == set(CATEGORY_NAMES) and report["type_accuracy"] == pytest.approx(np.mean(list(per_type.values())), abs=1e-3)
    exemplars = held_out_prints(16, 12)["exemplar"]
    shoes, given, _ = draw_types(tf.saved_model.load(str(pattern_run / "saved_model")), exemplars, CATEGORY_NAMES, 4)
    assert report["pattern_top1"] == round(top1(shoes, given, exemplars), 4)


@pytest.mark.slow
@pytest.mark.fmnist
@needs_fmnist
def test_shoes_eval_of_a_spade_run_scores_held_out_maps(spade_run, classifier_cache, tmp_path):
    """`shoes-eval -n 24` on a SPADE run: every figure of the held-out maps in range, its own-style L1 a distance."""
    from training.evaluate import main as shoes_eval

    out = tmp_path / "report.json"
    assert shoes_eval([str(spade_run), "-n", "24", "--cache", str(classifier_cache), "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["family"] == "spade" and report["maps"] == 24
    for key in ("silhouette_iou", "type_accuracy", "real_type_accuracy", "style_color_accuracy", "real_color_accuracy"):
        assert 0.0 <= report[key] <= 1.0, (key, report[key])
    assert report["style_l1"] > 0 and report["seed_spread"] >= 0
