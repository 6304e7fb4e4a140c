"""Exports trained models as SavedModels that TF Serving serves as they are.

One layer for every family:
- `inputs`: serving inputs and their decoding into the model's input
  (`ImageInput`: encoded bytes of any size and format, or uint8 pixels, images
  or masks, fitted to the square with white padding, masks with background;
  `TensorInput`: seeds, noise, labels, scalars).
- `signatures`: `Signature` (name, inputs, function, outputs) and
  `export_signatures`, which builds every endpoint and the warm-up records
  (``assets.extra/tf_serving_warmup_requests``); the output encoders
  `image_outputs` (``images`` uint8, ``image_bytes`` PNG) and
  `class_map_outputs` (``classes`` uint8, ``mask_bytes`` PNG).
Families declare their signatures with them:
- `generator`: `export_generator` (``serving_default``, ``truncated``,
  ``from_latent``, ``labels``), `sample`, `label_vocabularies`, `noise_from_seeds`.
- `translator`: `Route` and `export_routes` (each route as encoded bytes and
  ``*_pixels`` / ``from_pixels``), `export_cyclegan` (``serving_default``,
  ``b_to_a``, ``blend``).
- `shoes_generator.segmentation.export`: `export_segmenter` (``segment``,
  ``serving_default``, ``class_names``).
"""

from shoes_generator.export.generator import (
    TRUNCATION_CANDIDATES,
    LabelIds,
    export_generator,
    generator_signatures,
    label_vocabularies,
    noise_from_seeds,
    sample,
)
from shoes_generator.export.inputs import ImageInput, ServingInput, TensorInput, fit_encoded, fit_pixels, pad_value
from shoes_generator.export.signatures import (
    Signature,
    class_map_outputs,
    export_signatures,
    image_outputs,
    mask_scale,
    named_outputs,
    warmup_requests,
    write_archive,
)
from shoes_generator.export.translator import Route, cyclegan_routes, export_cyclegan, export_routes, route_signatures

__all__ = [
    "TRUNCATION_CANDIDATES",
    "ImageInput",
    "LabelIds",
    "Route",
    "ServingInput",
    "Signature",
    "TensorInput",
    "class_map_outputs",
    "cyclegan_routes",
    "export_cyclegan",
    "export_generator",
    "export_routes",
    "export_signatures",
    "fit_encoded",
    "fit_pixels",
    "generator_signatures",
    "image_outputs",
    "label_vocabularies",
    "mask_scale",
    "named_outputs",
    "noise_from_seeds",
    "pad_value",
    "route_signatures",
    "sample",
    "warmup_requests",
    "write_archive",
]
