"""The metric registry: every metric is reached by name from `MetricsCallback`, `compare`, the evaluations
and `shoes-eval --metrics`; a newly registered metric works in all of them without other changes."""

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from shoes_generator.evaluation import registry
from shoes_generator.evaluation.registry import GENERATOR, Metric, register_metric, registered_names, unregister_metric
from shoes_generator.evaluation.streaming import LabelTally
from shoes_generator.metrics import FeatureStats, MetricsCallback, compare, features_of


class ChannelMeans:
    """A cheap stand-in extractor: per-channel means and standard deviations (6-d)."""

    name, image_size = "channel_means", 8

    def __call__(self, images):
        x = np.asarray(images, np.float64)
        return np.concatenate([x.mean((1, 2)), x.std((1, 2))], 1)


def random_images(n, seed=0, size=8):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def stats(rows, seed=0):
    return FeatureStats(10000).update(np.random.default_rng(seed).normal(size=(rows, 6)))


def _toy_compute(real, fake, **_):
    return {"toy": float(abs(fake.mean - real.mean).sum())}


@pytest.fixture
def toy():
    """A toy optional "samples" metric registered for generators (and removed afterwards)."""
    metric = register_metric(Metric("toy", "samples", "summed absolute mean difference", (GENERATOR,), _toy_compute, ("toy",),
                                    optional=True, digits=4))
    yield metric
    unregister_metric("toy")


def inputs_of(metric):
    """Small arguments of a metric's kind (see the registry's module docstring)."""
    images, other = random_images(6, 0, 16), random_images(6, 1, 16)
    if metric.kind == "samples":
        return (stats(50, 0), stats(50, 1))
    if metric.kind == "pairs":
        return (images, other)
    if metric.kind == "cycle":
        return (images, other, other, images)
    if metric.kind == "labels":
        asked = np.asarray(["sneaker", "sandal"] if metric.label == "category" else ["red", "blue"])
        return (LabelTally().update(asked, asked[::-1]), list(asked))
    return (np.asarray([[5, 1], [2, 7]]), ["background", "shoe"])


@pytest.mark.parametrize("name", list(registry.registered_metrics()))
def test_every_metric_gives_the_outputs_it_declares(name):
    metric = registry.get_metric(name)
    assert metric.description and metric.applies_to and set(metric.applies_to) <= set(registry.CAPABILITIES)
    values = metric.compute(*inputs_of(metric))
    assert set(values) == set(metric.outputs)


def test_every_samples_metric_reaches_metrics_callback_and_compare_by_name():
    real = features_of([random_images(64)], ChannelMeans())
    for metric in registry.metrics_for(kind="samples"):
        callback = MetricsCallback(lambda n: random_images(n, 3), real, ChannelMeans(), (metric.name,), count=40, batch_size=16)
        logs = {}
        callback.on_epoch_end(0, logs)
        assert set(logs) == set(metric.outputs), metric.name
        assert set(compare(real, real, [metric.name])) == set(metric.outputs)


def test_metrics_callback_names_what_it_computes_for_another_kind_and_lists_the_registry_for_an_unknown_name():
    real = features_of([random_images(64)], ChannelMeans())
    for metric in registry.metrics_for():
        if metric.kind != "samples":
            with pytest.raises(ValueError, match=f"MetricsCallback computes 'samples' metrics: frechet, fid, kid, pr; \\['{metric.name}'\\]"):
                MetricsCallback(lambda n: None, real, ChannelMeans(), (metric.name,))
    for call in (lambda: MetricsCallback(lambda n: None, real, ChannelMeans(), ("fid", "nope")), lambda: compare(real, real, ["nope"])):
        with pytest.raises(ValueError, match="Unknown metrics \\['nope'\\]") as error:
            call()
        assert all(name in str(error.value) for name in registered_names())


def test_reports_of_the_evaluations_come_from_the_registry_with_their_old_values():
    from shoes_generator.evaluation.frechet import frechet_distance
    from shoes_generator.evaluation.generator_eval import feature_metrics, judge_metrics
    from shoes_generator.evaluation.translation_eval import _measured, _stats
    from shoes_generator.metrics import fid, kid, precision_recall
    from shoes_generator.segmentation.metrics import segmentation_scores

    outputs, targets = random_images(12, 0, 16), random_images(12, 1, 16)
    old_l1 = round(float(np.abs(outputs.astype(np.float32) - targets.astype(np.float32)).mean() / 127.5), 4)
    old_psnr = round(float(tf.reduce_mean(tf.image.psnr(outputs, targets, 255)).numpy()), 3)
    old_ssim = round(float(tf.reduce_mean(tf.image.ssim(outputs, targets, 255)).numpy()), 4)
    assert _measured("pix2pix", "pairs", outputs, targets) == {"l1": old_l1, "psnr": old_psnr, "ssim": old_ssim}
    a, b = np.random.default_rng(0).normal(size=(40, 5)), np.random.default_rng(1).normal(size=(40, 5)) + 0.5
    assert _measured("pix2pix", "samples", _stats(b), _stats(a)) == {"frechet_distance": round(frechet_distance(a, b), 3)}
    assert _measured("cyclegan", "samples", _stats(b), _stats(a), suffix="_a_to_b_vs_b") == {"frechet_distance_a_to_b_vs_b": round(frechet_distance(a, b), 3)}
    asked, found = np.asarray(["sneaker", "sandal", "sneaker"]), np.asarray(["sneaker", "sneaker", "sneaker"])
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    assert _measured("pix2pix", "labels", LabelTally().update(asked, found), CATEGORY_NAMES) == {"type_accuracy": round(float((found == asked).mean()), 4)}
    cycle = _measured("cyclegan", "cycle", outputs, targets, targets, outputs)
    assert cycle == {"cycle_l1_aba": old_l1, "cycle_l1_bab": old_l1}

    real_test, fake, real_train = stats(300, 0), stats(300, 1), stats(300, 2)
    assert judge_metrics(real_test, fake, real_train) == {
        "frechet_distance": round(fid(fake, real_test), 3), "frechet_floor_real_vs_real": round(fid(real_train, real_test), 3)
    }
    kid_mean, kid_std = kid(fake.features, real_test.features)
    precision, recall = precision_recall(real_test.features, fake.features)
    report = feature_metrics(real_test, fake, real_train, ["pr", "fid", "kid"], "classifier")  # Registration order, as before.
    assert list(report)[:5] == ["fid_classifier", "kid_classifier", "kid_std_classifier", "precision_classifier", "recall_classifier"]
    assert report["fid_classifier"] == round(fid(fake, real_test), 4) and report["kid_classifier"] == round(kid_mean, 4)
    assert (report["kid_std_classifier"], report["precision_classifier"], report["recall_classifier"]) == tuple(
        round(value, 4) for value in (kid_std, precision, recall))
    assert len(report) == 10 and report["fid_classifier_floor_real_vs_real"] == round(fid(real_train, real_test), 4)
    cm = np.asarray([[5, 1, 0], [2, 7, 0], [0, 0, 0]])
    assert segmentation_scores(cm, ["bg", "shoe", "x"]) == {
        "pixel_accuracy": 12 / 15, "mean_iou": (5 / 8 + 7 / 10) / 2, "per_class_iou": {"bg": 5 / 8, "shoe": 7 / 10, "x": None}
    }


def shoes_eval_with(monkeypatch, *args):
    """`shoes-eval --server x:1 ARGS` with `measure` stubbed: (exit code, the metrics handed to measure)."""
    import training.evaluate as evaluate

    seen = []
    monkeypatch.setattr(evaluate, "measure", lambda args, saved_model, run_dir, metrics: seen.append(metrics) or {"model": "stub"})
    return evaluate.main(["--server", "x:1", *args]), (seen[0] if seen else None)


def test_every_registered_name_reaches_shoes_eval_and_only_the_optional_ones_are_computed_on_request(monkeypatch, capsys):
    for name in registered_names():
        code, metrics = shoes_eval_with(monkeypatch, "--metrics", name)
        assert code == 0, name
        metric = registry.registered_metrics().get(name)
        assert metrics == ([name] if metric is not None and metric.optional else []), name
    assert shoes_eval_with(monkeypatch, "--metrics", "pr, fid,kid,acc")[1] == ["fid", "kid", "pr"]  # Today's names, registry order.
    capsys.readouterr()
    assert shoes_eval_with(monkeypatch, "--metrics", "fid,is") == (2, None)
    error = capsys.readouterr().err
    assert "Unknown metrics ['is']" in error and all(name in error for name in registered_names())


def test_shoes_eval_help_and_metrics_list_show_the_registry(capsys):
    from training.evaluate import build_parser, main

    help_text = " ".join(build_parser().format_help().split())
    assert all(name in help_text for name in registered_names()) and "--metrics list" in help_text
    assert main(["--metrics", "list"]) == 0  # No MODEL needed.
    listing = capsys.readouterr().out
    for name, metric in registry.registered_metrics().items():
        line = next(line for line in listing.splitlines() if line.split()[0] == name)
        assert metric.description in line and metric.kind in line and all(key in line for key in metric.outputs)
    assert any(line.split()[0] == "acc" and "type_accuracy" in line for line in listing.splitlines())


def test_a_new_metric_is_usable_by_the_callback_the_evaluation_and_shoes_eval_without_other_changes(toy, monkeypatch, capsys):
    from shoes_generator.evaluation.generator_eval import feature_metrics

    real = features_of([random_images(64)], ChannelMeans())
    logs = {}
    MetricsCallback(lambda n: random_images(n, 3), real, ChannelMeans(), ("fid", "toy"), count=40, batch_size=16).on_epoch_end(0, logs)
    assert set(logs) == {"fid", "toy"} and logs["toy"] > 0
    report = feature_metrics(stats(50, 0), stats(50, 1), stats(50, 2), ["toy"], "classifier")
    assert set(report) == {"toy_classifier", "toy_classifier_floor_real_vs_real"}
    assert shoes_eval_with(monkeypatch, "--metrics", "fid,toy") == (0, ["fid", "toy"])
    assert main_help_mentions("toy")
    from training.evaluate import main

    capsys.readouterr()
    assert main(["--metrics", "list"]) == 0 and "summed absolute mean difference" in capsys.readouterr().out


def main_help_mentions(name):
    from training.evaluate import build_parser

    return name in build_parser().format_help()


def test_training_callback_computes_the_optional_generator_metrics_a_new_one_included(toy, monkeypatch):
    import shoes_generator.metrics as metrics_module
    from shoes_generator.callbacks import sample_metrics_callback

    monkeypatch.setattr(metrics_module, "ClassifierFeatures", lambda image_size: ChannelMeans())
    config = SimpleNamespace(train=SimpleNamespace(metrics_samples=40, metrics_every=2, seed=0), data=SimpleNamespace(image_size=8))
    real = tf.data.Dataset.from_tensor_slices({"image": random_images(60).astype("float32") / 127.5 - 1.0})

    class Generator:
        latent_dim, label_names, label_sizes, refreshed = 4, (), {}, 0

        def __call__(self, z, training=False):
            return tf.tanh(tf.tile(tf.reshape(tf.constant(z)[:, :3], (-1, 1, 1, 3)), (1, 8, 8, 1)))

        def refresh_sampler_statistics(self):
            self.refreshed += 1

    model = Generator()
    callback = sample_metrics_callback(config, model, SimpleNamespace(elements=real))
    assert callback.metrics == ("fid", "kid", "pr", "toy")
    logs = {}
    callback.on_epoch_end(1, logs)
    assert set(logs) == {"fid", "kid", "kid_std", "precision", "recall", "toy"} and model.refreshed == 1


def test_registering_rejects_a_taken_name_an_unknown_kind_and_a_labels_metric_without_a_label():
    with pytest.raises(ValueError, match="'fid' is registered already"):
        register_metric(Metric("fid", "samples", "again", (GENERATOR,), _toy_compute, ("fid",)))
    with pytest.raises(ValueError, match="kind must be one of"):
        register_metric(Metric("odd", "pixels", "odd", (GENERATOR,), _toy_compute, ("odd",)))
    with pytest.raises(ValueError, match="a label exactly when"):
        register_metric(Metric("odd", "labels", "odd", (GENERATOR,), _toy_compute, ("odd",)))
    for applies_to in (("dcgan",), (), "noise_generator"):  # A family's name, nothing, a bare string: not capabilities.
        with pytest.raises(ValueError, match="applies_to must name model capabilities"):
            register_metric(Metric("odd", "samples", "odd", applies_to, _toy_compute, ("odd",)))
    assert "odd" not in registered_names()


class FakeJudge(ChannelMeans):
    """A stand-in shoe classifier: channel statistics as features, the type read from the brightest channel."""

    name, info = "classifier", {"test_accuracy": 0.9}

    def __init__(self, image_size, cache_dir=None):
        self.image_size = image_size

    def judge(self, images):
        from shoes_generator.data.fmnist import CATEGORY_NAMES

        features = self(images)
        return features, np.asarray(CATEGORY_NAMES)[features[:, :3].argmax(1)]


class FakeSampler:
    """A served generator stand-in: seeded random 16 px images."""

    description = "fake sampler"
    vocabularies = {"category": ["sandal", "sneaker", "ankle_boot"], "color": ["red", "blue"]}

    def __call__(self, seeds, labels):
        return np.concatenate([random_images(1, int(seed), 16) for seed in seeds])


def test_the_generator_evaluation_computes_a_new_metric_beside_its_registered_report(toy, monkeypatch):
    from shoes_generator.evaluation import generator_eval

    def real_shoes(split, image_size, colored, limit=None, seed=0):
        rng = np.random.default_rng(seed)
        return random_images(limit, seed, image_size), rng.choice(FakeSampler.vocabularies["category"], limit), rng.choice(["red", "blue"], limit)

    monkeypatch.setattr(generator_eval, "ClassifierFeatures", FakeJudge)
    monkeypatch.setattr(generator_eval, "real_shoes", real_shoes)
    report = generator_eval.evaluate_saved_model(None, 40, server=FakeSampler(), metrics=["toy", "fid"], batch_size=16, max_per_group=8)
    assert list(report) == [
        "model", "samples", "image_size", "classifier_test_accuracy", "frechet_distance", "frechet_floor_real_vs_real",
        "within_label_spread", "within_label_spread_real", "type_accuracy", "color_accuracy", "color_accuracy_per_color",
        "fid_classifier", "toy_classifier", "fid_classifier_floor_real_vs_real", "toy_classifier_floor_real_vs_real",
    ]
    assert report["fid_classifier"] == pytest.approx(report["frechet_distance"], abs=1e-3)
    with pytest.raises(ValueError, match="the generator evaluation computes 'samples' metrics of 'noise_generator' models: frechet, fid, kid, pr, toy"):
        generator_eval.evaluate_saved_model(None, 40, server=FakeSampler(), metrics=["l1"])


# Which metrics apply to a family follows from what the family declares, not from its name.
TODAY = {
    "dcgan": ("frechet", "fid", "kid", "pr", "type_accuracy", "color_accuracy"),
    "conditional": ("frechet", "fid", "kid", "pr", "type_accuracy", "color_accuracy"),
    "pix2pix": ("frechet", "l1", "psnr", "ssim", "type_accuracy"),
    "cyclegan": ("frechet", "cycle"),
    "segmentation": ("pixel_accuracy", "iou"),
}


def test_the_built_in_families_get_the_metrics_they_had_by_name():
    assert {family: registry.metric_names(family) for family in TODAY} == TODAY
    assert registry.metric_names(GENERATOR, optional=True) == ("fid", "kid", "pr")  # The training callback's and --metrics'.


@pytest.fixture
def new_families():
    """Two families registered as a new module would (a labelled noise generator, a paired translator), removed afterwards."""
    import dataclasses

    from shoes_generator.configs import ModelConfig
    from shoes_generator.families import Family, register_family, unregister_family

    @dataclasses.dataclass
    class ToyModel(ModelConfig):
        family: str = "toy_labelled_gan"

    class ToyLabelledGAN(Family):
        name, model_config, sources, noise_generator = "toy_labelled_gan", ToyModel, ("fmnist",), True

    class ToyTranslator(Family):
        name, model_config, sources = "toy_translator", ToyModel, ("pairs",)
        translator = paired_translator = True

    register_family(ToyLabelledGAN())
    register_family(ToyTranslator())
    yield
    unregister_family("toy_labelled_gan")
    unregister_family("toy_translator")


def test_a_newly_registered_family_gets_the_metrics_of_what_it_declares_without_editing_the_registry(new_families, capsys):
    from shoes_generator.evaluation.translation_eval import _measured
    from training.evaluate import main

    assert registry.metric_names("toy_labelled_gan") == TODAY["dcgan"]
    assert registry.metric_names("toy_labelled_gan", kind="labels") == ("type_accuracy", "color_accuracy")
    assert registry.metric_names("toy_translator") == TODAY["pix2pix"]
    assert [m.name for m in registry.resolve_metrics(["fid", "kid"], kind="samples", model="toy_labelled_gan")] == ["fid", "kid"]
    with pytest.raises(ValueError, match="metrics of 'toy_translator' models: frechet; \\['fid'\\]"):
        registry.resolve_metrics(["fid"], kind="samples", model="toy_translator")
    outputs, targets = random_images(6, 0, 16), random_images(6, 1, 16)
    assert _measured("toy_translator", "pairs", outputs, targets) == _measured("pix2pix", "pairs", outputs, targets)
    assert main(["--metrics", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    declared = {line.split()[0]: line for line in lines[lines.index(next(line for line in lines if line.startswith("The capabilities"))) + 1:]}
    assert set(declared) == set(registry.CAPABILITIES)
    assert declared["noise_generator"].endswith("toy_labelled_gan") and "dcgan, conditional" in declared["noise_generator"]
    assert "pix2pix" in declared["paired_translator"] and "toy_translator" in declared["paired_translator"]
    assert "toy" not in declared["cycle_translator"] and "toy" not in declared["segmenter"]


def test_a_name_that_is_neither_a_capability_nor_a_family_is_refused():
    with pytest.raises(ValueError, match="model.family must be one of"):
        registry.metric_names("generator")
