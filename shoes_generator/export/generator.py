"""Exports trained generators as SavedModels that TF Serving serves as they are.

Generators (`export_generator`; all inputs and outputs named, images leave as
uint8 and PNG bytes):
- ``serving_default``: ``seed`` int64 [B] (+ one string [B] input per label)
  -> ``images`` uint8 [B, H, W, 3], ``image_bytes`` string [B]. Each
  example's noise comes from a stateless RNG keyed by its seed, so the same
  seed and labels give the same image in any batch.
- ``truncated``: the same plus ``truncation`` float32 [B] (BigGAN's truncation
  trick; 0 = off). A signature of its own rather than an input with a
  SignatureDef default: TF Serving's batching refuses a [1]-shaped default
  beside [B]-shaped inputs.
- ``from_latent``: ``z`` float32 [B, latent_dim] (+ labels) -> the same outputs.
- ``labels``: ``name`` string [K] -> ``values`` string [K, V] (padded with "")
  and ``counts`` int64 [K]: the vocabulary of each named label. (TF Serving's
  REST API cannot call a signature without inputs.)
Image-to-image models (`export_routes`, one ``Route`` per signature):
- ``serving_default``: ``<input>_bytes`` string [B] (PNG or JPEG, any size) ->
  the same outputs; ``from_pixels``: ``<input>`` uint8 [B, H, W, 3].
Unknown labels and bad values fail with INVALID_ARGUMENT naming the valid ones.
Every export carries ``assets.extra/tf_serving_warmup_requests``.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.data.pipeline import decode_image, fit_image, to_float, to_uint8
from shoes_generator.labels import Vocabularies
from shoes_generator.warmup import WarmupRequest, write_warmup_requests

TRUNCATION_CANDIDATES = 8


def noise_from_seeds(seeds: tf.Tensor, latent_dim: int, truncation: tf.Tensor | None = None) -> tf.Tensor:
    """``int64 [B]`` seeds -> ``float32 [B, latent_dim]`` standard normal noise, one stateless draw per seed.

    Args:
        seeds: one seed per example.
        latent_dim: noise size.
        truncation: optional ``float32 [B]`` thresholds (BigGAN's truncation trick): components whose
            magnitude exceeds a positive threshold are redrawn (from further stateless draws of the
            same seed, then clipped); 0 leaves the noise untouched.
    """
    seeds = tf.cast(seeds, tf.int64)

    def draw(seed):
        rounds = tf.range(TRUNCATION_CANDIDATES if truncation is not None else 1, dtype=tf.int64)
        return tf.map_fn(
            lambda r: tf.random.stateless_normal([latent_dim], seed=tf.stack([seed, r])), rounds, fn_output_signature=tf.float32
        )

    candidates = tf.map_fn(draw, seeds, fn_output_signature=tf.float32)  # [B, R, latent_dim]
    if truncation is None:
        return candidates[:, 0]
    limit = tf.reshape(tf.cast(truncation, tf.float32), [-1, 1, 1])
    limit = tf.where(limit > 0, limit, tf.constant(np.inf, tf.float32))
    inside = tf.abs(candidates) <= limit
    first_inside = tf.argmax(tf.cast(inside, tf.int32), axis=1)  # 0 when none is inside: then clip.
    chosen = tf.gather(tf.transpose(candidates, [0, 2, 1]), first_inside, batch_dims=2)
    return tf.clip_by_value(chosen, -limit[:, :, 0], limit[:, :, 0])


class _LabelIds(tf.Module):
    """String label -> int id tables that fail on unknown values, plus the padded vocabularies."""

    def __init__(self, vocabularies: Vocabularies, label_names: tuple[str, ...]):
        super().__init__()
        self.vocabularies = vocabularies
        self.label_names = label_names
        self.tables = vocabularies.lookup_tables()
        width = max(len(vocabularies.values(name)) for name in label_names)
        self.padded = tf.constant([list(vocabularies.values(name)) + [""] * (width - len(vocabularies.values(name))) for name in label_names])
        self.counts = tf.constant([len(vocabularies.values(name)) for name in label_names], tf.int64)
        self.names = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(tf.constant(list(label_names)), tf.range(len(label_names), dtype=tf.int64)), -1
        )

    def __call__(self, name: str, values: tf.Tensor) -> tf.Tensor:
        ids = self.tables[name].lookup(values)
        valid = ", ".join(self.vocabularies.values(name))
        check = tf.debugging.assert_non_negative(ids, message=f"Unknown {name} label. Valid {name} labels: {valid}")
        with tf.control_dependencies([check]):
            return tf.identity(ids)

    def vocabulary_rows(self, names: tf.Tensor) -> dict[str, tf.Tensor]:
        """``string [K]`` label names -> their padded vocabularies and sizes."""
        rows = self.names.lookup(names)
        valid = ", ".join(self.label_names)
        check = tf.debugging.assert_non_negative(rows, message=f"Unknown label name. Valid label names: {valid}")
        with tf.control_dependencies([check]):
            rows = tf.identity(rows)
        return {"values": tf.gather(self.padded, rows), "counts": tf.gather(self.counts, rows)}


def image_outputs(images: tf.Tensor) -> dict[str, tf.Tensor]:
    """Model images in [-1, 1] -> ``images`` uint8 RGB and ``image_bytes`` PNG strings."""
    pixels = to_uint8(images)
    if pixels.shape[-1] == 1:
        pixels = tf.image.grayscale_to_rgb(pixels)
    png = tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.string)
    return {"images": pixels, "image_bytes": png}


def _endpoint(body: Callable[[dict], dict], specs: list[tf.TensorSpec]):
    """A function of named tensor arguments (one per spec, in order) that calls `body` with them as a dict.

    Separate named arguments (not one dict) keep the SignatureDef's input names exactly the specs' names.
    """
    signature = inspect.Signature([inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for spec in specs])

    def endpoint(*args, **kwargs):
        return body(dict(signature.bind(*args, **kwargs).arguments))

    endpoint.__signature__ = signature
    return endpoint


def write_archive(archive: keras.export.ExportArchive, path: str | Path, warmup: list[WarmupRequest] = ()) -> Path:
    """Writes `archive` (plus its warm-up requests) to a temporary folder beside `path`, then renames it into place.

    Args:
        archive: the endpoints to write.
        path: the SavedModel directory to create; must not exist.
        warmup: requests replayed by TF Serving when it loads the model.

    Raises:
        FileExistsError: `path` exists.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"Export destination already exists: {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        archive.write_out(str(staging / "model"), verbose=False)
        if warmup:
            write_warmup_requests(staging / "model", warmup)
        os.replace(staging / "model", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _check_positive(values: tf.Tensor, name: str) -> tf.Tensor:
    check = tf.debugging.assert_greater_equal(values, tf.constant(0.0), message=f"{name} must be >= 0 (0 turns it off)")
    finite = tf.debugging.assert_all_finite(values, f"{name} must be a finite number")
    with tf.control_dependencies([check, finite]):
        return tf.identity(values)


def export_generator(
    generator: keras.Model,
    latent_dim: int,
    vocabularies: Vocabularies | None,
    label_names: tuple[str, ...],
    path: str | Path,
) -> Path:
    """Writes the generator's SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        generator: the (EMA) generator: ``z`` or ``{"z", <label> ids}`` -> images in [-1, 1].
        latent_dim: noise size.
        vocabularies: label vocabularies (None for unconditional generators).
        label_names: the generator's label inputs.
        path: the SavedModel directory to create; must not exist.
    """
    archive = keras.export.ExportArchive()
    archive.track(generator)
    lookups = _LabelIds(vocabularies, label_names) if label_names else None
    if lookups is not None:
        archive.track(lookups)
    label_specs = [tf.TensorSpec([None], tf.string, name=name) for name in label_names]

    def generate(z, inputs):
        model_inputs = {"z": z, **{name: lookups(name, inputs[name]) for name in label_names}} if label_names else z
        return image_outputs(generator(model_inputs, training=False))

    def truncated(inputs):
        truncation = _check_positive(inputs["truncation"], "truncation")
        truncation = tf.broadcast_to(truncation, tf.shape(inputs["seed"]))
        return generate(noise_from_seeds(inputs["seed"], latent_dim, truncation), inputs)

    seed_specs = [tf.TensorSpec([None], tf.int64, name="seed"), *label_specs]
    archive.add_endpoint(
        "serving_default", _endpoint(lambda inputs: generate(noise_from_seeds(inputs["seed"], latent_dim), inputs), seed_specs),
        input_signature=seed_specs,
    )
    truncated_specs = [*seed_specs, tf.TensorSpec([None], tf.float32, name="truncation")]
    archive.add_endpoint("truncated", _endpoint(truncated, truncated_specs), input_signature=truncated_specs)
    latent_specs = [tf.TensorSpec([None, latent_dim], tf.float32, name="z"), *label_specs]
    archive.add_endpoint("from_latent", _endpoint(lambda inputs: generate(inputs["z"], inputs), latent_specs), input_signature=latent_specs)
    if lookups is not None:
        name_spec = [tf.TensorSpec([None], tf.string, name="name")]
        archive.add_endpoint("labels", _endpoint(lambda inputs: lookups.vocabulary_rows(inputs["name"]), name_spec), input_signature=name_spec)
    return write_archive(archive, path, generator_warmup(vocabularies, label_names, latent_dim))


def generator_warmup(vocabularies: Vocabularies | None, label_names: tuple[str, ...], latent_dim: int) -> list[WarmupRequest]:
    """A few requests that touch every generator signature at two batch sizes."""
    requests = []
    for batch in (1, 4):
        labels = {name: np.resize(np.asarray(vocabularies.values(name)), batch) for name in label_names}
        seeds = {"seed": np.arange(batch, dtype=np.int64), **labels}
        requests.append(WarmupRequest("serving_default", seeds))
        requests.append(WarmupRequest("truncated", {**seeds, "truncation": np.full(batch, 0.5, np.float32)}))
        requests.append(WarmupRequest("from_latent", {"z": np.zeros((batch, latent_dim), np.float32), **labels}))
    if label_names:
        requests.append(WarmupRequest("labels", {"name": np.asarray(list(label_names))}))
    return requests


@dataclasses.dataclass(frozen=True)
class Route:
    """One image-to-image function to serve.

    Attributes:
        fn: fitted inputs (images float32 in [-1, 1], scalars float32 [B]) -> images in [-1, 1].
        images: the image inputs and their channels (a mask has 1).
        scalars: extra float32 [B] inputs, e.g. ``("alpha",)``.
    """

    fn: Callable[[dict[str, tf.Tensor]], tf.Tensor]
    images: tuple[tuple[str, int], ...] = (("image", 3),)
    scalars: tuple[str, ...] = ()


def export_routes(routes: dict[str, Route], image_size: int, path: str | Path, trackables: list) -> Path:
    """Writes image-to-image signatures at `path` (temporary folder, then renamed into place).

    Each route ``R`` becomes two signatures: ``R`` takes encoded images
    (``<input>_bytes`` string [B], PNG or JPEG of any size, fitted to `image_size`
    with white padding; masks padded as background) and ``R_pixels`` takes
    ``uint8 [B, H, W, C]`` arrays; the route named ``serving_default`` gets
    ``from_pixels`` for its second. Both answer ``images`` and ``image_bytes``.

    Args:
        routes: signature name -> what it computes.
        image_size: the models' input size.
        path: the SavedModel directory to create; must not exist.
        trackables: the models (and modules) the routes use.
    """
    archive = keras.export.ExportArchive()
    for trackable in trackables:
        archive.track(trackable)
    warmup = []
    for name, route in routes.items():
        pixels_name = "from_pixels" if name == "serving_default" else f"{name}_pixels"

        def body(suffix: str, decode: Callable[[tf.Tensor, int], tf.Tensor], route=route) -> Callable[[dict], dict]:
            """The route over its image inputs ``<key><suffix>``, each decoded, then fitted (masks padded as background)."""

            def fitted(value, channels):
                return fit_image(to_float(decode(value, channels)), image_size, pad_value=-1.0 if channels == 1 else 1.0)

            def run(inputs):
                images = {
                    key: tf.map_fn(lambda value, c=channels: fitted(value, c), inputs[key + suffix], fn_output_signature=tf.float32)
                    for key, channels in route.images
                }
                return image_outputs(route.fn({**images, **{key: inputs[key] for key in route.scalars}}))

            return run

        from_bytes, from_pixels = body("_bytes", decode_image), body("", lambda image, channels: image)
        scalar_specs = [tf.TensorSpec([None], tf.float32, name=key) for key in route.scalars]
        byte_specs = [tf.TensorSpec([None], tf.string, name=f"{key}_bytes") for key, _ in route.images] + scalar_specs
        pixel_specs = [tf.TensorSpec([None, None, None, c], tf.uint8, name=key) for key, c in route.images] + scalar_specs
        archive.add_endpoint(name, _endpoint(from_bytes, byte_specs), input_signature=byte_specs)
        archive.add_endpoint(pixels_name, _endpoint(from_pixels, pixel_specs), input_signature=pixel_specs)
        scalars = {key: np.full([1], 0.5, np.float32) for key in route.scalars}
        blanks = {key: np.full((1, image_size, image_size, c), 255, np.uint8) for key, c in route.images}
        encoded = {f"{key}_bytes": np.asarray([tf.io.encode_png(blank[0]).numpy()], object) for key, blank in blanks.items()}
        warmup += [WarmupRequest(name, {**encoded, **scalars}), WarmupRequest(pixels_name, {**blanks, **scalars})]
    return write_archive(archive, path, warmup)


def export_cyclegan(model, image_size: int, path: str | Path) -> Path:
    """Writes a CycleGAN's two directions and its design-language blend at `path`.

    Signatures: ``serving_default`` (A -> B), ``b_to_a``, and ``blend`` (A -> B
    with ``alpha`` float32 [B]: every residual block of G_AB adds ``alpha``
    times its change, so 1 is exactly the full translation and smaller values
    weaken it inside the network, where one coherent shoe is rendered rather
    than two images ghosting; 0 is G_AB's encoder-decoder without its residual
    translation, a path no loss trained to reproduce A); each also as
    ``*_pixels`` / ``from_pixels`` with uint8 inputs.

    Args:
        model: the trained `CycleGAN`.
        image_size: the generators' input size.
        path: the SavedModel directory to create; must not exist.
    """
    from shoes_generator.models.resnet_generator import with_alpha

    blend = with_alpha(model.generator_ab)
    images = (("image", int(model.generator_ab.input_shape[-1])),)  # 3, or 1 for a grey CycleGAN.
    routes = {
        "serving_default": Route(lambda x: model.generator_ab(x["image"], training=False), images),
        "b_to_a": Route(lambda x: model.generator_ba(x["image"], training=False), images),
        "blend": Route(lambda x: blend({"image": x["image"], "alpha": x["alpha"]}, training=False), images, scalars=("alpha",)),
    }
    return export_routes(routes, image_size, path, [model.generator_ab, model.generator_ba, blend])


def _label_names(saved_model) -> list[str]:
    """The label names of a loaded generator: the string inputs of its ``serving_default``."""
    spec = saved_model.signatures["serving_default"].structured_input_signature[1]
    return [name for name, tensor in spec.items() if tensor.dtype == tf.string]


def label_vocabularies(saved_model) -> dict[str, list[str]]:
    """Label name -> vocabulary of a loaded generator, from its ``labels`` signature (``{}`` when it has none)."""
    if "labels" not in saved_model.signatures:
        return {}
    names = _label_names(saved_model)
    out = saved_model.signatures["labels"](name=tf.constant(names))
    return {
        name: [v.decode() for v in row[:count]] for name, row, count in zip(names, out["values"].numpy(), out["counts"].numpy())
    }


def sample(saved_model, seeds, labels: dict[str, np.ndarray] | None = None, truncation: float = 0.0) -> dict[str, tf.Tensor]:
    """Calls a loaded generator in process: ``serving_default``, or ``truncated`` when `truncation` is set.

    Args:
        saved_model: the loaded SavedModel.
        seeds: int64 seeds, one per image.
        labels: label name -> string values, one per image.
        truncation: the truncation threshold for every image (0 = off).
    """
    inputs = {"seed": tf.constant(np.asarray(seeds, np.int64)), **{name: tf.constant(values) for name, values in (labels or {}).items()}}
    if not truncation:
        return saved_model.signatures["serving_default"](**inputs)
    truncations = tf.fill(tf.shape(inputs["seed"]), tf.constant(float(truncation), tf.float32))
    return saved_model.signatures["truncated"](truncation=truncations, **inputs)
