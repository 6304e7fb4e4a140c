"""The export layer: served signatures described once, built into a SavedModel with its warm-up records.

A family describes each signature as a `Signature` (name, `ServingInput`s, the
function over decoded inputs, and how its result becomes named outputs);
`export_signatures` builds every endpoint (named inputs, exactly the specs'
names), writes ``assets.extra/tf_serving_warmup_requests`` from the inputs'
examples, and moves the SavedModel into place atomically.

Output encoders shared by the families:
- `image_outputs`: images in [-1, 1] -> ``images`` uint8 [B, H, W, 3] and ``image_bytes`` PNG string [B].
- `class_map_outputs`: logits [B, S, S, C] -> ``classes`` uint8 [B, S, S] and ``mask_bytes`` single-channel PNG string [B].
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

import keras
import tensorflow as tf

from shoes_generator.data.pipeline import to_uint8
from shoes_generator.export.inputs import ServingInput
from shoes_generator.warmup import WarmupRequest, write_warmup_requests


def image_outputs(images: tf.Tensor) -> dict[str, tf.Tensor]:
    """Model images in [-1, 1] -> ``images`` uint8 RGB and ``image_bytes`` PNG strings."""
    pixels = to_uint8(images)
    if pixels.shape[-1] == 1:
        pixels = tf.image.grayscale_to_rgb(pixels)
    png = tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.string)
    return {"images": pixels, "image_bytes": png}


def mask_scale(num_classes: int) -> int:
    """The factor that spreads class indices over 0-255 in the mask PNGs."""
    return 255 // max(1, num_classes - 1)


def class_map_outputs(logits: tf.Tensor) -> dict[str, tf.Tensor]:
    """Logits ``[B, S, S, C]`` -> ``classes`` uint8 [B, S, S] and ``mask_bytes``, PNGs of ``class * mask_scale(C)``."""
    scale = mask_scale(int(logits.shape[-1]))
    classes = tf.cast(tf.argmax(logits, axis=-1), tf.uint8)
    masks = tf.map_fn(lambda c: tf.io.encode_png((c * scale)[..., None]), classes, fn_output_signature=tf.string)
    return {"classes": classes, "mask_bytes": masks}


def named_outputs(outputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The function already answers its named outputs."""
    return outputs


@dataclasses.dataclass(frozen=True)
class Signature:
    """One served signature.

    Attributes:
        name: the SignatureDef key (``serving_default``, ``from_pixels``, ``segment``...).
        inputs: its inputs, in order; each spec's name is a wire input name.
        fn: the decoded inputs, keyed by each input's ``name`` -> the model's result.
        outputs: the result -> named output tensors (`image_outputs`, `class_map_outputs`, `named_outputs`).
        warmup_batches: the batch sizes of its warm-up requests (one request when an input's example is fixed).
    """

    name: str
    inputs: tuple[ServingInput, ...]
    fn: Callable[[dict[str, tf.Tensor]], Any]
    outputs: Callable[[Any], dict[str, tf.Tensor]] = image_outputs
    warmup_batches: tuple[int, ...] = (1,)

    def __call__(self, served: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Served tensors keyed by wire name -> the named outputs."""
        decoded = {item.name: item.decode(served[item.spec.name]) for item in self.inputs}
        return self.outputs(self.fn(decoded))

    @property
    def specs(self) -> list[tf.TensorSpec]:
        return [item.spec for item in self.inputs]

    def endpoint(self) -> Callable:
        """A function of named tensor arguments (one per spec, in order) answering the named outputs.

        Separate named arguments (not one dict) keep the SignatureDef's input names exactly the specs' names.
        """
        signature = inspect.Signature([inspect.Parameter(spec.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for spec in self.specs])

        def endpoint(*args, **kwargs):
            return self(dict(signature.bind(*args, **kwargs).arguments))

        endpoint.__signature__ = signature
        return endpoint

    def warmup(self, batch: int) -> WarmupRequest:
        return WarmupRequest(self.name, {item.spec.name: item.example(batch) for item in self.inputs})


def warmup_requests(signatures: Sequence[Signature]) -> list[WarmupRequest]:
    """The warm-up records of `signatures`: each batch size in turn (smallest first) over every signature
    that asks for it, then one request for each signature whose examples do not depend on the batch."""
    fixed = [s for s in signatures if s.warmup_batches and not all(item.batched for item in s.inputs)]
    batched = [s for s in signatures if s not in fixed]
    requests = [
        s.warmup(batch) for batch in sorted({b for s in batched for b in s.warmup_batches}) for s in batched if batch in s.warmup_batches
    ]
    return requests + [s.warmup(min(s.warmup_batches)) for s in fixed]


def write_archive(archive: keras.export.ExportArchive, path: str | Path, warmup: Sequence[WarmupRequest] = ()) -> Path:
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
            write_warmup_requests(staging / "model", list(warmup))
        os.replace(staging / "model", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def export_signatures(signatures: Sequence[Signature], path: str | Path, trackables: Sequence = ()) -> Path:
    """Writes a SavedModel serving `signatures` at `path` (built in a temporary folder, then renamed into place).

    A lone signature is also served as ``serving_default`` (Keras's ExportArchive adds it).

    Args:
        signatures: what to serve; names must be unique.
        path: the SavedModel directory to create; must not exist.
        trackables: the models and modules (lookup tables...) the signatures use.

    Raises:
        ValueError: two signatures share a name.
        FileExistsError: `path` exists.
    """
    names = [s.name for s in signatures]
    if len(set(names)) != len(names):
        raise ValueError(f"Signature names must be unique. Received: {names}")
    archive = keras.export.ExportArchive()
    for trackable in trackables:
        archive.track(trackable)
    for signature in signatures:
        archive.add_endpoint(signature.name, signature.endpoint(), input_signature=signature.specs)
    return write_archive(archive, path, warmup_requests(signatures))
