"""StyleGAN2 exports: seeds and labels to shoes, the ``w`` space, style mixing and inversion.

Signatures (`export_stylegan2`; named inputs and outputs, images leave as uint8 and PNG bytes):
- ``serving_default``: ``seed`` int64 [B] (+ one string [B] input per label) -> ``images``, ``image_bytes``.
- ``truncated``: the same plus ``truncation`` float32 [B]: psi, the truncation trick in ``w`` toward the
  average ``w`` of the example's labels (1 = off, 0.7 a usual choice). A signature of its own, as the
  other generators' ``truncated``: TF Serving's batching refuses a [1]-shaped default beside [B] inputs.
- ``mapping``: ``seed``, labels, ``truncation`` -> ``w`` float32 [B, num_ws, w_dim].
- ``synthesis``: ``w`` float32 [B, num_ws, w_dim] -> ``images``, ``image_bytes``.
- ``mix``: ``seed`` + labels (the coarse shoe), ``style_seed`` + ``style_<label>`` (the shoe giving the
  fine layers: details and colours), ``crossover`` int64 [B] (the first layer taken from the style shoe:
  0 = all of it, num_ws = none) and ``truncation`` -> ``images``, ``image_bytes``.
- ``invert``: ``image_bytes`` string [B] (a photo, PNG or JPEG of any size, fitted to the square with
  white padding) -> ``w`` float32 [B, num_ws, w_dim] and its reconstruction ``images``, ``image_bytes``:
  the designer's own sneaker as a latent (`shoes_generator.gans.inversion`: the nearest label
  combination's average ``w``, then a fixed number of Adam steps in ``W+``).
- ``labels``: ``name`` string [K] -> ``values`` string [K, V], ``counts`` int64 [K] (conditional models).
Same seed and labels, same shoe, in any batch (stateless noise per seed, constant synthesis noise).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from shoes_generator.export.generator import LabelIds, labels_signature, noise_from_seeds
from shoes_generator.export.generator import label_inputs as generator_label_inputs
from shoes_generator.export.inputs import ImageInput, TensorInput
from shoes_generator.export.signatures import Signature, export_signatures, image_outputs, named_outputs
from shoes_generator.families.stylegan2 import SIGNATURES, STYLE_PREFIX
from shoes_generator.gans.stylegan2 import crossover, label_combination_ids
from shoes_generator.labels import Vocabularies



class StyleTables(tf.Module):
    """The average ``w`` of every label combination (truncation's centres), looked up by label ids.

    Args:
        average_w: ``float32 [combinations, w_dim]`` (`StyleGAN2.average_w`).
        label_sizes: label name -> vocabulary size, in the mixed-radix order of the rows.
    """

    def __init__(self, average_w: np.ndarray, label_sizes: dict[str, int]):
        super().__init__()
        self.average_w = tf.Variable(np.asarray(average_w, np.float32), trainable=False, name="average_w")
        self.label_sizes = dict(label_sizes)

    def rows(self, ids: dict[str, tf.Tensor], batch: tf.Tensor) -> tf.Tensor:
        """The average ``w`` of each example's label combination: ``[B, w_dim]``."""
        return tf.gather(self.average_w, label_combination_ids(ids, self.label_sizes, batch))


def check_finite(values: tf.Tensor, name: str) -> tf.Tensor:
    """`values`, failing with INVALID_ARGUMENT when one is not finite."""
    with tf.control_dependencies([tf.debugging.assert_all_finite(values, f"{name} must be a finite number")]):
        return tf.identity(values)


def check_crossover(values: tf.Tensor, num_ws: int) -> tf.Tensor:
    """`values` (``int64 [B]``), failing with INVALID_ARGUMENT outside ``[0, num_ws]``."""
    message = f"crossover must lie in [0, {num_ws}] (the first of the {num_ws} synthesis layers taken from the style shoe)"
    checks = [
        tf.debugging.assert_greater_equal(values, tf.constant(0, tf.int64), message=message),
        tf.debugging.assert_less_equal(values, tf.constant(num_ws, tf.int64), message=message),
    ]
    with tf.control_dependencies(checks):
        return tf.identity(values)


def stylegan2_signatures(
    model, vocabularies: Vocabularies | None, lookups: LabelIds | None, tables: StyleTables, invert_steps: int, invert_lr: float
) -> list[Signature]:
    """The signatures of the module docstring for a trained `StyleGAN2` (its EMA networks).

    Args:
        model: the trained `shoes_generator.gans.stylegan2.StyleGAN2`.
        vocabularies: label vocabularies (None for an unconditional model).
        lookups: the label tables (None without labels).
        tables: the average ``w`` per label combination.
        invert_steps: Adam steps of ``invert``.
        invert_lr: their step size.
    """
    label_names, latent_dim, num_ws = model.label_names, model.latent_dim, model.num_ws
    batches = (1, 4)

    def label_inputs(prefix: str = "") -> tuple[TensorInput, ...]:
        return generator_label_inputs(vocabularies, label_names, lookups, prefix, shift=1 if prefix else 0)

    seed = TensorInput("seed", tf.int64, example_fn=lambda batch: np.arange(batch, dtype=np.int64))
    style_seed = TensorInput("style_seed", tf.int64, example_fn=lambda batch: np.arange(batch, dtype=np.int64) + 100)
    truncation = TensorInput(
        "truncation", tf.float32, example_fn=lambda batch: np.full(batch, 0.7, np.float32),
        decode_fn=lambda values: check_finite(values, "truncation"),
    )
    crossover_input = TensorInput(
        "crossover", tf.int64, example_fn=lambda batch: np.full(batch, num_ws // 2, np.int64),
        decode_fn=lambda values: check_crossover(values, num_ws),
    )
    w = TensorInput("w", tf.float32, (num_ws, model.w_dim), example_fn=lambda batch: np.zeros((batch, num_ws, model.w_dim), np.float32))

    def ws_of(inputs, prefix="", psi=None):
        seeds = inputs[prefix + "seed"]
        ids = {name: inputs[prefix + name] for name in label_names}
        z = noise_from_seeds(seeds, latent_dim)
        if psi is None:
            return model.ws(z, ids)
        psi = tf.broadcast_to(psi, tf.shape(seeds))
        return model.ws(z, ids, truncation=psi, w_avg=tables.rows(ids, tf.shape(seeds)[0]))

    def mix(inputs):
        psi = inputs["truncation"]
        ws = ws_of(inputs, psi=psi)
        style_ws = ws_of(inputs, STYLE_PREFIX, psi=psi)
        layer = tf.broadcast_to(inputs["crossover"], tf.shape(inputs["seed"]))
        return model.synthesize(crossover(ws, style_ws, layer))

    def invert(inputs):
        ws = model.invert(inputs["image"], tables.average_w, invert_steps, invert_lr)
        return {"w": ws, **image_outputs(model.synthesize(ws))}

    size, _, channels = model.image_shape
    photo = ImageInput("image", size, channels, "bytes")
    signatures = [
        Signature("serving_default", (seed, *label_inputs()), lambda x: model.synthesize(ws_of(x)), image_outputs, batches),
        Signature("truncated", (seed, *label_inputs(), truncation), lambda x: model.synthesize(ws_of(x, psi=x["truncation"])),
                  image_outputs, batches),
        Signature("mapping", (seed, *label_inputs(), truncation), lambda x: {"w": ws_of(x, psi=x["truncation"])}, named_outputs, batches),
        Signature("synthesis", (w,), lambda x: model.synthesize(x["w"]), image_outputs, batches),
        Signature("mix", (seed, *label_inputs(), style_seed, *label_inputs(STYLE_PREFIX), crossover_input, truncation), mix,
                  image_outputs, batches),
        Signature("invert", (photo,), invert, named_outputs, (1,)),
    ]
    if label_names:
        signatures.append(labels_signature(label_names, lookups))
    return signatures


def export_stylegan2(
    model, vocabularies: Vocabularies | None, path: str | Path, invert_steps: int = 100, invert_lr: float = 0.05,
    average_w_samples: int = 512,
) -> Path:
    """Writes a trained `StyleGAN2`'s SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        model: the trained `StyleGAN2` (its EMA mapping and synthesis networks are served).
        vocabularies: label vocabularies (None for an unconditional model).
        path: the SavedModel directory to create; must not exist.
        invert_steps: Adam steps of the ``invert`` signature.
        invert_lr: their step size.
        average_w_samples: latents per label combination behind the truncation centres.
    """
    label_names = model.label_names
    lookups = LabelIds(vocabularies, label_names) if label_names else None
    tables = StyleTables(model.average_w(average_w_samples), {name: model.label_sizes[name] for name in label_names})
    trackables: list = [*model.sampler_networks, tables] + ([lookups] if lookups is not None else [])
    signatures = stylegan2_signatures(model, vocabularies, lookups, tables, invert_steps, invert_lr)
    return export_signatures(signatures, path, trackables)


def is_stylegan2(saved_model) -> bool:
    """Whether a loaded SavedModel has the StyleGAN2 signatures (``mapping``, ``synthesis``, ``mix``, ``invert``)."""
    return SIGNATURES <= set(saved_model.signatures)


__all__ = ["STYLE_PREFIX", "StyleTables", "export_stylegan2", "is_stylegan2", "stylegan2_signatures"]
