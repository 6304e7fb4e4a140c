"""Latent directions for the Edit tab, as ``shoes-explore direction`` writes them (NumPy and JSON only).

``shoes-explore direction ... -o DIR`` leaves ``DIR/direction.json`` (``attribute``, ``latent_space`` z or w,
``latent_dim``, ``strength_unit``: the latents' spread along the direction, ``strengths``) and
``DIR/direction.npy`` (the unit direction, ``float32 [latent_dim]``). A strength ``s`` moves a latent by
``s * strength_unit * direction``, as its edit grid did.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np


@dataclasses.dataclass
class Direction:
    """One learned direction.

    Attributes:
        name: what it steers (the JSON's ``attribute``, e.g. ``"height"``).
        space: ``"z"`` or ``"w"``.
        vector: the unit direction, ``float32 [latent_dim]``.
        unit: the latents' standard deviation along it (a strength of 1 moves this far).
        limit: the largest strength its edit grid tried (the slider's end).
        path: the ``direction.npy`` it came from.
        model: the model it is for, when ``--direction MODEL=PATH`` named one.
    """

    name: str
    space: str
    vector: np.ndarray
    unit: float
    limit: float
    path: Path
    model: str | None = None

    def fits(self, model) -> bool:
        """Whether `model` (a `discovery.ModelInfo`) can be moved along this direction."""
        if self.model is not None and self.model != model.name:
            return False
        return model.latent_space == self.space and model.latent_dim == len(self.vector)

    def summary(self, index: int) -> dict:
        return {"index": index, "name": self.name, "space": self.space, "limit": self.limit, "model": self.model}


def load_direction(spec: str) -> Direction:
    """A direction from ``[MODEL=]PATH``, PATH a ``shoes-explore direction`` output folder or its direction.json.

    Raises:
        FileNotFoundError: no direction.json / direction.npy there.
        ValueError: the files do not hold a direction (a wrong space, a vector of the wrong length or zero).
    """
    model, sep, path = spec.partition("=")
    if not sep:
        model, path = None, spec
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    json_path, npy_path = folder / "direction.json", folder / "direction.npy"
    for needed in (json_path, npy_path):
        if not needed.is_file():
            raise FileNotFoundError(f"--direction needs a shoes-explore direction folder with direction.json and direction.npy; "
                                    f"{str(needed)!r} is missing. Received: {spec!r}")
    info = json.loads(json_path.read_text())
    vector = np.load(npy_path).astype(np.float32).reshape(-1)
    space = info.get("latent_space")
    if space not in ("z", "w"):
        raise ValueError(f"{json_path} has latent_space {space!r}; expected 'z' or 'w'")
    if info.get("latent_dim") not in (None, len(vector)):
        raise ValueError(f"{npy_path} holds {len(vector)} numbers; {json_path} says latent_dim {info.get('latent_dim')}")
    if not np.any(vector):
        raise ValueError(f"{npy_path} is all zero: shoes-explore found no direction (the attribute did not vary over its samples)")
    strengths = [abs(float(s)) for s in info.get("strengths", [3.0])] or [3.0]
    return Direction(str(info.get("attribute", folder.name)), space, vector, float(info.get("strength_unit", 1.0)),
                     max(strengths), npy_path.resolve(), model or None)
