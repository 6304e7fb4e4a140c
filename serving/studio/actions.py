"""What a designer can do, one function per action: read its settings, ask the models through the thin client,
and write the command that makes the same images again (shoes-client, or the thin client in Python where
shoes-client has no such command), both from the same settings.

Every action takes a `Context` and the request's JSON and returns a `Result`; a setting out of range is a
`SettingsError` that names it and what was received.
"""

from __future__ import annotations

import dataclasses
import io
import math
import shlex
from typing import Callable

import numpy as np
from PIL import Image

from serving.client import DEFAULT_SIGNATURE, decode_images
from serving.contact_sheet import contact_sheet
from serving.part_maps import colorize
from serving.studio.directions import Direction
from serving.studio.discovery import Catalog, ModelInfo, ModelMissing
from serving.studio.uploads import Upload, read_upload

MAX_SEED = 2**31 - 1
MAX_COUNT = 16  # shoes per request (a 4x4 grid)
MAX_PART_EDIT = 8  # pixels a part may grow or shrink by


class SettingsError(ValueError):
    """A request setting the studio cannot use (HTTP 400)."""


def shown(value, limit: int = 80) -> str:
    """``repr(value)`` for a message, cut to `limit` characters (a request may send megabytes in one setting)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} characters)"


@dataclasses.dataclass
class Target:
    """The server as the commands name it: ``--server HOST:PORT`` (gRPC) or ``--rest URL``."""

    server: str | None = None
    rest: str | None = None

    def flags(self) -> list[str]:
        return ["--rest", self.rest] if self.rest else ["--server", self.server]

    def client_code(self, model: str) -> str:
        """The Python that opens the same client."""
        if self.rest:
            return f"RestClient({self.rest!r}, model={model!r})"
        return f"ShoesClient({self.server!r}, model={model!r})"


@dataclasses.dataclass
class Context:
    """What an action needs besides its settings.

    Attributes:
        client: the studio's root client (`ShoesClient` or `RestClient`); `for_model` gives each model's.
        catalog: the models found.
        directions: the latent directions given with ``--direction``.
        target: the server as commands name it.
        max_upload_bytes: the largest upload taken.
        number: this result's number (names its files in the commands).
    """

    client: object
    catalog: Catalog
    directions: list[Direction]
    target: Target
    max_upload_bytes: int
    number: int

    def model(self, settings: dict, ability: str) -> ModelInfo:
        """The model the settings name (``"model"``), or the first that can, when none is named."""
        name = settings.get("model")
        if name is not None and not isinstance(name, str):
            raise SettingsError(f"model must be a model's name. Received: model={shown(name)}")
        if name is None:
            able = self.catalog.having(ability)
            if not able:
                raise ModelMissing(f"No served model can do this ({ability}); the server has {', '.join(self.catalog.models) or 'no model'}")
            return able[0]
        return self.catalog.model(name, ability)

    def client_of(self, model: ModelInfo):
        return self.client.for_model(model.name)

    def upload(self, settings: dict, key: str, what: str) -> Upload:
        return read_upload(settings.get(key), self.max_upload_bytes, what)

    def out(self, suffix: str) -> str:
        """A file or folder name for this result's command, e.g. ``studio/0003_translate.png``."""
        return f"studio/{self.number:04d}_{suffix}"

    def shoes_client(self, model: ModelInfo, *arguments) -> str:
        """A shoes-client command line for `model`, every argument quoted for a POSIX shell."""
        words = ["shoes-client", *self.target.flags(), "--model", model.name, *(str(a) for a in arguments)]
        return " ".join(shlex.quote(word) for word in words)

    def python(self, model: ModelInfo, lines: list[str], out: str) -> str:
        """A Python script over the thin client that saves its shoe as `out` (for what shoes-client has no
        command for), run by ``python -``."""
        transport = "RestClient" if self.target.rest else "ShoesClient"
        header = ["import pathlib", "import numpy as np", f"from serving.client import {transport}",
                  f"client = {self.target.client_code(model.name)}", f"pathlib.Path({out!r}).parent.mkdir(parents=True, exist_ok=True)"]
        return "python - <<'EOF'\n" + "\n".join(header + lines) + "\nEOF"


@dataclasses.dataclass
class Result:
    """What an action made.

    Attributes:
        title: one line for the history strip.
        images: the images, in order.
        captions: one caption per image.
        command: the command that makes them again.
        inputs: files the command names that the designer may not have (a drawn sketch, a scaled-down upload).
        columns: the grid's width on the page.
    """

    title: str
    images: list[Image.Image]
    captions: list[str]
    command: str
    inputs: list[Upload] = dataclasses.field(default_factory=list)
    columns: int = 0

    def sheet(self) -> Image.Image:
        """The one picture to download: the image itself, or a contact sheet of several (rows of `columns`)."""
        if len(self.images) == 1:
            return self.images[0]
        columns = self.columns or len(self.images)
        rows = [self.images[i : i + columns] for i in range(0, len(self.images), columns)]
        cell = max(64, min(256, max(image.width for image in self.images)))
        return contact_sheet([(self.title if i == 0 else "", row) for i, row in enumerate(rows)], cell=cell, caption_width=cell)


# ---------------------------------------------------------------------------------------------- settings


def integer(settings: dict, key: str, default: int, low: int, high: int) -> int:
    """The whole number ``settings[key]`` (`default` when absent), which must lie in ``[low, high]``."""
    value = settings.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            pass  # refused below with what was received
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SettingsError(f"{key} must be a whole number from {low} to {high}. Received: {key}={shown(value)}")
    return value


def number(settings: dict, key: str, default: float, low: float, high: float) -> float:
    """The number ``settings[key]`` (`default` when absent), which must lie in ``[low, high]``."""
    value = settings.get(key, default)
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = math.nan
    if not low <= value <= high:
        raise SettingsError(f"{key} must be a number from {low:g} to {high:g}. Received: {key}={shown(settings.get(key))}")
    return value


def labels(settings: dict, model: ModelInfo, key: str = "labels") -> dict[str, str]:
    """One value per label of `model` from ``settings[key]``, each checked against its vocabulary."""
    given = settings.get(key) or {}
    if not isinstance(given, dict):
        raise SettingsError(f"{key} must map label names to values. Received: {shown(given)}")
    chosen = {}
    for name, values in model.labels.items():
        value = given.get(name, values[0] if values else None)
        if value not in values:
            raise SettingsError(f"{name} must be one of {', '.join(values)}. Received: {name}={shown(value)}")
        chosen[name] = value
    return chosen


def label_flags(chosen: dict[str, str], flag: str = "--label") -> list[str]:
    return [part for name, value in chosen.items() for part in (flag, f"{name}={value}")]


def described(chosen: dict[str, str]) -> str:
    return " ".join(chosen.values())


def grid_columns(count: int) -> int:
    return math.ceil(math.sqrt(count))


# ----------------------------------------------------------------------------------------------- actions


def generate(context: Context, settings: dict) -> Result:
    """Shoes of the chosen labels from seeds ``seed..seed+count-1``, truncated when ``truncation`` is given."""
    model = context.model(settings, "generate")
    chosen = labels(settings, model)
    count = integer(settings, "count", 1, 1, MAX_COUNT)
    seed = integer(settings, "seed", 0, 0, MAX_SEED - count)
    truncation = settings.get("truncation")
    if truncation is not None:
        truncation = number(settings, "truncation", 1.0, 0.0, 10.0)
    shoes = context.client_of(model).generate(count, seed=seed, truncation=truncation, **chosen)
    arguments = [*label_flags(chosen), "--seed", seed, "-n", count]
    arguments += ["--truncation", truncation] if truncation is not None else []
    command = context.shoes_client(model, "generate", *arguments, "-o", context.out("generate"))
    trunc = "" if truncation is None else f", truncation {truncation:g}"
    title = f"{described(chosen) or model.name} x{count}, seed {seed}{trunc}"
    return Result(title, shoes, [f"seed {seed + i}" for i in range(count)], command, columns=grid_columns(count))


def _sketch_input(context: Context, settings: dict) -> Upload:
    """The sketch: a drawn one is a new file the page offers with the command."""
    return context.upload(settings, "sketch", "sketch")


def sketch(context: Context, settings: dict) -> Result:
    """The shoe of a sketch (drawn on the page or uploaded), from an image-to-image sketch model."""
    model = context.model(settings, "sketch")
    drawing = _sketch_input(context, settings)
    shoe = context.client_of(model).sketch_to_shoe(drawing.data)
    command = context.shoes_client(model, "translate", drawing.name, "-o", context.out("shoe.png"))
    offered = [drawing] if drawing.offered or settings.get("drawn") else []
    return Result(f"shoe from {drawing.name}", [shoe], ["shoe"], command, offered)


def translate(context: Context, settings: dict) -> Result:
    """A sneaker in another design language: ``language`` "b" (A -> B, ``serving_default``), "a" (``b_to_a``)
    or "mixed" (the ``blend`` signature at ``alpha``: 0 keeps the input's design, 1 is the full translation)."""
    model = context.model(settings, "translate")
    photo = context.upload(settings, "image", "sneaker")
    language = settings.get("language", "b")
    if language not in ("a", "b", "mixed") or (language == "a" and "b_to_a" not in model.signatures):
        valid = "a, b, mixed" if "b_to_a" in model.signatures else "b, mixed"
        raise SettingsError(f"language must be one of {valid}. Received: language={shown(language)}")
    alpha = number(settings, "alpha", 0.5, 0.0, 1.0) if language == "mixed" else None
    signature = "b_to_a" if language == "a" else DEFAULT_SIGNATURE
    shoe = context.client_of(model).translate(photo.data, alpha=alpha, signature=signature)
    arguments = ["--alpha", alpha] if alpha is not None else ["--signature", signature] if language == "a" else []
    command = context.shoes_client(model, "translate", photo.name, *arguments, "-o", context.out("translate.png"))
    how = f"mixed, alpha {alpha:g}" if alpha is not None else "b_to_a" if language == "a" else "a_to_b"
    return Result(f"{photo.name} via {model.name} ({how})", [shoe], [how], command, [photo] if photo.offered else [])


def _mix_source(context: Context, settings: dict, key: str, model: ModelInfo) -> dict:
    """One sneaker of `combine`: ``{"seed", "labels"}`` or ``{"photo": Upload}``."""
    source = settings.get(key)
    if not isinstance(source, dict):
        raise SettingsError(f"{key} must say where the sneaker comes from (a seed or a photo). Received: {shown(source)}")
    if source.get("photo") is not None:
        if "invert" not in model.abilities:
            raise SettingsError(f"The model {model.name!r} has no invert signature: combine seeds instead")
        return {"photo": context.upload(source, "photo", f"{key} photo")}
    return {"seed": integer(source, "seed", 0, 0, MAX_SEED), "labels": labels(source, model)}


def _mapping_inputs(source: dict, truncation: float) -> dict[str, np.ndarray]:
    return {"seed": np.array([source["seed"]], np.int64), "truncation": np.array([truncation], np.float32),
            **{name: np.array([value], dtype=object) for name, value in source["labels"].items()}}


def _mapping_code(variable: str, source: dict, truncation: float) -> str:
    label_code = "".join(f", {name!r}: np.array([{value!r}], dtype=object)" for name, value in source["labels"].items())
    return (f"{variable} = client.predict({{'seed': np.array([{source['seed']}], np.int64), "
            f"'truncation': np.array([{truncation!r}], np.float32){label_code}}}, 'mapping')['w'][0]")


def combine(context: Context, settings: dict) -> Result:
    """Two sneakers in one (StyleGAN2): the coarse layers (shape) of ``first``, the fine layers (details, colour)
    of ``second`` from synthesis layer ``crossover`` on; each from a seed and labels or a photo (``invert``)."""
    model = context.model(settings, "mix")
    crossover = integer(settings, "crossover", model.num_ws // 2, 0, model.num_ws)
    truncation = number(settings, "truncation", 1.0, 0.0, 1.0)
    first, second = (_mix_source(context, settings, key, model) for key in ("first", "second"))
    client = context.client_of(model)
    out = context.out("combine.png")
    if "photo" not in first and "photo" not in second:
        shoe = client.mix(seed=first["seed"], style_seed=second["seed"], crossover=crossover, labels=first["labels"],
                          style_labels=second["labels"], truncation=truncation)
        command = context.shoes_client(model, "mix", "--seed", first["seed"], *label_flags(first["labels"]), "--style-seed", second["seed"],
                                       *label_flags(second["labels"], "--style-label"), "--crossover", crossover,
                                       "--truncation", truncation, "-o", out)
        title = f"seed {first['seed']} + seed {second['seed']}, crossover {crossover}"
        # The two sneakers themselves beside their mix, as the designer compares them (the command makes the mix).
        sources = [client.generate(1, seed=source["seed"], truncation=truncation, **source["labels"])[0] for source in (first, second)]
        captions = [f"shape: seed {first['seed']}", f"details: seed {second['seed']}", f"crossover {crossover}"]
        return Result(title, [*sources, shoe], captions, command)
    images, captions, ws, code, offered = [], [], [], [], []
    for variable, source in (("w_first", first), ("w_second", second)):
        if "photo" in source:
            w, reconstruction = client.invert(source["photo"].data)
            images.append(reconstruction)
            captions.append(f"{source['photo'].name} as the model sees it")
            code.append(f"{variable}, _ = client.invert({source['photo'].name!r})")
            offered += [source["photo"]] if source["photo"].offered else []
        else:
            w = np.asarray(client.predict(_mapping_inputs(source, truncation), "mapping", output_filter=["w"])["w"][0], np.float32)
            code.append(_mapping_code(variable, source, truncation))
        ws.append(w)
    mixed = np.concatenate([ws[0][:crossover], ws[1][crossover:]])
    images.append(client.from_w(mixed)[0])
    captions.append(f"crossover {crossover}")
    code += [f"w = np.concatenate([w_first[:{crossover}], w_second[{crossover}:]])", f"client.from_w(w)[0].save({out!r})"]
    names = [source["photo"].name if "photo" in source else f"seed {source['seed']}" for source in (first, second)]
    return Result(f"{names[0]} + {names[1]}, crossover {crossover}", images, captions, context.python(model, code, out), offered)


def _direction(context: Context, settings: dict, model: ModelInfo) -> Direction:
    fitting = [(index, d) for index, d in enumerate(context.directions) if d.fits(model)]
    if not fitting:
        raise SettingsError(f"No --direction fits the model {model.name!r} ({model.latent_space} of size {model.latent_dim}); "
                            "start shoes-studio with --direction DIR (a shoes-explore direction output)")
    index = integer(settings, "direction", fitting[0][0], 0, len(context.directions) - 1)
    if not context.directions[index].fits(model):
        raise SettingsError(f"direction {index} ({context.directions[index].name}) is not one of {model.name!r}'s. "
                            f"Its directions: {', '.join(str(i) for i, _ in fitting)}")
    return context.directions[index]


def edit(context: Context, settings: dict) -> Result:
    """A shoe moved along a learned direction by ``strength`` (in the latents' standard deviations along it):
    a StyleGAN2 shoe's ``w`` (``mapping`` of the seed, labels and truncation), or the ``z`` NumPy draws for the
    seed for a ``from_latent`` generator (its served seeds' z cannot be read from outside TensorFlow)."""
    model = _editable(context, settings)
    direction = _direction(context, settings, model)
    strength = number(settings, "strength", 0.0, -direction.limit, direction.limit)
    seed = integer(settings, "seed", 0, 0, MAX_SEED)
    chosen = labels(settings, model)
    client = context.client_of(model)
    step = np.float32(strength * direction.unit)
    out = context.out("edit.png")
    code = [f"direction = np.load({str(direction.path)!r}).astype(np.float32).reshape(-1)", f"step = np.float32({float(step)!r})"]
    if model.latent_space == "w":
        truncation = number(settings, "truncation", 1.0, 0.0, 1.0)
        source = {"seed": seed, "labels": chosen}
        w = np.asarray(client.predict(_mapping_inputs(source, truncation), "mapping", output_filter=["w"])["w"][0], np.float32)
        before, after = client.from_w(np.stack([w, w + step * direction.vector]))
        code += [_mapping_code("w", source, truncation), f"client.from_w(w + step * direction)[0].save({out!r})"]
    else:
        z = np.random.default_rng(seed).standard_normal(model.latent_dim).astype(np.float32)
        inputs = {"z": np.stack([z, z + step * direction.vector]),
                  **{name: np.array([value, value], dtype=object) for name, value in chosen.items()}}
        before, after = decode_images(client.predict(inputs, "from_latent", output_filter=["image_bytes"]))
        label_code = "".join(f", {name!r}: np.array([{value!r}], dtype=object)" for name, value in chosen.items())
        code += [f"z = np.random.default_rng({seed}).standard_normal({model.latent_dim}).astype(np.float32)",
                 f"inputs = {{'z': (z + step * direction)[None]{label_code}}}",
                 "import io; from PIL import Image",
                 f"Image.open(io.BytesIO(client.predict(inputs, 'from_latent')['image_bytes'][0])).save({out!r})"]
    what = f"{direction.name} {strength:+.2f}"
    title = f"{described(chosen) or model.name} seed {seed} ({model.latent_space}), {what}"
    return Result(title, [before, after], [f"seed {seed}", what], context.python(model, code, out))


def _editable(context: Context, settings: dict) -> ModelInfo:
    """The generator ``settings["model"]`` names (the first one when none is named) that a ``--direction`` fits."""
    able = [m for ability in ("latent_w", "latent_z") for m in context.catalog.having(ability) if any(d.fits(m) for d in context.directions)]
    name = settings.get("model")
    for model in able:
        if name is None or model.name == name:
            return model
    raise ModelMissing(f"The model {shown(name)} has no --direction to move along (shoes-studio --direction DIR, a shoes-explore "
                      f"direction output). Models that have one: {', '.join(m.name for m in able) or 'none'}")


def redesign(context: Context, settings: dict) -> Result:
    """A photographed shoe redrawn with its parts grown (``edits`` part -> +N pixels) or shrunk (-N): a part
    segmenter labels it, SPADE draws the edited map in the photo's look (`serving.client.BaseClient.redesign`)."""
    model = context.model(settings, "spade")
    segmenters = [m.name for m in context.catalog.segmenters_for(model)]
    segmenter = settings.get("segmenter") or (segmenters[0] if segmenters else None)
    if segmenter not in segmenters:
        raise SettingsError(f"segmenter must be a served part segmenter with {model.name!r}'s parts: "
                            f"{', '.join(segmenters) or 'none is served'}. Received: segmenter={shown(segmenter)}")
    edits = settings.get("edits") or {}
    if not isinstance(edits, dict) or set(edits) - set(model.classes[1:]):
        raise SettingsError(f"edits must map part names ({', '.join(model.classes[1:])}) to pixels. Received: edits={shown(edits)}")
    edits = {part: integer(edits, part, 0, -MAX_PART_EDIT, MAX_PART_EDIT) for part in edits}
    grow = {part: pixels for part, pixels in edits.items() if pixels > 0}
    shrink = {part: -pixels for part, pixels in edits.items() if pixels < 0}
    seed = integer(settings, "seed", 0, 0, MAX_SEED)
    photo = context.upload(settings, "photo", "photo")
    with Image.open(io.BytesIO(photo.data)) as opened:
        rgb = opened.convert("RGB")  # as shoes-client redesign reads its PHOTO
    result = context.client_of(model).redesign(rgb, grow=grow, shrink=shrink, seed=seed, segmenter=segmenter)
    arguments = label_flags(grow, "--grow") + label_flags(shrink, "--shrink")
    command = context.shoes_client(model, "redesign", photo.name, *arguments, "--segmenter", segmenter, "--seed", seed,
                                   "-o", context.out("redesign"))
    change = ", ".join(f"{part} {pixels:+d}" for part, pixels in edits.items() if pixels) or "no edits"
    images = [colorize(result.parts), colorize(result.edited), result.shoe]
    return Result(f"{photo.name}: {change}", images, ["parts", "edited parts", "new shoe"], command, [photo] if photo.offered else [])


def pattern(context: Context, settings: dict) -> Result:
    """Shoes of a type in the pattern of any uploaded object or swatch, from seeds ``seed..seed+count-1``."""
    model = context.model(settings, "pattern")
    category = labels(settings, model).get("category")
    count = integer(settings, "count", 1, 1, MAX_COUNT)
    seed = integer(settings, "seed", 0, 0, MAX_SEED - count)
    exemplar = context.upload(settings, "pattern", "pattern image")
    seeds = list(range(seed, seed + count))
    shoes = context.client_of(model).pattern(exemplar.data, category=category, seed=seeds)
    command = context.shoes_client(model, "pattern", exemplar.name, "--category", category, "--seed", seed, "-n", count,
                                   "-o", context.out("pattern"))
    return Result(f"{category} in {exemplar.name} x{count}, seed {seed}", shoes, [f"seed {s}" for s in seeds], command,
                  [exemplar] if exemplar.offered else [], grid_columns(count))


ACTIONS: dict[str, Callable[[Context, dict], Result]] = {
    "generate": generate,
    "sketch": sketch,
    "translate": translate,
    "combine": combine,
    "edit": edit,
    "redesign": redesign,
    "pattern": pattern,
}
