"""Deterministic, collision-free output names for the commands that write files.

Names are compared case-insensitively, so the result is also safe on macOS and
Windows file systems where ``A.jpg`` and ``a.jpg`` are the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable


def name_key(path: str | Path) -> str:
    """The key two names collide on: the POSIX path, case-folded."""
    return Path(path).as_posix().casefold()


def unique_name(path: str | Path, taken: set[str]) -> Path:
    """`path`, or ``<stem>_1<suffix>``, ``<stem>_2<suffix>``, ... : the first one not in `taken`.

    The chosen name is added to `taken`.

    Args:
        path: the wanted (relative) path or file name.
        taken: keys (see `name_key`) of the names already in use; updated.
    """
    path = Path(path)
    candidate, number = path, 0
    while name_key(candidate) in taken:
        number += 1
        candidate = path.with_name(f"{path.stem}_{number}{path.suffix}")
    taken.add(name_key(candidate))
    return candidate


def plan_outputs(relative_paths: Iterable[Path], suffix: str | None = None) -> list[Path]:
    """Output paths mirroring `relative_paths`, with their extension changed to `suffix`.

    When two sources would get the same output (``a.jpg`` and ``a.png`` written
    as PNG), the later one in the given order gets ``_1`` (then ``_2``, ...)
    added to its stem, so nothing is overwritten.

    Args:
        relative_paths: source paths relative to the source folder, in order.
        suffix: the new extension (``".png"``) or None to keep each one's own.
    """
    taken: set[str] = set()
    return [unique_name(rel if suffix is None else rel.with_suffix(suffix), taken) for rel in relative_paths]


def existing_names(folder: Path) -> set[str]:
    """The keys of the entries directly inside `folder` (empty when it does not exist)."""
    return {name_key(entry.name) for entry in folder.iterdir()} if folder.is_dir() else set()
