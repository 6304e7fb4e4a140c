"""Generator exports: seeds, noise or labels in, images out.

Signatures (`export_generator`; all inputs and outputs named, images leave as
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
Unknown labels and bad values fail with INVALID_ARGUMENT naming the valid ones.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from shoes_generator.export.inputs import TensorInput
from shoes_generator.export.signatures import Signature, export_signatures, image_outputs, named_outputs
from shoes_generator.labels import Vocabularies

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


class LabelIds(tf.Module):
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


def check_non_negative(values: tf.Tensor, name: str) -> tf.Tensor:
    """`values`, failing with INVALID_ARGUMENT when one is negative or not finite."""
    check = tf.debugging.assert_greater_equal(values, tf.constant(0.0), message=f"{name} must be >= 0 (0 turns it off)")
    finite = tf.debugging.assert_all_finite(values, f"{name} must be a finite number")
    with tf.control_dependencies([check, finite]):
        return tf.identity(values)


def generator_signatures(
    sampler: keras.Model | None,
    latent_dim: int,
    vocabularies: Vocabularies | None,
    label_names: tuple[str, ...],
    lookups: LabelIds | None,
) -> list[Signature]:
    """The generator's signatures (see the module docstring), warmed up at batch sizes 1 and 4.

    Args:
        sampler: ``z`` or ``{"z", <label> ids}`` -> images in [-1, 1].
        latent_dim: noise size.
        vocabularies: label vocabularies (None for unconditional generators).
        label_names: the generator's label inputs.
        lookups: the label tables (None without labels).
    """
    batches = (1, 4)
    labels = label_inputs(vocabularies, label_names, lookups)
    seed = TensorInput("seed", tf.int64, example_fn=lambda batch: np.arange(batch, dtype=np.int64))
    truncation = TensorInput(
        "truncation", tf.float32, example_fn=lambda batch: np.full(batch, 0.5, np.float32),
        decode_fn=lambda values: check_non_negative(values, "truncation"),
    )
    z = TensorInput("z", tf.float32, (latent_dim,), example_fn=lambda batch: np.zeros((batch, latent_dim), np.float32))

    def generate(noise, inputs):
        model_inputs = {"z": noise, **{name: inputs[name] for name in label_names}} if label_names else noise
        return sampler(model_inputs, training=False)

    def truncated(inputs):
        limits = tf.broadcast_to(inputs["truncation"], tf.shape(inputs["seed"]))
        return generate(noise_from_seeds(inputs["seed"], latent_dim, limits), inputs)

    signatures = [
        Signature("serving_default", (seed, *labels), lambda x: generate(noise_from_seeds(x["seed"], latent_dim), x), image_outputs, batches),
        Signature("truncated", (seed, *labels, truncation), truncated, image_outputs, batches),
        Signature("from_latent", (z, *labels), lambda x: generate(x["z"], x), image_outputs, batches),
    ]
    if label_names:
        signatures.append(labels_signature(label_names, lookups))
    return signatures


def label_inputs(vocabularies: Vocabularies, label_names, lookups: LabelIds, prefix: str = "", shift: int = 0) -> tuple[TensorInput, ...]:
    """One string input per label, mapped to checked ids by `lookups` (an unknown value is INVALID_ARGUMENT).

    Args:
        vocabularies: the label vocabularies (their values are the warm-up examples).
        label_names: the labels, in input order.
        lookups: the label tables.
        prefix: prepended to each wire name (e.g. ``"style_"``); the lookup uses the bare name.
        shift: rolls the warm-up examples by this many values (a second shoe of other labels).
    """
    return tuple(
        TensorInput(
            prefix + name,
            tf.string,
            example_fn=lambda batch, name=name: np.roll(np.resize(np.asarray(vocabularies.values(name)), batch), shift),
            decode_fn=lambda values, name=name: lookups(name, values),
        )
        for name in label_names
    )


def labels_signature(label_names, lookups: LabelIds) -> Signature:
    """``labels``: ``name`` string [K] -> each label's padded vocabulary ``values`` and ``counts``."""
    names = TensorInput("name", tf.string, fixed=np.asarray(list(label_names)))
    return Signature("labels", (names,), lambda x: lookups.vocabulary_rows(x["name"]), named_outputs)


def export_generator(
    sampler: keras.Model,
    latent_dim: int,
    vocabularies: Vocabularies | None,
    label_names: tuple[str, ...],
    path: str | Path,
) -> Path:
    """Writes the generator's SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        sampler: the (EMA) generator: ``z`` or ``{"z", <label> ids}`` -> images in [-1, 1].
        latent_dim: noise size.
        vocabularies: label vocabularies (None for unconditional generators).
        label_names: the generator's label inputs.
        path: the SavedModel directory to create; must not exist.
    """
    lookups = LabelIds(vocabularies, label_names) if label_names else None
    signatures = generator_signatures(sampler, latent_dim, vocabularies, label_names, lookups)
    return export_signatures(signatures, path, [sampler] + ([lookups] if lookups is not None else []))


def _label_names(saved_model) -> list[str]:
    """The label names of a loaded generator: the string inputs of its ``serving_default`` that are not encoded
    images (``*_bytes``, as a pattern model's ``pattern_bytes``)."""
    spec = saved_model.signatures["serving_default"].structured_input_signature[1]
    return [name for name, tensor in spec.items() if tensor.dtype == tf.string and not name.endswith("_bytes")]


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
