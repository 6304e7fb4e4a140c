"""A thin client for the shoe generators behind TF Serving (or ``shoes-serve``), without TensorFlow.

`ShoesClient` speaks gRPC, `RestClient` (in ``serving.rest_client``, importable from here too)
the REST API; both offer the same methods and share everything but the sending::

    with ShoesClient("localhost:8500") as client:
        shoes = client.generate(4, seed=0, color="red", category="sneaker")  # PIL images
        print(client.labels())  # {"category": [...], "color": [...]}
        shoe = client.for_model("pattern").pattern("leopard_bag.jpg", category="ankle_boot", seed=3)
        mask, shot = client.for_model("photo2shot").extract("worn.jpg")  # another model, same channel

Failed calls raise `ServingError` with TF Serving's status name and message. Calls that find the
server UNAVAILABLE are retried with exponential backoff; every call has a deadline.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
import time
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import grpc
import numpy as np
from PIL import Image

from serving import part_maps, wire

MiB = 1 << 20
DEFAULT_SIGNATURE = "serving_default"
MAX_CLASSES = 256  # class indices travel as uint8 pixel values


class ServingError(Exception):
    """A failed call.

    Args:
        code: the gRPC status name, e.g. ``"INVALID_ARGUMENT"``.
        message: the server's message.
    """

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code, self.message = code, message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def generate_inputs(n: int, seed: int, truncation: float | None, labels: Mapping[str, object]) -> dict[str, np.ndarray]:
    """The ``serving_default`` inputs for `n` shoes: seeds ``seed..seed+n-1`` and one string per label and shoe.

    Args:
        n: number of shoes, >= 1.
        seed: first seed.
        truncation: sent as a float32 ``truncation`` input when not None.
        labels: label name -> one value for every shoe, or a sequence of `n` values.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer. Received: n={n!r}")
    inputs = {"seed": np.arange(seed, seed + n, dtype=np.int64)}
    for name, value in labels.items():
        values = [value] * n if isinstance(value, (str, bytes)) else list(value)
        if len(values) != n:
            raise ValueError(f"Label {name!r} needs one value or {n} values. Received: {value!r}")
        inputs[name] = np.array([str(v) if not isinstance(v, bytes) else v for v in values], dtype=object)
    if truncation is not None:
        inputs["truncation"] = np.full([n], truncation, dtype=np.float32)
    return inputs


def encode_image(image: Image.Image | str | Path | bytes) -> bytes:
    """PNG bytes of `image`.

    Args:
        image: a PIL image, an image file path, or encoded image bytes (any format PIL reads).
    """
    if isinstance(image, (str, Path, bytes)):
        with Image.open(io.BytesIO(image) if isinstance(image, bytes) else image) as opened:
            image = opened.copy()
    if not isinstance(image, Image.Image):
        raise TypeError(f"Expected a PIL image, a path or encoded bytes. Received: {type(image).__name__}")
    if image.mode not in ("1", "L", "LA", "RGB", "RGBA"):
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def synthesis_inputs(label_map, seeds: Sequence[int], style=None) -> dict[str, np.ndarray]:
    """A SPADE model's inputs: ``label_map_bytes`` (8-bit greyscale PNG of class indices) and ``seed`` int64,
    one per seed, plus ``style_bytes`` (PNG) when `style` is given (its ``with_style`` signature).

    Args:
        label_map: a ``uint8 [H, W]`` array, or a single-channel image (PIL image, path, PNG bytes) of class indices.
        seeds: one shoe per seed.
        style: any image (PIL image, path or encoded bytes), or None.
    """
    label_map = part_maps.encode_part_map(part_maps.read_part_map(label_map, None))
    inputs = {"label_map_bytes": np.array([label_map] * len(seeds), dtype=object), "seed": np.asarray(seeds, np.int64)}
    if style is not None:
        inputs["style_bytes"] = np.array([encode_image(style)] * len(seeds), dtype=object)
    return inputs


def decode_images(outputs: Mapping[str, np.ndarray], name: str = "image_bytes") -> list[Image.Image]:
    """The PIL images of an output of encoded images (a string tensor).

    Args:
        outputs: the answer of `predict`.
        name: the output holding the encoded images.
    """
    if name not in outputs:
        raise ValueError(f"The model's answer has no {name!r} output. Received outputs: {sorted(outputs)}")
    images = []
    for data in np.asarray(outputs[name], dtype=object).ravel():
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            images.append(image)
    return images


def _seed_list(seed) -> tuple[bool, list[int]]:
    """``(one, seeds)``: whether `seed` is a single integer, and the seeds it names (a sequence gives a list)."""
    one = isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)
    seeds = [seed] if one else list(seed) if isinstance(seed, (list, tuple, np.ndarray, range)) else []
    if not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in seeds):
        raise ValueError(f"seed must be an integer or a non-empty sequence of integers. Received: seed={seed!r}")
    return one, seeds


def pattern_inputs(
    pattern_image, *, category: str | None = None, seeds: Sequence[int] = (0,), sketch=None
) -> tuple[str, dict[str, np.ndarray]]:
    """A pattern-transfer model's ``(signature, inputs)``: ``pattern_bytes`` (PNG) with ``category`` and ``seed``
    int64, one per seed (``serving_default``), or with the sketch as ``image_bytes`` (``with_sketch``).

    Args:
        pattern_image: the exemplar: any image (PIL image, path or encoded bytes).
        category: the shoe type, e.g. ``"ankle_boot"`` (None with a sketch).
        seeds: one shoe per seed (ignored with a sketch).
        sketch: a sketch (dark lines on white; PIL image, path or encoded bytes), or None.
    """
    pattern = encode_image(pattern_image)
    if sketch is not None:
        return "with_sketch", {"pattern_bytes": np.array([pattern], dtype=object),
                               "image_bytes": np.array([encode_image(sketch)], dtype=object)}
    return DEFAULT_SIGNATURE, {
        "pattern_bytes": np.array([pattern] * len(seeds), dtype=object),
        "category": np.array([category] * len(seeds), dtype=object),
        "seed": np.asarray(seeds, np.int64),
    }


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _looks_like_w(value) -> bool:
    """True for what the old ``synthesize(w)`` took: floats of ndim 2 (one ``w``) or 3 (a batch)."""
    if isinstance(value, (Image.Image, str, Path, bytes, bytearray)):
        return False
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        return False
    return array.ndim in (2, 3) and np.issubdtype(array.dtype, np.floating)


@dataclasses.dataclass
class Redesign:
    """What `BaseClient.redesign` returns.

    Attributes:
        parts: the part segmenter's map of the photo, ``uint8 [S, S]`` class indices.
        edited: the map the shoe was drawn from (``parts`` edited, or the painted map), ``uint8 [H, W]``.
        shoe: the new shoe (PIL image), in the photo's look.
        class_names: the part names in index order (0 the background).
    """

    parts: np.ndarray
    edited: np.ndarray
    shoe: Image.Image
    class_names: list[str]


def _tensor_infos(infos) -> dict[str, dict]:
    return {
        name: {
            "dtype": wire.DataType.Name(info.dtype),
            "shape": None if info.tensor_shape.unknown_rank else [dim.size for dim in info.tensor_shape.dim],
        }
        for name, info in sorted(infos.items())
    }


def signatures_to_dict(signature_map) -> dict[str, dict]:
    """A ``SignatureDefMap`` as plain data: name -> {method_name, inputs, outputs: {tensor: {dtype, shape}}}.

    Args:
        signature_map: a ``tensorflow.serving.SignatureDefMap``; unknown dimensions are -1, an unknown
            rank gives ``shape: None``.
    """
    return {
        name: {"method_name": s.method_name, "inputs": _tensor_infos(s.inputs), "outputs": _tensor_infos(s.outputs)}
        for name, s in sorted(signature_map.signature_def.items())
    }


def statuses_to_dicts(response) -> list[dict]:
    """A ``GetModelStatusResponse`` as ``[{"version", "state", "error": None | {"code", "message"}}]``.

    Args:
        response: the status answer.
    """
    return [
        {
            "version": status.version,
            "state": wire.ModelVersionStatus.State.Name(status.state),
            "error": None
            if status.status.error_code == wire.ErrorCode.OK
            else {"code": wire.ErrorCode.Name(status.status.error_code), "message": status.status.error_message},
        }
        for status in response.model_version_status
    ]


class BaseClient:
    """The methods both transports share; a subclass only sends (`_send_predict`, `_send_status`, `_send_metadata`).

    Takes `ShoesClient`'s arguments but the target and message size; calls answered UNAVAILABLE are
    retried `retries` times, waiting `backoff` seconds and twice as long before each further retry.
    """

    def __init__(
        self, model: str, version: int | None, version_label: str | None, timeout: float, retries: int, backoff: float
    ):
        if version is not None and version_label is not None:
            raise ValueError(f"Pin a version or a version label, not both. Received: {version=}, {version_label=}")
        self.model, self.version, self.version_label = model, version, version_label
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self._borrowed = False  # True for a `for_model` client: the connection is its parent's to close

    def for_model(self, model: str, *, version: int | None = None, version_label: str | None = None):
        """A client of another model on the same server that shares this client's connection (gRPC
        channel or REST root), timeout and retries; closing it leaves the connection to this client.

        Args:
            model: the other model's name on the server.
            version: a version of it to pin (this client's pin does not carry over).
            version_label: a version label to pin instead.
        """
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a model name on the server. Received: model={model!r}")
        if version is not None and version_label is not None:
            raise ValueError(f"Pin a version or a version label, not both. Received: {version=}, {version_label=}")
        other = copy.copy(self)
        other.model, other.version, other.version_label = model, version, version_label
        other._borrowed = True
        other._forget_model()
        return other

    def _forget_model(self) -> None:
        """Drops what a transport cached about its model (a `for_model` copy names another one)."""

    def _send_predict(self, inputs: dict, signature_name: str, output_filter: list[str]) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def _send_status(self):
        """Returns a ``GetModelStatusResponse``."""
        raise NotImplementedError

    def _send_metadata(self):
        """Returns the model's ``SignatureDefMap``."""
        raise NotImplementedError

    def close(self) -> None:
        """Releases the connection."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _retrying(self, send, *args):
        for attempt in range(self.retries + 1):
            try:
                return send(*args)
            except ServingError as error:
                if error.code != "UNAVAILABLE" or attempt == self.retries:
                    raise
            time.sleep(self.backoff * 2**attempt)

    def predict(
        self,
        inputs: Mapping[str, object],
        signature_name: str = DEFAULT_SIGNATURE,
        output_filter: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs a signature; returns its outputs as numpy arrays (strings as object arrays of bytes).

        Args:
            inputs: input name -> numpy array, (nested) list, scalar or TensorProto. Over gRPC, numpy
                arrays keep their dtype and lists are typed as ``tf.make_tensor_proto`` types them
                (ints as int32, floats as float32): pass int64 seeds as numpy arrays.
            signature_name: the signature to run.
            output_filter: names of the outputs to return (all when None).
        """
        inputs = {name: wire.to_ndarray(value) if _is_tensor_proto(value) else value for name, value in inputs.items()}
        return self._retrying(self._send_predict, inputs, signature_name, list(output_filter or ()))

    def generate(self, n: int, *, seed: int = 0, truncation: float | None = None, **labels) -> list[Image.Image]:
        """Generates `n` shoes from seeds ``seed..seed+n-1``; the same seed and labels give the same shoe.

        Args:
            n: number of shoes.
            seed: first seed.
            truncation: truncation threshold (BigGAN's trick; smaller = tamer shoes), or a StyleGAN2's psi
                (1 = off, 0.7 a usual choice); when given, the model's ``truncated`` signature is called
                instead of ``serving_default``.
            **labels: label values, e.g. ``color="red", category="ankle_boot"``: one string for all
                shoes or a list of `n`.
        """
        signature = DEFAULT_SIGNATURE if truncation is None else "truncated"
        outputs = self.predict(generate_inputs(n, seed, truncation, labels), signature_name=signature, output_filter=["image_bytes"])
        return decode_images(outputs)

    def translate(
        self,
        image: Image.Image | str | Path | bytes,
        *,
        mask: Image.Image | str | Path | bytes | None = None,
        alpha: float | None = None,
        signature: str = DEFAULT_SIGNATURE,
    ) -> Image.Image:
        """Runs an image-to-image model (sketch -> shoe, photo + mask -> product shot, A -> B) on one image.

        Args:
            image: a PIL image, an image path or encoded image bytes; sent as PNG ``image_bytes`` [1].
            mask: the mask of a photo + mask model, sent as ``mask_bytes``.
            alpha: a CycleGAN blend weight in [0, 1] (0 keeps the input's design, 1 is the full
                translation); calls the ``blend`` signature.
            signature: the signature to run (``b_to_a`` for a CycleGAN's way back).
        """
        inputs = {"image_bytes": np.array([encode_image(image)], dtype=object)}
        if mask is not None:
            inputs["mask_bytes"] = np.array([encode_image(mask)], dtype=object)
        if alpha is not None:
            inputs["alpha"] = np.array([alpha], dtype=np.float32)
            signature = "blend"
        return decode_images(self.predict(inputs, signature, output_filter=["image_bytes"]))[0]

    def mix(
        self,
        *,
        seed: int = 0,
        style_seed: int = 1,
        crossover: int,
        labels: Mapping[str, str] | None = None,
        style_labels: Mapping[str, str] | None = None,
        truncation: float = 1.0,
    ) -> Image.Image:
        """Combines two shoes of a StyleGAN2 model (its ``mix`` signature): the coarse layers (shape) of the
        first, the fine layers (details, colours) of the second.

        Args:
            seed: the first shoe's seed.
            style_seed: the second shoe's seed.
            crossover: the first synthesis layer taken from the second shoe (0: all of it; the model's
                ``num_ws``: none; the middle is a usual choice).
            labels: the first shoe's labels, e.g. ``{"category": "ankle_boot"}``.
            style_labels: the second shoe's labels where they differ from the first one's, e.g.
                ``{"category": "sneaker"}`` (the others are the first shoe's).
            truncation: psi toward each label combination's average shoe (1 = off).
        """
        labels = dict(labels or {})
        style_labels = {**labels, **(style_labels or {})}
        inputs = {
            "seed": np.array([seed], np.int64),
            "style_seed": np.array([style_seed], np.int64),
            "crossover": np.array([crossover], np.int64),
            "truncation": np.array([truncation], np.float32),
            **{name: np.array([str(value)], dtype=object) for name, value in labels.items()},
            **{f"style_{name}": np.array([str(value)], dtype=object) for name, value in style_labels.items()},
        }
        return decode_images(self.predict(inputs, "mix", output_filter=["image_bytes"]))[0]

    def invert(self, image: Image.Image | str | Path | bytes) -> tuple[np.ndarray, Image.Image]:
        """A StyleGAN2 model's latent of a photo (its ``invert`` signature): the designer's own sneaker as ``w``.

        Args:
            image: a PIL image, an image path or encoded image bytes (any size; fitted to the model's square).

        Returns:
            ``(w float32 [num_ws, w_dim], the reconstruction)``; `from_w` draws the shoe of a (changed) ``w``.
        """
        inputs = {"image_bytes": np.array([encode_image(image)], dtype=object)}
        outputs = self.predict(inputs, "invert", output_filter=["w", "image_bytes"])
        return np.asarray(outputs["w"][0], np.float32), decode_images(outputs)[0]

    def from_w(self, w: np.ndarray) -> list[Image.Image]:
        """Shoes from StyleGAN2 latents ``w`` (``[num_ws, w_dim]`` or a batch of them; the ``synthesis`` signature)."""
        w = np.asarray(w, np.float32)
        outputs = self.predict({"w": w[None] if w.ndim == 2 else w}, "synthesis", output_filter=["image_bytes"])
        return decode_images(outputs)

    def pattern(
        self,
        pattern_image: Image.Image | str | Path | bytes,
        *,
        category: str | None = None,
        seed: int | Sequence[int] | None = None,
        sketch: Image.Image | str | Path | bytes | None = None,
    ) -> Image.Image | list[Image.Image]:
        """A shoe in the pattern of any object or swatch, from a pattern-transfer model: of a type and seed
        (its ``serving_default``), or drawn from a sketch (``with_sketch``).

        Args:
            pattern_image: a photo of the object or swatch whose pattern the shoe takes (PIL image, path or
                encoded bytes, any size); sent as PNG ``pattern_bytes``.
            category: the shoe type, e.g. ``"ankle_boot"`` (`labels` lists the model's ``category`` values;
                an unknown one is an INVALID_ARGUMENT that names them). Not with `sketch`.
            seed: the shoe's seed (None: 0; the same pattern, type and seed give the same shoe), or a
                sequence of seeds for one shoe each. Not with `sketch`.
            sketch: a sketch (dark lines on white, as a pix2pix sketch model takes it; PIL image, path or
                encoded bytes) that gives the shoe's shape instead; sent as ``image_bytes``.

        Returns:
            one PIL image for one seed or a sketch, a list for a sequence of seeds.

        Raises:
            TypeError: `sketch` with `category` or `seed`.
            ValueError: neither `category` nor `sketch`; a category that is not a non-empty string; bad seeds.
        """
        if sketch is not None:
            if category is not None or seed is not None:
                raise TypeError("pattern() takes a sketch or a category and seeds, not both (the sketch gives the shape). "
                                f"Received: category={category!r}, seed={seed!r} and a sketch")
            signature, inputs = pattern_inputs(pattern_image, sketch=sketch)
            return decode_images(self.predict(inputs, signature, output_filter=["image_bytes"]))[0]
        if category is None:
            raise ValueError("pattern() needs a category (e.g. category=\"ankle_boot\") or a sketch. Received: category=None, sketch=None")
        if not isinstance(category, str) or not category:
            raise ValueError(f"category must be a non-empty string, e.g. \"ankle_boot\". Received: category={category!r}")
        one, seeds = _seed_list(0 if seed is None else seed)
        signature, inputs = pattern_inputs(pattern_image, category=category, seeds=seeds)
        shoes = decode_images(self.predict(inputs, signature, output_filter=["image_bytes"]))
        return shoes[0] if one else shoes

    def synthesize(
        self,
        label_map: np.ndarray | Image.Image | str | Path | bytes,
        *,
        seed: int | Sequence[int] = 0,
        style: Image.Image | str | Path | bytes | None = None,
    ) -> Image.Image | list[Image.Image]:
        """A shoe drawn by a SPADE model from a part map (its ``serving_default``; ``with_style`` with `style`).

        ``synthesize(w)`` with a float array of ndim 2 or 3 is the old name of `from_w`: it still works
        for one release, with a DeprecationWarning.

        Args:
            label_map: class indices per pixel (0 the background; `part_classes` names them), any size:
                a ``uint8 [H, W]`` array, or a single-channel image (PIL image, path or PNG bytes) whose
                pixel values are the indices; colour images are refused. Sent as an 8-bit greyscale
                PNG, ``label_map_bytes``.
            seed: the shoe's seed (the same map and seed give the same shoe), or a sequence of seeds
                for one shoe each.
            style: any image whose look (colours, material) the shoe takes; sent as ``style_bytes``.

        Returns:
            one PIL image for one seed, a list for a sequence of seeds.
        """
        if _looks_like_w(label_map):
            if style is not None or not (isinstance(seed, int) and seed == 0):
                raise TypeError("synthesize(w) (now from_w) takes no seed or style; a part map must be uint8 class indices")
            warnings.warn("synthesize(<float array>) is read as the deprecated synthesize(w): use from_w(w); a part map for "
                          "synthesize is uint8 class indices", DeprecationWarning, stacklevel=2)
            return self.from_w(label_map)
        one, seeds = _seed_list(seed)
        inputs = synthesis_inputs(label_map, seeds, style)
        shoes = decode_images(self.predict(inputs, "with_style" if style is not None else DEFAULT_SIGNATURE, output_filter=["image_bytes"]))
        return shoes[0] if one else shoes

    def part_classes(self) -> list[str]:
        """The class names of a SPADE model or a segmenter in index order (0 the background), from its
        ``class_names`` signature: the answer for id 0 holds the count (``num_classes``), a second request
        the names. Exports from before ``num_classes`` answer only ``name``: their count is found as
        `_legacy_class_count` says."""
        first = self.predict({"class_id": np.zeros(1, np.int64)}, "class_names")
        if "num_classes" in first:
            count = int(np.asarray(first["num_classes"]).reshape(-1)[0])
        else:
            count = self._legacy_class_count()
        ids = np.arange(count, dtype=np.int64)
        return [_text(name) for name in self.predict({"class_id": ids}, "class_names", output_filter=["name"])["name"]]

    def _legacy_class_count(self) -> int:
        """How many classes an old ``class_names`` (``name`` alone) names: from its error for ids 0..255
        ("class_id must lie in [0, K)"), else by bisection over single ids (id k is valid when k < K)."""
        try:
            self.predict({"class_id": np.arange(MAX_CLASSES, dtype=np.int64)}, "class_names", output_filter=["name"])
            return MAX_CLASSES
        except ServingError as error:
            if error.code != "INVALID_ARGUMENT":
                raise
            said = re.search(r"class_id must lie in \[0, (\d+)\)", error.message)
            if said:
                return int(said.group(1))
        first_invalid, last_valid = MAX_CLASSES, -1
        while first_invalid - last_valid > 1:
            middle = (first_invalid + last_valid) // 2
            try:
                self.predict({"class_id": np.array([middle], np.int64)}, "class_names", output_filter=["name"])
                last_valid = middle
            except ServingError as error:
                if error.code != "INVALID_ARGUMENT":
                    raise
                first_invalid = middle
        if first_invalid == 0:
            raise ServingError("INVALID_ARGUMENT", f"The class_names signature of {self.model!r} names no class id 0")
        return first_invalid

    def redesign(
        self,
        photo: Image.Image | str | Path | bytes,
        *,
        grow: Mapping[str, int] | None = None,
        shrink: Mapping[str, int] | None = None,
        edited_map: np.ndarray | Image.Image | str | Path | bytes | None = None,
        seed: int = 0,
        segmenter: str = "parts",
    ) -> Redesign:
        """A photographed shoe redrawn with edited parts: the served part segmenter `segmenter` labels the
        photo, the map is edited (`serving.part_maps.edit`: shrinks first, then grows) or replaced by a
        painted map, and this client's SPADE model draws the map in the photo's look (``with_style``,
        the photo as the style image).

        Args:
            photo: a PIL image, an image path or encoded image bytes.
            grow: part name -> pixels to grow it by, e.g. ``{"heel": 2}`` (in the segmenter's map pixels).
            shrink: part name -> pixels to shrink it by.
            edited_map: a map the user painted instead of edits (see `synthesize` for the forms it takes).
            seed: the SPADE seed.
            segmenter: the part segmenter's model name on the same server.

        Raises:
            ValueError: edits and a painted map both given; the segmenter's parts differ from the SPADE
                model's; an unknown part (`part_maps.UnknownPartError`, listing the valid ones), a
                negative count or a painted map out of range.
        """
        if edited_map is not None and (grow or shrink):
            raise ValueError(f"Give edits or a painted map, not both. Received: grow={grow!r}, shrink={shrink!r} and an edited_map")
        parts_client = self.for_model(segmenter)
        names = parts_client.part_classes()
        own = self.part_classes()
        if own != names:
            raise ValueError(f"The segmenter {segmenter!r} labels the parts {names}, but the model {self.model!r} draws {own}")
        painted = None if edited_map is None else part_maps.read_part_map(edited_map, len(names))
        part_maps.check_edits(names, grow=grow, shrink=shrink)  # Before the segmenter is asked.
        photo = encode_image(photo)
        parts = parts_client._classes(photo)
        edited = part_maps.edit(parts, names, grow=grow, shrink=shrink) if painted is None else painted
        return Redesign(parts, edited, self.synthesize(edited, seed=seed, style=photo), names)

    def extract(self, photo: Image.Image | str | Path | bytes, *, segmenter: str = "segmenter") -> tuple[Image.Image, Image.Image]:
        """A product shot from a photo: the served shoe segmenter `segmenter` finds the shoe (every class
        but 0), and this client's photo + mask model (``pix2pix_mask2product``) turns photo and mask
        into the product shot.

        Args:
            photo: a PIL image, an image path or encoded image bytes (any size).
            segmenter: the shoe segmenter's model name on the same server.

        Returns:
            ``(mask, product)``: the mask (mode "L", 255 on the shoe, in the segmenter's square) and the shot.
        """
        photo = encode_image(photo)
        classes = self.for_model(segmenter)._classes(photo)
        mask = Image.fromarray(np.where(classes != 0, 255, 0).astype(np.uint8))
        return mask, self.translate(photo, mask=mask)

    def sketch_to_shoe(self, sketch: Image.Image | str | Path | bytes) -> Image.Image:
        """A shoe drawn from a sketch (dark lines on white) by a pix2pix sketch model."""
        return self.translate(sketch)

    def segment(self, image: Image.Image | str | Path | bytes) -> tuple[np.ndarray, dict[int, str]]:
        """A segmenter's class per pixel for one image, and the names of the classes found.

        Args:
            image: a PIL image, an image path or encoded image bytes; sent as PNG ``image_bytes`` [1]
                (any size: the model fits it to its square, padding with white).

        Returns:
            ``(classes uint8 [S, S], {class id: name})`` from the ``segment`` and ``class_names`` signatures.
        """
        classes = self._classes(encode_image(image))
        found = np.unique(classes).astype(np.int64)
        names = self.predict({"class_id": found}, "class_names", output_filter=["name"])["name"]
        return classes, {int(index): _text(name) for index, name in zip(found, names)}

    def _classes(self, image_bytes: bytes) -> np.ndarray:
        """The ``segment`` signature's ``uint8 [S, S]`` class map of one encoded image."""
        inputs = {"image_bytes": np.array([image_bytes], dtype=object)}
        return np.asarray(self.predict(inputs, "segment", output_filter=["classes"])["classes"][0], np.uint8)

    def labels(self) -> dict[str, list[str]]:
        """Label name -> valid values (``{}`` for a model without a ``labels`` signature).

        The label names are the string inputs of ``serving_default`` but the encoded images (``*_bytes``,
        e.g. a pattern model's ``pattern_bytes``); the ``labels`` signature maps ``name`` [K] to ``values``
        [K, V] (padded with "") and ``counts`` [K].
        """
        signatures = self.metadata()
        if "labels" not in signatures or DEFAULT_SIGNATURE not in signatures:
            return {}
        inputs = signatures[DEFAULT_SIGNATURE]["inputs"]
        names = [name for name, info in inputs.items() if info["dtype"] == "DT_STRING" and not name.endswith("_bytes")]
        if not names:
            return {}
        outputs = self.predict({"name": np.array(names, dtype=object)}, signature_name="labels")
        rows = zip(names, outputs["values"], outputs["counts"])
        return {name: [value.decode() for value in values[:count]] for name, values, count in rows}

    def status(self) -> list[dict]:
        """The model's versions: ``[{"version", "state", "error": None | {"code", "message"}}]``."""
        return statuses_to_dicts(self._retrying(self._send_status))

    def metadata(self) -> dict[str, dict]:
        """The model's signatures: name -> {method_name, inputs, outputs: {tensor: {dtype, shape}}}."""
        return signatures_to_dict(self._retrying(self._send_metadata))


class ShoesClient(BaseClient):
    """The gRPC client (TF Serving's ``PredictionService`` and ``ModelService``).

    Args:
        target: the server's ``host:port``.
        model: model name on the server.
        version: a version number to pin, or None for the server's choice.
        version_label: a version label to pin instead (not with `version`).
        timeout: deadline of every call, in seconds.
        retries: how many times a call answered UNAVAILABLE is repeated.
        max_message_bytes: largest request and answer the channel accepts.
        backoff: seconds before the first retry; doubles with every further retry.
    """

    def __init__(
        self,
        target: str = "localhost:8500",
        model: str = "shoes",
        *,
        version: int | None = None,
        version_label: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        max_message_bytes: int = 64 * MiB,
        backoff: float = 0.1,
    ):
        super().__init__(model, version, version_label, timeout, retries, backoff)
        self.target = target
        limits = ("grpc.max_send_message_length", "grpc.max_receive_message_length")
        options = [(limit, max_message_bytes) for limit in limits]
        self._channel = grpc.insecure_channel(target, options=options)
        replies = {
            wire.PREDICT: wire.PredictResponse,
            wire.GET_MODEL_STATUS: wire.GetModelStatusResponse,
            wire.GET_MODEL_METADATA: wire.GetModelMetadataResponse,
        }
        self._methods = {
            path: self._channel.unary_unary(path, request_serializer=_serialize, response_deserializer=reply.FromString)
            for path, reply in replies.items()
        }

    def close(self) -> None:
        """Closes the channel (unless this client borrowed it from another, see `for_model`)."""
        if not self._borrowed:
            self._channel.close()

    def _call(self, path: str, request):
        try:
            return self._methods[path](request, timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code().name if hasattr(error, "code") else "UNKNOWN"
            message = error.details() if hasattr(error, "details") else str(error)
            if code == "DEADLINE_EXCEEDED":
                message = f"{message} (no answer from {self.target} within {self.timeout} s)"
            raise ServingError(code, message) from None

    def _model_spec(self, signature_name: str = ""):
        spec = wire.ModelSpec(name=self.model, signature_name=signature_name)
        if self.version is not None:
            spec.version.value = self.version
        elif self.version_label is not None:
            spec.version_label = self.version_label
        return spec

    def _send_predict(self, inputs, signature_name, output_filter):
        request = wire.PredictRequest(model_spec=self._model_spec(signature_name), output_filter=output_filter)
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(wire.to_tensor_proto(value))
        response = self._call(wire.PREDICT, request)
        return {name: wire.to_ndarray(tensor) for name, tensor in response.outputs.items()}

    def _send_status(self):
        return self._call(wire.GET_MODEL_STATUS, wire.GetModelStatusRequest(model_spec=self._model_spec()))

    def _send_metadata(self):
        request = wire.GetModelMetadataRequest(model_spec=self._model_spec(), metadata_field=["signature_def"])
        response = self._call(wire.GET_MODEL_METADATA, request)
        signatures = wire.SignatureDefMap()
        if "signature_def" not in response.metadata or not response.metadata["signature_def"].Unpack(signatures):
            raise ServingError("UNKNOWN", f"{self.target} answered without a signature_def map: {response}")
        return signatures


def _serialize(message) -> bytes:
    return message.SerializeToString()


def _is_tensor_proto(value) -> bool:
    """True for this package's and TensorFlow's TensorProto alike."""
    return getattr(getattr(value, "DESCRIPTOR", None), "full_name", None) == "tensorflow.TensorProto"


def __getattr__(name: str):
    if name == "RestClient":  # Lives in rest_client.py, which imports this module.
        from serving.rest_client import RestClient

        return RestClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
