"""Image-to-image exports (pix2pix, CycleGAN): one `Route` per function, two signatures per route.

A route ``R`` is served as ``R`` (``<input>_bytes`` string [B], PNG or JPEG of
any size) and ``R_pixels`` (``<input>`` uint8 [B, H, W, C]); the route named
``serving_default`` gets ``from_pixels`` for its second. Both answer ``images``
uint8 [B, S, S, 3] and ``image_bytes`` PNG string [B].
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from shoes_generator.export.inputs import ImageInput, TensorInput
from shoes_generator.export.signatures import Signature, export_signatures, image_outputs


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


def pixels_signature_name(name: str) -> str:
    """The uint8 twin of route `name`: ``from_pixels`` for ``serving_default``, else ``<name>_pixels``."""
    return "from_pixels" if name == "serving_default" else f"{name}_pixels"


def route_signatures(name: str, route: Route, image_size: int) -> list[Signature]:
    """Route `name` as its two signatures: encoded images, then uint8 pixels (one batch-1 warm-up each)."""
    scalars = tuple(TensorInput(key, tf.float32, example_fn=lambda batch: np.full([batch], 0.5, np.float32)) for key in route.scalars)
    signatures = []
    for signature_name, encoding in ((name, "bytes"), (pixels_signature_name(name), "pixels")):
        images = tuple(ImageInput(key, image_size, channels, encoding) for key, channels in route.images)
        signatures.append(Signature(signature_name, images + scalars, route.fn, image_outputs))
    return signatures


def export_routes(routes: dict[str, Route], image_size: int, path: str | Path, networks: Sequence) -> Path:
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
        networks: the models (and modules) the routes use.
    """
    signatures = [signature for name, route in routes.items() for signature in route_signatures(name, route, image_size)]
    return export_signatures(signatures, path, networks)


def cyclegan_routes(model) -> tuple[dict[str, Route], list]:
    """A CycleGAN's routes (``serving_default`` A -> B, ``b_to_a``, ``blend`` with ``alpha``) and the networks they use."""
    from shoes_generator.models.resnet_generator import with_alpha

    blend = with_alpha(model.generator_ab)
    images = (("image", int(model.generator_ab.input_shape[-1])),)  # 3, or 1 for a grey CycleGAN.
    routes = {
        "serving_default": Route(lambda x: model.generator_ab(x["image"], training=False), images),
        "b_to_a": Route(lambda x: model.generator_ba(x["image"], training=False), images),
        "blend": Route(lambda x: blend({"image": x["image"], "alpha": x["alpha"]}, training=False), images, scalars=("alpha",)),
    }
    return routes, [model.generator_ab, model.generator_ba, blend]


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
    routes, networks = cyclegan_routes(model)
    return export_routes(routes, image_size, path, networks)
