"""Exports a trained generator as a SavedModel with named, string-labelled signatures.

Signatures (all inputs and outputs named; images leave as uint8 and PNG bytes):
- ``serving_default``: ``seed`` int64 [B] (+ one string [B] input per label)
  -> ``images`` uint8 [B, H, W, 3], ``image_bytes`` string [B]. The noise of
  each example comes from a stateless RNG keyed by its seed, so the same seed
  and labels give the same image in any batch.
- ``from_latent``: ``z`` float32 [B, latent_dim] (+ labels) -> the same outputs.
- ``labels``: no input -> one string vector per label vocabulary.
Unknown label strings fail with INVALID_ARGUMENT naming the valid values.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

from shoes_generator.data.pipeline import to_uint8
from shoes_generator.labels import Vocabularies


def noise_from_seeds(seeds: tf.Tensor, latent_dim: int) -> tf.Tensor:
    """``int64 [B]`` seeds -> ``float32 [B, latent_dim]`` standard normal noise, one stateless draw per seed."""
    seeds = tf.cast(seeds, tf.int64)
    return tf.map_fn(
        lambda seed: tf.random.stateless_normal([latent_dim], seed=tf.stack([seed, tf.constant(0, tf.int64)])),
        seeds,
        fn_output_signature=tf.float32,
    )


class _LabelIds(tf.Module):
    """String label -> int id tables that fail on unknown values."""

    def __init__(self, vocabularies: Vocabularies):
        super().__init__()
        self.vocabularies = vocabularies
        self.tables = vocabularies.lookup_tables()

    def __call__(self, name: str, values: tf.Tensor) -> tf.Tensor:
        ids = self.tables[name].lookup(values)
        valid = ", ".join(self.vocabularies.values(name))
        check = tf.debugging.assert_non_negative(ids, message=f"Unknown {name} label. Valid {name} labels: {valid}")
        with tf.control_dependencies([check]):
            return tf.identity(ids)


def _outputs(images: tf.Tensor) -> dict[str, tf.Tensor]:
    pixels = to_uint8(images)
    if pixels.shape[-1] == 1:
        pixels = tf.image.grayscale_to_rgb(pixels)
    png = tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.string)
    return {"images": pixels, "image_bytes": png}


def export_generator(
    generator: keras.Model,
    latent_dim: int,
    vocabularies: Vocabularies | None,
    label_names: tuple[str, ...],
    path: str | Path,
) -> Path:
    """Writes the SavedModel at `path` (built in a temporary folder, then renamed into place).

    Args:
        generator: the (EMA) generator: ``z`` or ``{"z", <label> ids}`` -> images in [-1, 1].
        latent_dim: noise size.
        vocabularies: label vocabularies (None for unconditional generators).
        label_names: the generator's label inputs.
        path: the SavedModel directory to create; must not exist.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"Export destination already exists: {str(path)!r}")
    archive = keras.export.ExportArchive()
    archive.track(generator)
    lookups = _LabelIds(vocabularies) if label_names else None
    if lookups is not None:
        archive.track(lookups)
    label_specs = {name: tf.TensorSpec([None], tf.string, name=name) for name in label_names}

    def generate(z, labels):
        inputs = {"z": z, **{name: lookups(name, labels[name]) for name in label_names}} if label_names else z
        return _outputs(generator(inputs, training=False))

    seed_spec = {"seed": tf.TensorSpec([None], tf.int64, name="seed"), **label_specs}
    latent_spec = {"z": tf.TensorSpec([None, latent_dim], tf.float32, name="z"), **label_specs}
    archive.add_endpoint(
        "serving_default",
        lambda inputs: generate(noise_from_seeds(inputs["seed"], latent_dim), inputs),
        input_signature=[seed_spec],
    )
    archive.add_endpoint("from_latent", lambda inputs: generate(inputs["z"], inputs), input_signature=[latent_spec])
    if vocabularies is not None and label_names:
        archive.add_endpoint(
            "labels", lambda: {name: tf.constant(vocabularies.values(name)) for name in label_names}, input_signature=[]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        archive.write_out(str(staging / "model"), verbose=False)
        os.replace(staging / "model", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path
