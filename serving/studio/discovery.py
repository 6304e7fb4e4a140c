"""Which models the server has and what each can do, read from their metadata (TF Serving cannot list models).

A model's abilities come from its signatures, never from its name: a generator is a ``serving_default``
taking ``seed`` and string labels; a sketch model an image -> image ``serving_default``; a CycleGAN has
``blend``; a StyleGAN2 ``mix``, ``invert``, ``mapping`` and ``synthesis``; a SPADE model draws a
``label_map_bytes`` with a ``with_style``; a part segmenter has ``segment`` and ``class_names``; a
pattern-transfer model takes ``pattern_bytes``. Each studio tab shows the models with its ability.
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

from serving.client import DEFAULT_SIGNATURE, ServingError

# Names tried when none are given: the ones the README's examples publish.
DEFAULT_MODELS = ("shoes", "stylegan", "sketch2shoe", "sneaker2boot", "spade", "parts", "pattern")
# The errors that mean "no server answers" rather than "this model is not there".
DOWN_CODES = ("UNAVAILABLE", "DEADLINE_EXCEEDED")


class ModelMissing(LookupError):
    """The model asked for is not served (any more), or cannot do what was asked (HTTP 404 on the page)."""


def model_base_names(model_base: str | Path) -> list[str]:
    """The model names of a TF Serving model base: its folders holding at least one numbered version folder.

    Args:
        model_base: the folder ``shoes-serve --model-base`` (or TF Serving's ``base_path`` parent) reads.

    Raises:
        FileNotFoundError: `model_base` is not a folder.
    """
    base = Path(model_base)
    if not base.is_dir():
        raise FileNotFoundError(f"--model-base must be a folder of <name>/<version>/ models. Received: {str(base)!r}")
    return sorted(
        entry.name for entry in base.iterdir()
        if entry.is_dir() and not entry.name.startswith(".") and any(v.is_dir() and v.name.isdigit() for v in entry.iterdir())
    )


def _inputs(signatures: dict, name: str) -> dict:
    return signatures.get(name, {}).get("inputs", {})


def abilities(signatures: dict) -> frozenset[str]:
    """What a model with these signatures can do (`serving.client.signatures_to_dict` form).

    ``generate`` (seed + string labels), ``sketch`` (image -> image), ``translate`` (``blend``), ``mix`` and
    ``invert`` (StyleGAN2), ``latent_w`` (``mapping`` + ``synthesis``), ``latent_z`` (``from_latent``),
    ``spade`` (part map + style image), ``parts`` (``segment`` + ``class_names``), ``pattern``.
    """
    default = _inputs(signatures, DEFAULT_SIGNATURE)
    found = set()
    if "seed" in default and not any(name.endswith("_bytes") for name in default):
        found.add("generate")
    if set(default) == {"image_bytes"} and not {"blend", "segment"} & set(signatures):
        found.add("sketch")
    if "image_bytes" in _inputs(signatures, "blend") and "alpha" in _inputs(signatures, "blend"):
        found.add("translate")
    if "mix" in signatures:
        found.add("mix")
    if "image_bytes" in _inputs(signatures, "invert") and "synthesis" in signatures:
        found.add("invert")
    if {"mapping", "synthesis"} <= set(signatures):
        found.add("latent_w")
    if "z" in _inputs(signatures, "from_latent"):
        found.add("latent_z")
    if "label_map_bytes" in default and "style_bytes" in _inputs(signatures, "with_style") and "class_names" in signatures:
        found.add("spade")
    if {"segment", "class_names"} <= set(signatures):
        found.add("parts")
    if "pattern_bytes" in default:
        found.add("pattern")
    return frozenset(found)


@dataclasses.dataclass
class ModelInfo:
    """One served model as the studio sees it.

    Attributes:
        name: its name on the server.
        version: the newest AVAILABLE version (None when the server does not say).
        signatures: ``signatures_to_dict`` of its metadata.
        labels: label name -> values (``{}`` without a ``labels`` signature).
        classes: part names in index order, for models with ``class_names`` (SPADE, segmenters).
    """

    name: str
    version: int | None
    signatures: dict
    labels: dict[str, list[str]]
    classes: list[str] | None = None

    @property
    def abilities(self) -> frozenset[str]:
        return abilities(self.signatures)

    def _shape(self, signature: str, name: str) -> list[int]:
        return self.signatures[signature]["inputs"][name]["shape"] or []

    @property
    def num_ws(self) -> int | None:
        """A StyleGAN2's synthesis layer count (the ``mix`` crossover's upper end)."""
        return int(self._shape("synthesis", "w")[-2]) if "latent_w" in self.abilities else None

    @property
    def latent_dim(self) -> int | None:
        """The length of one latent: ``w_dim`` of a StyleGAN2, else the ``z`` size of ``from_latent``."""
        if "latent_w" in self.abilities:
            return int(self._shape("synthesis", "w")[-1])
        return int(self._shape("from_latent", "z")[-1]) if "latent_z" in self.abilities else None

    @property
    def latent_space(self) -> str | None:
        """``"w"`` (StyleGAN2), ``"z"`` (``from_latent``) or None."""
        return "w" if "latent_w" in self.abilities else "z" if "latent_z" in self.abilities else None

    @property
    def domains(self) -> tuple[str, str]:
        """A translator's two design languages as its name spells them (``sneaker2boot``: sneaker, boot), else A, B."""
        match = re.fullmatch(r"(.+?)(?:2|_to_|-to-)(.+)", self.name)
        return (match.group(1), match.group(2)) if match else ("A", "B")

    def summary(self) -> dict:
        """What the page needs: name, version, abilities, labels, classes, num_ws, latent space, truncation, domains."""
        return {"name": self.name, "version": self.version, "abilities": sorted(self.abilities), "labels": self.labels,
                "classes": self.classes, "num_ws": self.num_ws, "latent_space": self.latent_space,
                "truncation": "truncated" in self.signatures, "b_to_a": "b_to_a" in self.signatures, "domains": self.domains}


@dataclasses.dataclass
class Catalog:
    """What one discovery found.

    Attributes:
        up: whether the server answered at all.
        message: why not (empty when up).
        models: name -> ModelInfo of the models found.
        missing: name -> why a name asked for is not usable (not served, a failing call).
        checked: ``time.monotonic()`` of the discovery.
    """

    up: bool
    message: str = ""
    models: dict[str, ModelInfo] = dataclasses.field(default_factory=dict)
    missing: dict[str, str] = dataclasses.field(default_factory=dict)
    checked: float = dataclasses.field(default_factory=time.monotonic)

    def having(self, ability: str) -> list[ModelInfo]:
        """The models with `ability`, by name."""
        return [model for _, model in sorted(self.models.items()) if ability in model.abilities]

    def segmenters_for(self, spade: ModelInfo) -> list[ModelInfo]:
        """The part segmenters whose parts are the SPADE model's (what ``redesign`` needs)."""
        return [model for model in self.having("parts") if model.classes == spade.classes]

    def model(self, name: str, ability: str) -> ModelInfo:
        """The model `name`, which must have `ability`.

        Raises:
            ModelMissing: not served (any more), or it cannot do that; the message lists those that can.
        """
        if name in self.models and ability in self.models[name].abilities:
            return self.models[name]
        able = [model.name for model in self.having(ability)]
        why = f"is not served ({self.missing[name]})" if name in self.missing else "is not served" if name not in self.models else f"has no {ability} signatures"
        raise ModelMissing(f"The model {name[:100]!r} {why}. Served models that can: {', '.join(able) or 'none'}")


def _version(client) -> int | None:
    try:
        available = [s["version"] for s in client.status() if s["state"] == "AVAILABLE"]
    except ServingError:
        return None
    return max(available, default=None)


def describe(client) -> ModelInfo:
    """The `ModelInfo` of the model a `serving.client` client names (metadata, version, labels, classes).

    Raises:
        ServingError: the server's answer (NOT_FOUND for a model it does not serve).
        KeyError, IndexError, TypeError, ValueError: signatures the studio cannot read (an unrelated model of
            that name, shapes it does not expect).
    """
    signatures = client.metadata()
    labels = client.labels()
    classes = client.part_classes() if "class_names" in signatures else None
    model = ModelInfo(client.model, _version(client), signatures, labels, classes)
    model.summary()  # reads every shape the page needs: an odd model fails here, not in every /api/state
    return model


def discover(client, names) -> Catalog:
    """Asks the server about each name; a name it does not serve, or serves with signatures the studio cannot
    read, is listed in ``missing`` with why.

    Args:
        client: a `ShoesClient` or `RestClient` (its `for_model` copies ask each name).
        names: the model names to look for.
    """
    catalog = Catalog(up=True)
    for name in names:
        try:
            catalog.models[name] = describe(client.for_model(name))
        except ServingError as error:
            if error.code in DOWN_CODES:
                return Catalog(up=False, message=f"{error.code}: {error.message}")
            catalog.missing[name] = f"{error.code}: {error.message}"
        except (KeyError, IndexError, TypeError, ValueError) as error:
            catalog.missing[name] = f"its signatures are not ones the studio can use ({type(error).__name__}: {error})"
    return catalog
