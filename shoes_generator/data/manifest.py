"""`manifest.csv`: one row per image, ``path`` (relative to the manifest's folder) plus label columns.

Written by `shoes-data dominant-color` and `colorize-fmnist`; read by the folder
pipeline (to supply ``color`` or any other label) and by `shoes-data stats`.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Sequence

MANIFEST_NAME = "manifest.csv"


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    """Rows of a manifest as dicts; ``path`` stays relative to the manifest's folder.

    Args:
        path: the CSV file, or a folder holding ``manifest.csv``.

    Raises:
        FileNotFoundError: no manifest there.
        ValueError: the CSV has no ``path`` column.
    """
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    if not path.is_file():
        raise FileNotFoundError(f"Manifest not found: {str(path)!r}")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise ValueError(f"Manifest {str(path)!r} needs a 'path' column. Received columns: {reader.fieldnames}")
        return [dict(row) for row in reader]


def write_manifest(path: str | Path, rows: Iterable[dict], columns: Sequence[str]) -> Path:
    """Writes `rows` (dicts with at least ``path``) as CSV with `columns` in that order.

    Args:
        path: the CSV file, or a folder (``manifest.csv`` is written inside).
        rows: the rows; missing cells are left empty.
        columns: the column order; must start with ``path``.
    """
    if not columns or columns[0] != "path":
        raise ValueError(f"Manifest columns must start with 'path'. Received: {list(columns)}")
    path = Path(path)
    if path.is_dir():
        path = path / MANIFEST_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path
