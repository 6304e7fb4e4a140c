"""Latent-space exploration of exported generators: interpolations and attribute directions.

A generator is reached through a `LatentModel`: `LocalGenerator` loads a SavedModel in process,
`ServedGenerator` asks a running ``shoes-serve`` (or TF Serving); both call the export's
``from_latent`` signature, so the same ``z`` and labels give the same shoes either way.

- Interpolation: `lerp` / `slerp` between the noise of consecutive seeds (`noise_from_seeds`, the
  exact noise ``serving_default`` draws for a seed), `interpolation_grid` and `save_gif`.
- Directions: measure an attribute (`ATTRIBUTES`: ``height`` = the foreground mask's vertical extent
  as a fraction of the image height, ``boot`` = the shoe classifier's ankle-boot probability) on many
  random ``z``, regress it linearly on ``z`` (`fit_direction`), then walk new ``z`` along the unit
  direction (`edit_grid`) and check that the attribute follows (`monotonic_share`,
  `mean_rank_correlation`). `explore_direction` does all of it. Any callable images -> values is an
  attribute too; `attribute_probe.meta_probe` builds one for a UT-Zappos meta-data column (e.g. heel
  height) from real images, and its description and held-out quality join the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

Labels = Mapping[str, "str | Sequence[str]"]
DEFAULT_STRENGTHS = tuple(np.linspace(-3.0, 3.0, 7).tolist())
MONOTONIC_TOLERANCE = 1e-3


class LatentModel(Protocol):
    """A generator that renders latent vectors: ``render(z [B, latent_dim], labels) -> uint8 [B, H, W, 3]``."""

    latent_dim: int
    vocabularies: dict[str, list[str]]

    def render(self, z: np.ndarray, labels: Labels | None = None) -> np.ndarray: ...


def label_batch(vocabularies: Mapping[str, Sequence[str]], labels: Labels | None, batch: int) -> dict[str, np.ndarray]:
    """Label name -> ``object`` array of `batch` strings; a single string is repeated for every example.

    Raises:
        ValueError: a label missing, unknown, of the wrong length or with an unknown value (lists the valid ones).
    """
    labels = dict(labels or {})
    unknown = sorted(set(labels) - set(vocabularies))
    if unknown:
        raise ValueError(f"Unknown label(s) {', '.join(unknown)}. This model's labels: {', '.join(vocabularies) or '(none)'}")
    missing = [name for name in vocabularies if name not in labels]
    if missing:
        raise ValueError(f"This model needs the label(s) {', '.join(missing)} (e.g. {missing[0]}={vocabularies[missing[0]][0]})")
    batched = {}
    for name, value in labels.items():
        values = [value] * batch if isinstance(value, str) else list(value)
        if len(values) != batch:
            raise ValueError(f"Label {name} has {len(values)} values for {batch} latent vectors")
        bad = sorted(set(values) - set(vocabularies[name]))
        if bad:
            raise ValueError(f"Unknown {name} {bad[0]!r}. Valid {name} values: {', '.join(vocabularies[name])}")
        batched[name] = np.array(values, dtype=object)
    return batched


def resolve_labels(vocabularies: Mapping[str, Sequence[str]], given: Mapping[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """`given` completed with the first value of every vocabulary it leaves out; returns it and the defaulted names."""
    labels = dict(given or {})
    defaulted = [name for name in vocabularies if name not in labels]
    labels.update({name: vocabularies[name][0] for name in defaulted})
    label_batch(vocabularies, labels, 1)  # validates names and values
    return labels, defaulted


class _Renderer:
    """Batching and label checks shared by the backends; a subclass implements `_render_batch`."""

    latent_dim: int
    vocabularies: dict[str, list[str]]
    batch_size: int = 64

    def _render_batch(self, z: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def render(self, z: np.ndarray, labels: Labels | None = None) -> np.ndarray:
        """``float32 [B, latent_dim]`` -> ``uint8 [B, H, W, 3]``; `labels`: name -> one string or B strings."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be [B, {self.latent_dim}]. Received: shape={z.shape}")
        batched = label_batch(self.vocabularies, labels, len(z))
        parts = [
            self._render_batch(z[start : start + self.batch_size], {n: v[start : start + self.batch_size] for n, v in batched.items()})
            for start in range(0, len(z), self.batch_size)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, 0, 0, 3), np.uint8)


class LocalGenerator(_Renderer):
    """An exported generator loaded in process (``tf.saved_model.load``), called through ``from_latent``."""

    def __init__(self, saved_model_dir: str | Path, batch_size: int = 64):
        import tensorflow as tf

        from shoes_generator.export import label_vocabularies

        self.saved_model = tf.saved_model.load(str(saved_model_dir))
        if "from_latent" not in self.saved_model.signatures:
            raise ValueError(f"{saved_model_dir} has no from_latent signature (is it a generator export?)")
        self._signature = self.saved_model.signatures["from_latent"]
        self.latent_dim = int(self._signature.structured_input_signature[1]["z"].shape[1])
        self.vocabularies = label_vocabularies(self.saved_model)
        self.batch_size = batch_size

    def _render_batch(self, z, labels):
        import tensorflow as tf

        inputs = {name: tf.constant(values.astype(str)) for name, values in labels.items()}
        return self._signature(z=tf.constant(z), **inputs)["images"].numpy()


class ServedGenerator(_Renderer):
    """A served generator (``shoes-serve`` or TF Serving) asked through `serving.client.ShoesClient`."""

    def __init__(self, target: str, name: str = "shoes", batch_size: int = 64, **client_options):
        from serving.client import ShoesClient

        self.client = ShoesClient(target, model=name, **client_options)
        signatures = self.client.metadata()
        if "from_latent" not in signatures:
            raise ValueError(f"Model {name!r} at {target} has no from_latent signature")
        self.latent_dim = int(signatures["from_latent"]["inputs"]["z"]["shape"][1])
        self.vocabularies = self.client.labels()
        self.batch_size = batch_size

    def _render_batch(self, z, labels):
        outputs = self.client.predict({"z": z, **labels}, signature_name="from_latent", output_filter=["images"])
        return np.asarray(outputs["images"], dtype=np.uint8)

    def close(self) -> None:
        self.client.close()


def open_model(model: str | Path | None = None, server: str | None = None, name: str = "shoes") -> LatentModel:
    """`ServedGenerator` when `server` is given, else `LocalGenerator` of a run directory (its ``saved_model/``) or SavedModel."""
    if server:
        return ServedGenerator(server, name)
    if model is None:
        raise ValueError("Give a MODEL (run directory or SavedModel) or --server")
    path = Path(model)
    for candidate in (path / "saved_model", path):
        if (candidate / "saved_model.pb").is_file():
            return LocalGenerator(candidate)
    raise ValueError(f"{path} is neither a run directory with saved_model/ nor a SavedModel directory")


def image_size(model: LatentModel, labels: Labels | None = None) -> int:
    """The side of the model's square images (renders one ``z = 0``)."""
    return int(model.render(np.zeros((1, model.latent_dim), np.float32), labels).shape[1])


# --- interpolation ---------------------------------------------------------------------------------


def lerp(z0: np.ndarray, z1: np.ndarray, t) -> np.ndarray:
    """Linear interpolation; `t` scalar or ``[T]`` -> ``[D]`` or ``[T, D]``."""
    t = np.asarray(t, dtype=np.float64)[..., None]
    return ((1 - t) * np.asarray(z0, np.float64) + t * np.asarray(z1, np.float64)).astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, t, eps: float = 1e-6) -> np.ndarray:
    """Spherical interpolation (along the great circle, norms interpolated linearly); `lerp` for near-parallel vectors."""
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 < eps or n1 < eps:
        return lerp(z0, z1, t)
    cos = np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < eps:
        return lerp(z0, z1, t)
    t = np.asarray(t, dtype=np.float64)[..., None]
    unit = (np.sin((1 - t) * omega) * z0 / n0 + np.sin(t * omega) * z1 / n1) / np.sin(omega)
    return (unit * ((1 - t) * n0 + t * n1)).astype(np.float32)


INTERPOLATIONS: dict[str, Callable] = {"lerp": lerp, "slerp": slerp}


def seed_noise(seeds: Sequence[int], latent_dim: int) -> np.ndarray:
    """The exact noise ``serving_default`` draws for each seed, ``float32 [len(seeds), latent_dim]``."""
    import tensorflow as tf

    from shoes_generator.export import noise_from_seeds

    return noise_from_seeds(tf.constant(np.asarray(seeds, np.int64)), latent_dim).numpy()


def interpolation_grid(
    model: LatentModel, seeds: Sequence[int], steps: int = 8, method: str = "slerp", labels: Labels | None = None
) -> np.ndarray:
    """Walks from each seed's noise to the next one's: ``uint8 [len(seeds) - 1, steps, H, W, 3]`` (endpoints included)."""
    if len(seeds) < 2:
        raise ValueError(f"Interpolation needs at least two seeds. Received: {list(seeds)}")
    if steps < 2:
        raise ValueError(f"Interpolation needs at least two steps. Received: {steps}")
    if method not in INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {method!r}. Valid: {', '.join(INTERPOLATIONS)}")
    noise = seed_noise(seeds, model.latent_dim)
    t = np.linspace(0.0, 1.0, steps)
    z = np.concatenate([INTERPOLATIONS[method](noise[i], noise[i + 1], t) for i in range(len(seeds) - 1)])
    images = model.render(z, labels)
    return images.reshape((len(seeds) - 1, steps) + images.shape[1:])


def animation_frames(grid: np.ndarray) -> np.ndarray:
    """An interpolation grid ``[P, T, H, W, 3]`` as one path of frames (each shared endpoint once)."""
    return np.concatenate([grid[0]] + [row[1:] for row in grid[1:]])


def save_gif(frames: np.ndarray, path: str | Path, fps: float = 8.0, min_side: int = 128) -> Path:
    """Writes ``uint8 [N, H, W, 3]`` frames as a GIF looping forever, upscaled (nearest) to at least `min_side`.

    Pillow merges consecutive identical frames into one longer frame.
    """
    from PIL import Image

    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim != 4 or not len(frames):
        raise ValueError(f"save_gif expects frames [N, H, W, C]. Received: shape={frames.shape}")
    scale = max(1, -(-min_side // min(frames.shape[1:3])))
    pictures = [Image.fromarray(frame.squeeze()).resize((frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST) for frame in frames]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=max(1, round(1000 / fps)), loop=0)
    return path


# --- attributes ------------------------------------------------------------------------------------


def shoe_height(images: np.ndarray) -> np.ndarray:
    """The shoe's height as a fraction of the image height: the vertical extent of the foreground mask.

    The background is read from the image border (`shoes_generator.imaging.masks`), so light shoes on
    black (Fashion-MNIST) and coloured shoes on white both work. An image without foreground gives 0.
    """
    from shoes_generator.imaging.masks import foreground_mask

    images = np.asarray(images, dtype=np.uint8)
    heights = np.zeros(len(images), dtype=np.float64)
    for i, image in enumerate(images):
        rows = np.flatnonzero(foreground_mask(image).any(axis=1))
        if rows.size:
            heights[i] = (rows[-1] - rows[0] + 1) / image.shape[0]
    return heights


_CLASSIFIERS: dict[int, object] = {}


def boot_probability(images: np.ndarray, classifier=None, batch_size: int = 256) -> np.ndarray:
    """The shoe classifier's softmax probability of ``ankle_boot`` per image.

    Args:
        images: ``uint8 [B, S, S, 3]``.
        classifier: a keras model images -> logits over ``CATEGORY_NAMES``; default the cached
            `load_or_train_classifier(S)` (trained first, about a minute, when absent).
    """
    from shoes_generator.data.fmnist import CATEGORY_NAMES

    images = np.asarray(images, dtype=np.uint8)
    if classifier is None:
        size = images.shape[1]
        if size not in _CLASSIFIERS:
            from shoes_generator.evaluation.classifier import load_or_train_classifier

            _CLASSIFIERS[size] = load_or_train_classifier(size)[0]
        classifier = _CLASSIFIERS[size]
    from scipy.special import softmax

    logits = np.asarray(classifier.predict(images, batch_size=batch_size, verbose=0), dtype=np.float64)
    return softmax(logits, axis=1)[:, list(CATEGORY_NAMES).index("ankle_boot")]


ATTRIBUTES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"height": shoe_height, "boot": boot_probability}


# --- directions ------------------------------------------------------------------------------------


def fit_linear(z: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares ``values ~ z @ coefficients + intercept``; returns ``(coefficients [D], intercept)``."""
    z = np.asarray(z, np.float64)
    design = np.hstack([z, np.ones((len(z), 1))])
    solution, *_ = np.linalg.lstsq(design, np.asarray(values, np.float64), rcond=None)
    return solution[:-1], float(solution[-1])


def fit_direction(z: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The unit vector along which `values` grow fastest under a linear fit on `z` (with intercept).

    Raises:
        ValueError: the attribute does not vary linearly with z (all coefficients zero).
    """
    return unit_direction(fit_linear(z, values)[0])


def unit_direction(coefficients: np.ndarray) -> np.ndarray:
    """`coefficients` of a linear fit scaled to unit length (float32).

    Raises:
        ValueError: all coefficients zero (the attribute does not vary with z).
    """
    norm = np.linalg.norm(coefficients)
    if not norm > 1e-12:
        raise ValueError("The attribute does not vary with z (constant values); no direction to fit")
    return (coefficients / norm).astype(np.float32)


def r2_score(values: np.ndarray, predicted: np.ndarray) -> float | None:
    """Coefficient of determination; None when `values` are constant."""
    values, predicted = np.asarray(values, np.float64), np.asarray(predicted, np.float64)
    total = np.sum((values - values.mean()) ** 2)
    return None if total <= 0 else float(1 - np.sum((values - predicted) ** 2) / total)


def edit_grid(
    model: LatentModel, z: np.ndarray, direction: np.ndarray, strengths: Sequence[float], labels: Labels | None = None
) -> np.ndarray:
    """Renders ``z + s * direction`` for every row of `z` and strength: ``uint8 [len(z), len(strengths), H, W, 3]``.

    Args:
        z: ``[N, D]`` starting latents, or a sequence of int seeds (their `seed_noise`).
    """
    z = np.asarray(z)
    if z.ndim == 1:
        z = seed_noise(z.astype(np.int64), model.latent_dim)
    strengths = np.asarray(strengths, np.float32)
    edited = z[:, None, :].astype(np.float32) + strengths[None, :, None] * np.asarray(direction, np.float32)[None, None, :]
    images = model.render(edited.reshape(-1, z.shape[1]), labels)
    return images.reshape((len(z), len(strengths)) + images.shape[1:])


def monotonic_share(values: np.ndarray, tolerance: float = MONOTONIC_TOLERANCE) -> float:
    """The share of rows of ``values [seeds, strengths]`` that never drop by more than `tolerance`."""
    values = np.asarray(values, np.float64)
    return float(np.mean(np.all(np.diff(values, axis=1) >= -tolerance, axis=1))) if len(values) else 0.0


def mean_rank_correlation(values: np.ndarray) -> float:
    """Mean Spearman correlation between each row of ``values [seeds, strengths]`` and the strength order (constant rows count 0)."""
    from scipy.stats import rankdata

    values = np.asarray(values, np.float64)
    order = np.arange(values.shape[1], dtype=np.float64)
    correlations = []
    for row in values:
        ranks = rankdata(row)
        correlations.append(0.0 if np.ptp(ranks) == 0 else float(np.corrcoef(ranks, order)[0, 1]))
    return float(np.mean(correlations)) if correlations else 0.0


def render_all(model: LatentModel, z: np.ndarray, labels: Labels | None, measure: Callable[[np.ndarray], np.ndarray], batch: int = 256) -> np.ndarray:
    """Renders `z` in batches and measures every image (without holding all images at once)."""
    return np.concatenate([np.asarray(measure(model.render(z[i : i + batch], labels)), np.float64) for i in range(0, len(z), batch)])


def explore_direction(
    model: LatentModel,
    attribute: str | Callable[[np.ndarray], np.ndarray],
    samples: int = 1000,
    seeds: int = 8,
    strengths: Sequence[float] = DEFAULT_STRENGTHS,
    labels: Labels | None = None,
    seed: int = 0,
    holdout: float = 0.2,
) -> dict:
    """Fits the direction of an attribute in z and checks that walking along it changes the attribute.

    Draws `samples` standard normal latents (numpy RNG `seed`), renders and measures them, fits the
    direction on the first ``1 - holdout`` of them and scores the linear fit on the rest (``r2``),
    then edits `seeds` new latents by each of `strengths` (in standard deviations of z) and measures again.

    Returns:
        ``attribute, samples, seeds, latent_dim, labels, r2, train_r2, effect_per_std`` (attribute change per unit
        strength predicted by the fit), ``attribute_mean, attribute_std, strengths, values`` ``[seeds, strengths]``,
        ``mean_by_strength, direction_found, monotonic_share, mean_rank_correlation`` (JSON-ready; when the
        attribute is constant over the samples, ``direction_found`` is False, the direction is zero and
        ``r2``, ``monotonic_share`` and ``mean_rank_correlation`` are None), plus ``direction`` ``[D]`` and
        ``images`` ``uint8 [seeds, strengths, H, W, 3]`` (numpy); ``probe`` (its `describe()`) when the
        attribute is an `attribute_probe.AttributeProbe`.
    """
    measure = ATTRIBUTES[attribute] if isinstance(attribute, str) and attribute in ATTRIBUTES else attribute
    name = attribute if isinstance(attribute, str) else getattr(attribute, "name", None) or getattr(attribute, "__name__", "custom")
    if not callable(measure):
        raise ValueError(f"Unknown attribute {attribute!r}. Valid: {', '.join(ATTRIBUTES)}")
    held = int(round(samples * holdout))
    if samples - held < 2 or held < 2:
        raise ValueError(f"samples={samples} leaves too few latents to fit and to score the direction")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((samples, model.latent_dim)).astype(np.float32)
    values = render_all(model, z, labels, measure)
    train, test = slice(0, samples - held), slice(samples - held, samples)
    coefficients, intercept = fit_linear(z[train], values[train])
    try:
        direction, found = unit_direction(coefficients), True
    except ValueError:  # a constant attribute (e.g. an untrained model that draws no shoe): nothing to steer
        direction, found = np.zeros(model.latent_dim, np.float32), False
    starts = rng.standard_normal((seeds, model.latent_dim)).astype(np.float32)
    images = edit_grid(model, starts, direction, strengths, labels)
    edited = np.asarray(measure(images.reshape((-1,) + images.shape[2:])), np.float64).reshape(seeds, len(strengths))
    return {
        "attribute": name,
        "samples": samples,
        "seeds": seeds,
        "latent_dim": model.latent_dim,
        "labels": {name: value if isinstance(value, str) else list(value) for name, value in (labels or {}).items()},
        "r2": r2_score(values[test], z[test] @ coefficients + intercept),
        "train_r2": r2_score(values[train], z[train] @ coefficients + intercept),
        "effect_per_std": float(np.linalg.norm(coefficients)),
        "attribute_mean": float(values.mean()),
        "attribute_std": float(values.std()),
        "strengths": [float(s) for s in strengths],
        "values": np.round(edited, 6).tolist(),
        "mean_by_strength": np.round(edited.mean(axis=0), 6).tolist(),
        "direction_found": found,
        "monotonic_share": monotonic_share(edited) if found else None,
        "mean_rank_correlation": mean_rank_correlation(edited) if found else None,
        **({"probe": measure.describe()} if hasattr(measure, "describe") else {}),
        "direction": direction,
        "images": images,
    }
