"""Sample-quality metrics on image features: FID, KID and improved precision / recall.

Features come from a `FeatureExtractor`: the project's shoe classifier
(`ClassifierFeatures`, always available) or InceptionV3 pooled features
(`InceptionFeatures`, the standard FID features, needing ImageNet weights).
Images are streamed in batches into `FeatureStats`, which keeps float64
running moments (for FID) and a bounded, seeded reservoir of feature rows (for
KID and precision / recall), so memory does not grow with the sample count.

`compare` and `MetricsCallback` (the metrics of a model's samples every few
epochs, added to the Keras ``logs``) take metric names and look them up in
`shoes_generator.evaluation.registry`: any registered "samples" metric works.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence, runtime_checkable

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.evaluation.frechet import frechet_from_moments
from shoes_generator.evaluation.registry import resolve_metrics

INCEPTION_SIZE = 299
INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/{INCEPTION_WEIGHTS_FILE}"


@runtime_checkable
class FeatureExtractor(Protocol):
    """``uint8`` images ``[B, H, W, 3]`` -> float64 features ``[B, D]``."""

    name: str
    image_size: int

    def __call__(self, images: np.ndarray) -> np.ndarray: ...


def _resized(images: np.ndarray, size: int) -> np.ndarray | tf.Tensor:
    """`images` as they are when already ``size x size``, else bilinearly resized (float, 0..255)."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"Need images [B, H, W, 3]. Received: shape {images.shape}")
    if images.shape[1:3] == (size, size):
        return images
    return tf.image.resize(tf.cast(images, tf.float32), (size, size))


def _batched(model: Callable, images: np.ndarray, batch_size: int, prepare: Callable) -> list[list[np.ndarray]]:
    """``model(prepare(chunk))`` over chunks of `images`: one list of float64 arrays per model output."""
    parts: list[list[np.ndarray]] = []
    for start in range(0, len(images), batch_size):
        # tf.nest: a reloaded model may answer with a wrapped list, which isinstance(list) misses.
        outputs = tf.nest.flatten(model(prepare(images[start : start + batch_size]), training=False))
        if not parts:
            parts = [[] for _ in outputs]
        for part, output in zip(parts, outputs):
            part.append(np.asarray(output, np.float64))
    return parts


class ClassifierFeatures:
    """The project shoe classifier's ``features`` layer (128-d), the Frechet features of `shoes-eval`.

    Args:
        image_size: the classifier's input side (inputs of another size are resized).
        cache_dir: the classifier cache (see `load_or_train_classifier`; trained there if absent).
        model: a prebuilt classifier (a ``features`` layer and logits output) instead of the cached one.
        batch_size: images per forward pass.
    """

    name = "classifier"

    def __init__(self, image_size: int, cache_dir: str | Path | None = None, model: keras.Model | None = None, batch_size: int = 256):
        from shoes_generator.evaluation.classifier import feature_extractor, load_or_train_classifier

        self.image_size = int(image_size)
        self.info: dict = {}
        if model is None:
            model, self.info = load_or_train_classifier(self.image_size, cache_dir)
        self._extractor = feature_extractor(model)
        self.batch_size = int(batch_size)

    def features_and_logits(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``([B, 128], [B, C])`` float64 features and class logits of ``uint8`` images."""
        if len(images) == 0:
            raise ValueError("Need at least one image. Received: 0 images")
        # A one-element list: `feature_extractor` builds the model on ``classifier.inputs`` (a list).
        features, logits = _batched(self._extractor, images, self.batch_size, lambda x: [_resized(x, self.image_size)])
        return np.concatenate(features), np.concatenate(logits)

    def judge(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``([B, 128] features, [B] type names)``: the features and the shoe type the classifier reads in each image."""
        from shoes_generator.data.fmnist import CATEGORY_NAMES

        features, logits = self.features_and_logits(images)
        return features, np.asarray(CATEGORY_NAMES)[logits.argmax(1)]

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.features_and_logits(images)[0]


class InceptionFeatures:
    """InceptionV3 (ImageNet) average-pooled features (2048-d) of images resized to 299: the standard FID features.

    Args:
        weights_path: the Keras notop weights file; default: ``weights="imagenet"``,
            which Keras downloads to (or finds in) ``~/.keras/models/``.
        batch_size: images per forward pass.

    Raises:
        RuntimeError: the weights could not be loaded (e.g. offline); the message says how to provide them.
    """

    name = "inception_v3"
    image_size = INCEPTION_SIZE

    def __init__(self, weights_path: str | Path | None = None, batch_size: int = 64):
        self.batch_size = int(batch_size)
        if weights_path is not None and not Path(weights_path).is_file():
            raise RuntimeError(self._advice(f"the weights file {weights_path} does not exist"))
        weights = str(weights_path) if weights_path is not None else "imagenet"
        try:
            self.model = keras.applications.InceptionV3(
                include_top=False, pooling="avg", weights=weights, input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3)
            )
        except Exception as error:  # Keras raises a bare Exception on a failed download.
            what = f"loading {weights_path}" if weights_path is not None else "downloading the ImageNet weights"
            raise RuntimeError(self._advice(f"{what} failed: {type(error).__name__}: {error}")) from error

    @staticmethod
    def _advice(what: str) -> str:
        return (
            f"Could not load the InceptionV3 weights: {what}. "
            f"Get the Keras notop weights file {INCEPTION_WEIGHTS_FILE} (from {INCEPTION_WEIGHTS_URL}) "
            f"on a machine with internet and put it in ~/.keras/models/ (Keras then finds it without downloading), "
            f"or pass its path with --inception-weights PATH (InceptionFeatures(weights_path=...)). "
            f"Without it, use the classifier features."
        )

    def __call__(self, images: np.ndarray) -> np.ndarray:
        if len(images) == 0:
            raise ValueError("Need at least one image. Received: 0 images")

        def prepare(chunk):
            return keras.applications.inception_v3.preprocess_input(tf.cast(_resized(chunk, INCEPTION_SIZE), tf.float32))

        return np.concatenate(_batched(self.model, images, self.batch_size, prepare)[0])


class FeatureStats:
    """Streaming float64 moments of feature rows plus a uniform reservoir of at most `max_keep` rows.

    The moments are sums over rows shifted by the first batch's mean
    (count, sum ``[D]``, sum of outer products ``[D, D]``), which keeps the
    covariance accurate when the mean is large compared to the spread.
    The reservoir is Algorithm R with a seeded RNG: every row seen has the
    same chance to be kept, and the same batches and seed keep the same rows.

    Args:
        max_keep: rows kept for KID and precision / recall (0: none).
        seed: seed of the reservoir's RNG.
    """

    def __init__(self, max_keep: int = 10000, seed: int = 0):
        if max_keep < 0:
            raise ValueError(f"max_keep must be >= 0. Received: {max_keep}")
        self.max_keep = int(max_keep)
        self.count = 0
        self.shift: np.ndarray | None = None
        self.sum: np.ndarray | None = None
        self.outer: np.ndarray | None = None
        self._kept: np.ndarray | None = None
        self._rng = np.random.default_rng(seed)

    @property
    def dim(self) -> int | None:
        return None if self.shift is None else len(self.shift)

    def update(self, features: np.ndarray) -> "FeatureStats":
        """Adds ``[B, D]`` feature rows; returns self."""
        rows = np.asarray(features, np.float64)
        if rows.ndim != 2 or (self.shift is not None and rows.shape[1] != len(self.shift)):
            raise ValueError(f"Need features [B, {self.dim or 'D'}]. Received: shape {rows.shape}")
        if len(rows) == 0:
            return self
        if self.shift is None:
            dim = rows.shape[1]
            self.shift, self.sum, self.outer = rows.mean(0), np.zeros(dim), np.zeros((dim, dim))
            self._kept = np.empty((self.max_keep, dim))
        centred = rows - self.shift
        self.sum += centred.sum(0)
        self.outer += centred.T @ centred
        self._reservoir(rows)
        self.count += len(rows)
        return self

    def _reservoir(self, rows: np.ndarray) -> None:
        seen = self.count + np.arange(len(rows))  # Global index of each row.
        filling = seen < self.max_keep
        self._kept[seen[filling]] = rows[filling]
        rest = np.flatnonzero(~filling)
        if not len(rest):
            return
        slots = self._rng.integers(0, seen[rest] + 1)  # Row n replaces slot j when j < max_keep.
        chosen = slots < self.max_keep
        rest, slots = rest[chosen], slots[chosen]
        last = len(slots) - 1 - np.unique(slots[::-1], return_index=True)[1]  # The last row wins a slot.
        self._kept[slots[last]] = rows[rest[last]]

    @property
    def mean(self) -> np.ndarray:
        self._need(1)
        return self.shift + self.sum / self.count

    @property
    def cov(self) -> np.ndarray:
        """Unbiased (``N - 1``) covariance, as `np.cov`."""
        self._need(2)
        centred_mean = self.sum / self.count
        return (self.outer - self.count * np.outer(centred_mean, centred_mean)) / (self.count - 1)

    @property
    def features(self) -> np.ndarray:
        """The kept rows ``[min(count, max_keep), D]`` (a copy)."""
        self._need(1)
        return self._kept[: min(self.count, self.max_keep)].copy()

    def _need(self, rows: int) -> None:
        if self.count < rows:
            raise ValueError(f"Need at least {rows} feature rows. Received: {self.count}")

    def save(self, path: str | Path) -> None:
        """Writes the moments and kept rows to an ``.npz`` file (e.g. cached real-image statistics)."""
        self._need(1)
        np.savez(path, count=self.count, shift=self.shift, sum=self.sum, outer=self.outer, kept=self.features, max_keep=self.max_keep)

    @classmethod
    def load(cls, path: str | Path, seed: int = 0) -> "FeatureStats":
        """Statistics written by `save`."""
        with np.load(path) as data:
            stats = cls(int(data["max_keep"]), seed)
            stats.count = int(data["count"])
            stats.shift, stats.sum, stats.outer = data["shift"], data["sum"], data["outer"]
            stats._kept = np.empty((stats.max_keep, len(stats.shift)))
            stats._kept[: len(data["kept"])] = data["kept"]
        return stats


def features_of(batches: Iterable[np.ndarray], extractor: FeatureExtractor, max_keep: int = 10000, seed: int = 0) -> FeatureStats:
    """`FeatureStats` of the extractor's features over batches of ``uint8`` images ``[B, H, W, 3]``."""
    stats = FeatureStats(max_keep, seed)
    for images in batches:
        if len(images):
            stats.update(extractor(images))
    return stats


def fid(stats_a: FeatureStats, stats_b: FeatureStats) -> float:
    """Frechet distance of the two sets' feature moments (FID on Inception features)."""
    return frechet_from_moments(stats_a.mean, stats_a.cov, stats_b.mean, stats_b.cov)


def _as_pair(features_a: np.ndarray, features_b: np.ndarray, min_rows: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < min_rows:
        raise ValueError(f"Need two [N>={min_rows}, D] feature sets of the same D. Received: shapes {a.shape} and {b.shape}")
    return a, b


def kid(
    features_a: np.ndarray, features_b: np.ndarray, subsets: int = 10, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance (Binkowski et al. 2018): mean and std of unbiased MMD^2 over random subsets.

    The kernel is the cubic polynomial ``k(x, y) = (x . y / D + 1)^3``. Each
    subset draws ``subset_size`` rows of each set without replacement, or half
    the smaller set when it holds no more than ``subset_size`` rows (whole-set
    subsets would all be the same, and their std a meaningless 0). The
    estimate is unbiased, so it can be slightly negative for two samples of
    one distribution.

    Args:
        features_a: ``[N_a, D]`` features (e.g. generated).
        features_b: ``[N_b, D]`` features (e.g. real).
        subsets: how many subsets.
        subset_size: rows per subset and set.
        seed: seed of the subset draws.
    """
    a, b = _as_pair(features_a, features_b, 2)
    smaller, dim = min(len(a), len(b)), a.shape[1]
    size = subset_size if smaller > subset_size else max(2, smaller // 2)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        k_xx, k_yy, k_xy = ((p @ q.T / dim + 1.0) ** 3 for p, q in ((x, x), (y, y), (x, y)))
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (size * (size - 1))
        values.append(within - 2.0 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))


def _pairwise_chunks(a: np.ndarray, b: np.ndarray, chunk: int) -> Iterable[tuple[int, np.ndarray]]:
    """``(start, distances [chunk, N_b])`` Euclidean distances from chunks of `a` to all of `b`."""
    b_norms = (b**2).sum(1)
    for start in range(0, len(a), chunk):
        rows = a[start : start + chunk]
        squared = (rows**2).sum(1)[:, None] + b_norms[None, :] - 2.0 * rows @ b.T
        yield start, np.sqrt(np.maximum(squared, 0.0))


def _knn_radii(features: np.ndarray, k: int, chunk: int) -> np.ndarray:
    """Distance of each row to its `k`-th nearest other row."""
    radii = np.empty(len(features))
    for start, distances in _pairwise_chunks(features, features, chunk):
        radii[start : start + len(distances)] = np.partition(distances, k, axis=1)[:, k]  # Index 0 is the row itself.
    return radii


def _coverage(points: np.ndarray, centres: np.ndarray, radii: np.ndarray, chunk: int) -> float:
    """Share of `points` within the radius of at least one centre."""
    inside = np.zeros(len(points), bool)
    for start, distances in _pairwise_chunks(points, centres, chunk):
        inside[start : start + len(distances)] = (distances <= radii[None, :]).any(1)
    return float(inside.mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3, chunk: int = 512) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of fake features against real ones.

    Each set's manifold is the union of balls around its rows reaching their
    `k`-th nearest neighbour. Precision is the share of fake rows inside the
    real manifold (fidelity), recall the share of real rows inside the fake
    manifold (diversity). Distances are computed `chunk` rows at a time, so
    memory is ``O(chunk * N)``.

    Args:
        real: ``[N_r, D]`` real features.
        fake: ``[N_f, D]`` generated features.
        k: the neighbour that sets each radius.
        chunk: rows per block of distances.

    Returns:
        ``(precision, recall)``, each in 0..1.
    """
    real, fake = _as_pair(real, fake, k + 1)
    real_radii, fake_radii = _knn_radii(real, k, chunk), _knn_radii(fake, k, chunk)
    return _coverage(fake, real, real_radii, chunk), _coverage(real, fake, fake_radii, chunk)


def compare(real: FeatureStats, fake: FeatureStats, metrics: Sequence[str], kid_subset_size: int = 1000, pr_k: int = 3) -> dict[str, float]:
    """The registered "samples" metrics `metrics` names (e.g. "fid"; "kid" gives "kid" and "kid_std",
    "pr" "precision" and "recall") of fake against real, in registration order.

    Raises:
        ValueError: a name that is not registered or not a "samples" metric (the message lists those that are).
    """
    results = {}
    for metric in resolve_metrics(metrics, kind="samples", user="compare"):
        results.update(metric.compute(real, fake, kid_subset_size=kid_subset_size, pr_k=pr_k))
    return results


class MetricsCallback(keras.callbacks.Callback):
    """Every `every` epochs, the metrics of `count` fresh samples against real statistics, added to ``logs``.

    Put it before `MetricsLog` / TensorBoard in the callback list: Keras hands
    the same ``logs`` dict to the callbacks in order, so the later ones record
    the values. It prints nothing.

    Args:
        sample_fn: ``count -> uint8 images [count, H, W, 3]``, e.g. for a GAN
            ``lambda n: to_uint8(model.sampler(...)).numpy()``.
        real_stats: `FeatureStats` of real images under the same extractor
            (with kept rows for "kid" and "pr").
        extractor: the `FeatureExtractor`.
        metrics: names of registered "samples" metrics (`shoes_generator.evaluation.registry`), e.g.
            "fid", "kid" (adds "kid", "kid_std"), "pr" (adds "precision", "recall").
        every: epochs between evaluations (at epochs ``every, 2 * every, ...``).
        count: samples per evaluation.
        batch_size: samples asked of `sample_fn` at a time.
        prefix: prepended to the log keys (e.g. "val_").
        prepare: called before each evaluation (e.g. a GAN's `refresh_sampler_statistics`).
    """

    def __init__(
        self,
        sample_fn: Callable[[int], np.ndarray],
        real_stats: FeatureStats,
        extractor: FeatureExtractor,
        metrics: Sequence[str] = ("fid",),
        every: int = 1,
        count: int = 2000,
        batch_size: int = 250,
        prefix: str = "",
        prepare: Callable[[], None] | None = None,
    ):
        super().__init__()
        metrics = tuple(metrics)
        if not metrics:
            raise ValueError("MetricsCallback needs at least one metric. Received: []")
        resolve_metrics(metrics, kind="samples", user="MetricsCallback")  # Raises for an unknown or unfit name.
        if every < 1 or count < 2 or batch_size < 1:
            raise ValueError(f"Need every >= 1, count >= 2, batch_size >= 1. Received: {every}, {count}, {batch_size}")
        self.sample_fn, self.real_stats, self.extractor = sample_fn, real_stats, extractor
        self.metrics, self.every, self.count, self.batch_size, self.prefix = metrics, int(every), int(count), int(batch_size), prefix
        self.prepare = prepare

    def _batches(self) -> Iterable[np.ndarray]:
        for start in range(0, self.count, self.batch_size):
            yield np.asarray(self.sample_fn(min(self.batch_size, self.count - start)))

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        if self.prepare is not None:
            self.prepare()
        fake = features_of(self._batches(), self.extractor, max_keep=self.count)
        results = compare(self.real_stats, fake, self.metrics)
        if logs is not None:
            logs.update({self.prefix + key: value for key, value in results.items()})
