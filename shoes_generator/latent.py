"""Latent-space exploration of exported generators: interpolations and attribute directions.

A generator is reached through a `LatentModel` (`open_model` picks it from the export's signatures):
- the ``z`` space of an export's ``from_latent`` signature (dcgan, conditional, ...): `LocalGenerator`
  loads a SavedModel in process, `ServedGenerator` asks a running ``shoes-serve`` (or TF Serving);
- the ``w`` space of a StyleGAN2 export (``mapping`` gives a seed's ``w``, optionally truncated by psi;
  ``synthesis`` draws a ``w``): `LocalStyleGenerator` and `ServedStyleGenerator`. A latent is one
  ``w_dim`` vector given to every synthesis layer, as for an unmixed shoe (see `_StyleRenderer`).
The same latents and labels give the same shoes locally and served.

- Interpolation: `lerp` / `slerp` between the latents of consecutive seeds (`seed_latents`: the exact
  noise ``serving_default`` draws for a seed, `noise_from_seeds`, or the seed's mapped ``w``),
  `interpolation_grid` and `save_gif`; ``slerp`` is the default in Gaussian ``z``, ``lerp`` in ``w``.
- Directions: measure an attribute (`ATTRIBUTES`: ``height`` = the foreground mask's vertical extent
  as a fraction of the image height, ``boot`` = the shoe classifier's ankle-boot probability) on many
  random latents ``z`` (or ``w``), regress it linearly on them (`fit_direction`), then walk new latents along the unit
  direction (`edit_grid`) and check that the attribute follows (`monotonic_share`,
  `mean_rank_correlation`). `explore_direction` does all of it. Any callable images -> values is an
  attribute too; `attribute_probe.meta_probe` builds one for a UT-Zappos meta-data column (e.g. heel
  height) from real images, and its description and held-out quality join the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from shoes_generator.families.stylegan2 import SIGNATURES as STYLEGAN2_SIGNATURES  # TensorFlow-free

Labels = Mapping[str, "str | Sequence[str]"]
DEFAULT_STRENGTHS = tuple(np.linspace(-3.0, 3.0, 7).tolist())
MONOTONIC_TOLERANCE = 1e-3


class LatentModel(Protocol):
    """A generator that renders latent vectors of its latent space: ``render(latents [B, latent_dim], labels) -> uint8 [B, H, W, 3]``.

    ``space`` is ``"z"`` (the Gaussian noise of an export's ``from_latent``) or ``"w"`` (a StyleGAN2
    export's intermediate latent: one ``w_dim`` vector given to every synthesis layer); ``latent_dim``
    is the length of one latent vector and ``interpolation`` the natural way between two of them.
    """

    space: str
    latent_dim: int
    interpolation: str
    vocabularies: dict[str, list[str]]

    def seed_latents(self, seeds: Sequence[int], labels: Labels | None = None) -> np.ndarray: ...

    def sample(self, rng: np.random.Generator, count: int, labels: Labels | None = None) -> np.ndarray: ...

    def render(self, latents: np.ndarray, labels: Labels | None = None) -> np.ndarray: ...


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
    """`given` completed with the first value of every vocabulary it leaves out; returns it and the defaulted names
    (sorted: a SavedModel's signature does not keep its inputs' order from one load to the next)."""
    labels = dict(given or {})
    defaulted = sorted(name for name in vocabularies if name not in labels)
    labels.update({name: vocabularies[name][0] for name in defaulted})
    label_batch(vocabularies, labels, 1)  # validates names and values
    return labels, defaulted


def _in_batches(function: Callable, batch_size: int, values: np.ndarray, labels: dict[str, np.ndarray], empty: tuple) -> np.ndarray:
    """``function(values, labels)`` on slices of `batch_size` examples, concatenated; ``zeros(empty)`` for no examples."""
    parts = [
        function(values[start : start + batch_size], {name: v[start : start + batch_size] for name, v in labels.items()})
        for start in range(0, len(values), batch_size)
    ]
    return np.concatenate(parts) if parts else np.zeros(empty, np.uint8)


def _check_latents(latents: np.ndarray, latent_dim: int, space: str) -> np.ndarray:
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim != 2 or latents.shape[1] != latent_dim:
        raise ValueError(f"{space} must be [B, {latent_dim}]. Received: shape={latents.shape}")
    return latents


class _LocalCalls:
    """Signature calls on a SavedModel loaded in process (``tf.saved_model.load``)."""

    def _load(self, saved_model_dir: str | Path, saved_model=None) -> None:
        import tensorflow as tf

        from shoes_generator.export import label_vocabularies

        self.source = str(saved_model_dir)
        self.saved_model = saved_model if saved_model is not None else tf.saved_model.load(self.source)
        self.signature_names = set(self.saved_model.signatures)
        self.vocabularies = label_vocabularies(self.saved_model)

    def _input_shape(self, signature: str, name: str) -> tuple:
        return tuple(self.saved_model.signatures[signature].structured_input_signature[1][name].shape)

    def _call(self, signature: str, inputs: dict[str, np.ndarray], output: str) -> np.ndarray:
        import tensorflow as tf

        tensors = {name: tf.constant(value.astype(str) if value.dtype == object else value) for name, value in inputs.items()}
        return self.saved_model.signatures[signature](**tensors)[output].numpy()

    def close(self) -> None:
        """Nothing to release (the model lives in process)."""


class _ServedCalls:
    """Signature calls on a served model (``shoes-serve`` or TF Serving) through `serving.client.ShoesClient`."""

    def _connect(self, target: str, name: str, client=None, **client_options) -> None:
        from serving.client import ShoesClient

        self.source = f"model {name!r} at {target}"
        self.client = client if client is not None else ShoesClient(target, model=name, **client_options)
        self._metadata = self.client.metadata()
        self.signature_names = set(self._metadata)
        self.vocabularies = self.client.labels()

    def _input_shape(self, signature: str, name: str) -> tuple:
        return tuple(self._metadata[signature]["inputs"][name]["shape"])

    def _call(self, signature: str, inputs: dict[str, np.ndarray], output: str) -> np.ndarray:
        return np.asarray(self.client.predict(inputs, signature_name=signature, output_filter=[output])[output])

    def close(self) -> None:
        self.client.close()


class _Renderer:
    """The ``z`` space of an export's ``from_latent`` signature; a subclass supplies `_call` and `_input_shape`."""

    space = "z"
    interpolation = "slerp"
    latent_dim: int
    vocabularies: dict[str, list[str]]
    batch_size: int = 64

    def _setup(self, batch_size: int) -> None:
        if "from_latent" not in self.signature_names:
            stylegan2 = " (a StyleGAN2 export explores w: open_model picks the generator for it)" if "synthesis" in self.signature_names else ""
            raise ValueError(f"{self.source} has no from_latent signature (is it a generator export?){stylegan2}")
        self.latent_dim = int(self._input_shape("from_latent", "z")[1])
        self.batch_size = batch_size

    def _render_batch(self, z: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self._call("from_latent", {"z": z, **labels}, "images"), dtype=np.uint8)

    def seed_latents(self, seeds: Sequence[int], labels: Labels | None = None) -> np.ndarray:
        """The exact noise ``serving_default`` draws for each seed (`seed_noise`; the labels do not change it)."""
        return seed_noise(seeds, self.latent_dim)

    def sample(self, rng: np.random.Generator, count: int, labels: Labels | None = None) -> np.ndarray:
        """`count` standard normal latents from `rng`."""
        return rng.standard_normal((count, self.latent_dim)).astype(np.float32)

    def render(self, z: np.ndarray, labels: Labels | None = None) -> np.ndarray:
        """``float32 [B, latent_dim]`` -> ``uint8 [B, H, W, 3]``; `labels`: name -> one string or B strings."""
        z = _check_latents(z, self.latent_dim, "z")
        return _in_batches(self._render_batch, self.batch_size, z, label_batch(self.vocabularies, labels, len(z)), (0, 0, 0, 3))


class _StyleRenderer:
    """The ``w`` space of a StyleGAN2 export: ``mapping`` gives a seed's ``w``, ``synthesis`` draws it.

    A latent is one ``w [w_dim]``, given to all ``num_ws`` synthesis layers as the export's
    ``serving_default`` does for an unmixed shoe (its mapped ``w`` is the same at every layer), so a
    seed's latent renders exactly that seed's shoe. Directions live in this ``w_dim`` space too and move
    every layer alike: a regression on the flattened ``[num_ws * w_dim]`` would see num_ws identical
    copies of each coordinate (unmixed samples span only this diagonal), and an edit that keeps the
    layers equal stays in ``W``, where the synthesis network was trained, instead of wandering in ``W+``.
    The labels choose the mapping's ``w`` (`seed_latents`, `sample`); `render` needs none.
    """

    space = "w"
    interpolation = "lerp"
    latent_dim: int
    num_ws: int
    truncation: float
    vocabularies: dict[str, list[str]]
    batch_size: int = 64

    def _setup(self, truncation: float | None, batch_size: int) -> None:
        missing = sorted({"mapping", "synthesis"} - self.signature_names)
        if missing:
            raise ValueError(f"{self.source} has no {' or '.join(missing)} signature (is it a StyleGAN2 export?)")
        self.num_ws, self.latent_dim = (int(size) for size in self._input_shape("synthesis", "w")[-2:])
        self.truncation = 1.0 if truncation is None else float(truncation)
        if not np.isfinite(self.truncation):
            raise ValueError(f"truncation must be a finite number. Received: {truncation}")
        self.batch_size = batch_size

    def _map_batch(self, seeds: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        truncation = np.full(len(seeds), self.truncation, np.float32)
        return np.asarray(self._call("mapping", {"seed": seeds, "truncation": truncation, **labels}, "w"), dtype=np.float32)

    def _synthesis_batch(self, w: np.ndarray, labels: dict[str, np.ndarray]) -> np.ndarray:
        ws = np.ascontiguousarray(np.broadcast_to(w[:, None, :], (len(w), self.num_ws, self.latent_dim)))
        return np.asarray(self._call("synthesis", {"w": ws}, "images"), dtype=np.uint8)

    def seed_latents(self, seeds: Sequence[int], labels: Labels | None = None) -> np.ndarray:
        """The ``w`` the ``mapping`` signature gives each seed with `labels` (truncated by ``truncation``): ``float32 [B, w_dim]``."""
        seeds = np.asarray(seeds, np.int64).reshape(-1)
        ws = _in_batches(self._map_batch, self.batch_size, seeds, label_batch(self.vocabularies, labels, len(seeds)),
                         (0, self.num_ws, self.latent_dim))
        return ws[:, 0, :].astype(np.float32)  # every layer holds the same w

    def sample(self, rng: np.random.Generator, count: int, labels: Labels | None = None) -> np.ndarray:
        """The ``w`` of `count` random seeds drawn from `rng`."""
        return self.seed_latents(rng.integers(0, 2**31, size=count, dtype=np.int64), labels)

    def render(self, w: np.ndarray, labels: Labels | None = None) -> np.ndarray:
        """``float32 [B, w_dim]`` (each given to every layer) -> ``uint8 [B, H, W, 3]``; `labels` are ignored (w holds them)."""
        w = _check_latents(w, self.latent_dim, "w")
        return _in_batches(self._synthesis_batch, self.batch_size, w, {}, (0, 0, 0, 3))


class LocalGenerator(_LocalCalls, _Renderer):
    """An exported generator loaded in process, called through ``from_latent`` (the ``z`` space)."""

    def __init__(self, saved_model_dir: str | Path, batch_size: int = 64, *, saved_model=None):
        self._load(saved_model_dir, saved_model)
        self._setup(batch_size)


class ServedGenerator(_ServedCalls, _Renderer):
    """A served generator (``shoes-serve`` or TF Serving) asked through `serving.client.ShoesClient` (the ``z`` space)."""

    def __init__(self, target: str, name: str = "shoes", batch_size: int = 64, *, client=None, **client_options):
        self._connect(target, name, client, **client_options)
        self._setup(batch_size)


class LocalStyleGenerator(_LocalCalls, _StyleRenderer):
    """A StyleGAN2 export loaded in process, explored in its ``w`` space (``truncation``: psi of ``mapping``, 1 = off)."""

    def __init__(self, saved_model_dir: str | Path, truncation: float | None = None, batch_size: int = 64, *, saved_model=None):
        self._load(saved_model_dir, saved_model)
        self._setup(truncation, batch_size)


class ServedStyleGenerator(_ServedCalls, _StyleRenderer):
    """A served StyleGAN2 model explored in its ``w`` space (``mapping`` and ``synthesis`` through the client)."""

    def __init__(self, target: str, name: str = "shoes", truncation: float | None = None, batch_size: int = 64, *, client=None,
                 **client_options):
        self._connect(target, name, client, **client_options)
        self._setup(truncation, batch_size)




def open_model(model: str | Path | None = None, server: str | None = None, name: str = "shoes", truncation: float | None = None) -> LatentModel:
    """The generator of a run directory (its ``saved_model/``), a SavedModel, or ``name`` on `server` (gRPC).

    The export's signatures choose the space: a StyleGAN2 export (``mapping``, ``synthesis``, ...) is
    explored in ``w`` (`LocalStyleGenerator`, `ServedStyleGenerator`), any other generator in ``z``
    through ``from_latent`` (`LocalGenerator`, `ServedGenerator`).

    Args:
        truncation: psi of the StyleGAN2 ``mapping`` (1 = off, the default); refused for a ``z`` model.
    """
    if server:
        from serving.client import ShoesClient

        client = ShoesClient(server, model=name)
        try:
            if STYLEGAN2_SIGNATURES <= set(client.metadata()):
                return ServedStyleGenerator(server, name, truncation, client=client)
            _no_truncation(truncation, f"model {name!r} at {server}")
            return ServedGenerator(server, name, client=client)
        except BaseException:
            client.close()
            raise
    if model is None:
        raise ValueError("Give a MODEL (run directory or SavedModel) or --server")
    path = Path(model)
    for candidate in (path / "saved_model", path):
        if (candidate / "saved_model.pb").is_file():
            import tensorflow as tf

            from shoes_generator.export.stylegan2 import is_stylegan2

            saved_model = tf.saved_model.load(str(candidate))
            if is_stylegan2(saved_model):
                return LocalStyleGenerator(candidate, truncation, saved_model=saved_model)
            _no_truncation(truncation, str(candidate))
            return LocalGenerator(candidate, saved_model=saved_model)
    raise ValueError(f"{path} is neither a run directory with saved_model/ nor a SavedModel directory")


def _no_truncation(truncation: float | None, source: str) -> None:
    if truncation is not None:
        raise ValueError(f"truncation (psi in w) applies to StyleGAN2 exports only; {source} is explored in z through from_latent")


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
    model: LatentModel, seeds: Sequence[int], steps: int = 8, method: str | None = None, labels: Labels | None = None
) -> np.ndarray:
    """Walks from each seed's latent to the next one's: ``uint8 [len(seeds) - 1, steps, H, W, 3]`` (endpoints included).

    The latents are the model's `seed_latents` (``z``: the seed's noise; ``w``: its mapped ``w``), so the
    endpoints are the seeds' ``serving_default`` shoes. `method` defaults to the model's ``interpolation``:
    ``slerp`` for Gaussian ``z``, ``lerp`` for ``w`` (not Gaussian; StyleGAN walks it linearly).
    """
    method = method or model.interpolation
    if len(seeds) < 2:
        raise ValueError(f"Interpolation needs at least two seeds. Received: {list(seeds)}")
    if steps < 2:
        raise ValueError(f"Interpolation needs at least two steps. Received: {steps}")
    if method not in INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {method!r}. Valid: {', '.join(INTERPOLATIONS)}")
    ends = model.seed_latents(seeds, labels)
    t = np.linspace(0.0, 1.0, steps)
    z = np.concatenate([INTERPOLATIONS[method](ends[i], ends[i + 1], t) for i in range(len(seeds) - 1)])
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
        z: ``[N, D]`` starting latents, or a sequence of int seeds (their `seed_latents`).
    """
    z = np.asarray(z)
    if z.ndim == 1:
        z = model.seed_latents(z.astype(np.int64), labels)
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
    """Fits the direction of an attribute in the model's latent space and checks that walking along it changes the attribute.

    Draws `samples` latents with numpy RNG `seed` (`model.sample`: standard normal ``z``, or the ``w`` of
    random seeds for a StyleGAN2, whose direction is then a ``w_dim`` vector moving every layer alike),
    renders and measures them, fits the direction on the first ``1 - holdout`` of them and scores the
    linear fit on the rest (``r2``), then edits `seeds` new latents by each of `strengths` and measures
    again. A strength counts standard deviations of the latents along the direction: 1 in ``z`` (standard
    normal), the spread of the sampled ``w`` projected on the direction in ``w`` (``strength_unit``).

    Returns:
        ``attribute, samples, seeds, latent_space, latent_dim, labels, r2, train_r2, effect_per_std`` (attribute change
        per unit strength predicted by the fit), ``strength_unit, attribute_mean, attribute_std, strengths, values``
        ``[seeds, strengths]``,
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
    z = model.sample(rng, samples, labels)
    values = render_all(model, z, labels, measure)
    train, test = slice(0, samples - held), slice(samples - held, samples)
    coefficients, intercept = fit_linear(z[train], values[train])
    try:
        direction, found = unit_direction(coefficients), True
    except ValueError:  # a constant attribute (e.g. an untrained model that draws no shoe): nothing to steer
        direction, found = np.zeros(model.latent_dim, np.float32), False
    unit = 1.0 if model.space == "z" or not found else float(np.std(z @ direction.astype(np.float64))) or 1.0
    starts = model.sample(rng, seeds, labels)
    images = edit_grid(model, starts, direction, np.asarray(strengths, np.float64) * unit, labels)
    edited = np.asarray(measure(images.reshape((-1,) + images.shape[2:])), np.float64).reshape(seeds, len(strengths))
    return {
        "attribute": name,
        "samples": samples,
        "seeds": seeds,
        "latent_space": model.space,
        "latent_dim": model.latent_dim,
        **({"num_ws": model.num_ws, "truncation": model.truncation} if model.space == "w" else {}),
        "labels": {name: value if isinstance(value, str) else list(value) for name, value in (labels or {}).items()},
        "r2": r2_score(values[test], z[test] @ coefficients + intercept),
        "train_r2": r2_score(values[train], z[train] @ coefficients + intercept),
        "effect_per_std": float(np.linalg.norm(coefficients)) * unit,
        "strength_unit": unit,
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
