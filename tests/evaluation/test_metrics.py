"""FID / KID / precision-recall, streaming feature statistics, extractors and the metrics callback."""

import keras
import numpy as np
import pytest

from shoes_generator import metrics
from shoes_generator.evaluation.classifier import FEATURES_LAYER
from shoes_generator.evaluation.frechet import frechet_distance
from shoes_generator.metrics import (
    INCEPTION_WEIGHTS_FILE,
    ClassifierFeatures,
    FeatureStats,
    InceptionFeatures,
    MetricsCallback,
    features_of,
    fid,
    kid,
    precision_recall,
)


def gaussian(n, dim=4, shift=0.0, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)) + shift


def stats_of(rows, max_keep=10000, seed=0, batch=None):
    stats = FeatureStats(max_keep, seed)
    for start in range(0, len(rows), batch or len(rows)):
        stats.update(rows[start : start + (batch or len(rows))])
    return stats


class ChannelMeans:
    """A cheap stand-in extractor: per-channel means and standard deviations (6-d)."""

    name, image_size = "channel_means", 8

    def __call__(self, images):
        x = np.asarray(images, np.float64)
        return np.concatenate([x.mean((1, 2)), x.std((1, 2))], 1)


def test_fid_is_zero_for_one_set_and_grows_with_a_mean_shift():
    a = gaussian(2000)
    same = fid(stats_of(a), stats_of(a))
    near, far = (fid(stats_of(a), stats_of(a + shift)) for shift in (0.5, 2.0))
    assert same == pytest.approx(0.0, abs=1e-6)
    assert near == pytest.approx(4 * 0.25, rel=1e-3) and far == pytest.approx(4 * 4.0, rel=1e-3) and same < near < far
    assert fid(stats_of(a), stats_of(gaussian(2000, seed=1))) < 0.05


def test_streaming_stats_equal_one_shot_moments_and_frechet_distance():
    rows = gaussian(1003, dim=5, shift=50.0)  # Large mean: the shifted sums keep the covariance accurate.
    streamed = stats_of(rows, batch=97)
    assert streamed.count == 1003
    np.testing.assert_allclose(streamed.mean, rows.mean(0), rtol=1e-12)
    np.testing.assert_allclose(streamed.cov, np.cov(rows, rowvar=False), rtol=1e-9, atol=1e-12)
    other = gaussian(800, dim=5, shift=50.5, seed=3)
    assert fid(streamed, stats_of(other, batch=64)) == pytest.approx(frechet_distance(rows, other), rel=1e-9)


def test_stats_reject_bad_shapes_and_too_few_rows():
    stats = FeatureStats().update(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="Need at least 2 feature rows. Received: 1"):
        stats.cov
    with pytest.raises(ValueError, match=r"Received: shape \(2, 4\)"):
        stats.update(np.zeros((2, 4)))


def test_reservoir_keeps_max_keep_rows_uniformly_and_deterministically():
    rows = np.arange(5000, dtype=np.float64)[:, None] * np.ones((1, 2))
    kept = stats_of(rows, max_keep=300, seed=4, batch=128).features
    assert kept.shape == (300, 2)
    assert len(np.unique(kept[:, 0])) == 300 and set(kept[:, 0]) <= set(rows[:, 0])
    np.testing.assert_array_equal(kept, stats_of(rows, max_keep=300, seed=4, batch=128).features)
    assert not np.array_equal(kept, stats_of(rows, max_keep=300, seed=5, batch=128).features)
    assert 2000 < kept[:, 0].mean() < 3000  # Uniform over the stream, not the first rows.
    small = stats_of(rows[:50], max_keep=300, batch=7).features
    np.testing.assert_array_equal(small, rows[:50])


def test_stats_save_and_load_round_trip(tmp_path):
    stats = stats_of(gaussian(500), max_keep=100, batch=64)
    stats.save(tmp_path / "real.npz")
    loaded = FeatureStats.load(tmp_path / "real.npz")
    assert loaded.count == 500
    np.testing.assert_allclose(loaded.cov, stats.cov)
    np.testing.assert_array_equal(loaded.features, stats.features)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_a_shift():
    a, b = gaussian(1000, dim=8), gaussian(1000, dim=8, seed=1)
    same_mean, same_std = kid(a, b, subsets=5, subset_size=500)
    shifted_mean, _ = kid(a, b + 1.0, subsets=5, subset_size=500)
    assert abs(same_mean) < 0.05 and same_std >= 0.0
    assert shifted_mean > 1.0 and shifted_mean > 20 * abs(same_mean)
    assert kid(a, b, subsets=5, subset_size=500) == (same_mean, same_std)  # Seeded.


def test_precision_recall_of_identical_collapsed_and_disjoint_sets():
    real = gaussian(600, dim=2)
    assert precision_recall(real, real.copy(), chunk=128) == (1.0, 1.0)
    collapsed = np.zeros((600, 2))  # Every fake at the centre of the real cloud.
    precision, recall = precision_recall(real, collapsed, chunk=128)
    assert precision == 1.0 and recall < 0.05
    assert precision_recall(real, gaussian(600, dim=2, shift=100.0), chunk=128) == (0.0, 0.0)
    with pytest.raises(ValueError, match="Received: shapes"):
        precision_recall(real[:3], real)


def test_inception_features_explain_a_missing_weights_file(tmp_path):
    with pytest.raises(RuntimeError) as error:
        InceptionFeatures(weights_path=tmp_path / "absent.h5")
    message = str(error.value)
    assert INCEPTION_WEIGHTS_FILE in message and "--inception-weights" in message and "~/.keras/models" in message


def test_inception_features_explain_a_failed_download(monkeypatch):
    from keras.src.applications import inception_v3

    def offline(*args, **kwargs):  # What Keras raises without a network, without trying one.
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(inception_v3.file_utils, "get_file", offline)
    with pytest.raises(RuntimeError) as error:
        InceptionFeatures()
    message = str(error.value)
    assert "downloading the ImageNet weights failed" in message and "URL fetch failure" in message
    assert INCEPTION_WEIGHTS_FILE in message and "--inception-weights" in message


def tiny_classifier(image_size=8):
    image = keras.Input((image_size, image_size, 3))
    x = keras.layers.Rescaling(1 / 255.0)(image)
    x = keras.layers.GlobalAveragePooling2D()(x)
    features = keras.layers.Dense(5, name=FEATURES_LAYER)(x)
    return keras.Model(image, keras.layers.Dense(3, name="logits")(features))


def test_classifier_features_resize_and_batch_a_prebuilt_model():
    keras.utils.set_random_seed(0)
    extractor = ClassifierFeatures(8, model=tiny_classifier(8), batch_size=3)
    assert isinstance(extractor, metrics.FeatureExtractor)
    images = np.random.default_rng(0).integers(0, 256, (7, 8, 8, 3), dtype=np.uint8)
    features, logits = extractor.features_and_logits(images)
    assert features.shape == (7, 5) and logits.shape == (7, 3) and features.dtype == np.float64
    bigger = np.repeat(np.repeat(images, 2, axis=1), 2, axis=2)  # 16 px: resized back to 8.
    np.testing.assert_allclose(extractor(bigger), features, rtol=1e-4, atol=1e-4)
    stats = features_of((images[i : i + 2] for i in range(0, 7, 2)), extractor, max_keep=4)
    assert stats.count == 7 and stats.features.shape == (4, 5)


def test_metrics_callback_adds_metrics_to_logs_every_k_epochs_only(capsys):
    rng = np.random.default_rng(0)
    real = features_of([rng.integers(0, 256, (64, 8, 8, 3), dtype=np.uint8)], ChannelMeans())
    callback = MetricsCallback(
        lambda n: rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8),
        real,
        ChannelMeans(),
        ("fid", "kid", "pr"),
        every=2,
        count=40,
        batch_size=16,
    )
    seen = {}

    class Probe(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = dict(logs)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=3, verbose=0, callbacks=[callback, Probe()])
    assert "fid" not in seen[0] and "fid" not in seen[2]
    assert {"fid", "kid", "kid_std", "precision", "recall"} <= set(seen[1]) and seen[1]["fid"] >= 0.0
    assert len(history.history["fid"]) == 1
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="Received: \\['fid', 'acc'\\]"):
        MetricsCallback(lambda n: None, real, ChannelMeans(), ("fid", "acc"))


def test_kid_of_sets_smaller_than_a_subset_draws_half_sets_so_its_std_means_something():
    a, b = gaussian(100, dim=8), gaussian(120, dim=8, seed=1)
    _, std = kid(a, b, subsets=5, subset_size=1000)
    assert std > 0.0  # Whole-set subsets would all be equal (std 0).
    with pytest.raises(ValueError):
        kid(a[:1], b)
