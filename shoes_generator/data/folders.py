"""Image folders of any depth as a labelled table, and their tf.data pipeline.

An `ImageTable` lists the usable image files of a source with string label
columns: none for a plain folder, the first folder level if asked,
``category``/``subcategory``/``brand`` for the UT-Zappos50K layout, plus the
columns of its ``meta-data.csv`` and of a ``manifest.csv``. Unreadable files
are screened out when the table is built and counted in its `SkipReport`;
`folder_dataset` turns a table into batches of ``{"image", **labels}``.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import re
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import tensorflow as tf

from shoes_generator.data.manifest import read_manifest
from shoes_generator.data.pipeline import PipelineOptions, batch_pipeline, file_records, map_decoded
from shoes_generator.data.skips import SkipReport, screen_images
from shoes_generator.imaging.io import list_images

logger = logging.getLogger("shoes_generator.data")

ZAPPOS_IMAGES = "ut-zap50k-images-square"
# Where `meta_data="auto"` looks for meta-data.csv, relative to the images folder.
ZAPPOS_META_PLACES = ("meta-data.csv", "ut-zap50k-data/meta-data.csv", "../ut-zap50k-data/meta-data.csv")
ZAPPOS_LEVELS = ("category", "subcategory", "brand")
# meta-data.csv columns whose snake_case name would not match the path labels.
META_ALIASES = {"SubCategory": "subcategory"}
# How many values or names an error message lists at most.
_SHOWN = 20


class EmptySelectionError(ValueError):
    """A source or a filter selected no image; the message says what was searched."""


def snake_case(name: str) -> str:
    """``"HeelHeight"`` -> ``"heel_height"``, ``"ToeStyle"`` -> ``"toe_style"``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def value_listing(values: Iterable[str], limit: int = _SHOWN) -> str:
    """The first `limit` values quoted and joined for an error message, with the count when more were left out."""
    values = list(values)
    shown = ", ".join(repr(value) for value in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


@dataclasses.dataclass(frozen=True)
class ImageTable:
    """Image files with aligned string label columns.

    Attributes:
        paths: the image files, in a deterministic (sorted) order.
        labels: label name -> one string per path ("" when unknown).
        report: the files left out because they could not be read.
        root: what was searched, for messages and relative paths.
        joins: per joined CSV, how many images found a row (``matched``),
            how many did not (``unmatched``) and a few of the latter.
    """

    paths: tuple[str, ...]
    labels: Mapping[str, tuple[str, ...]]
    report: SkipReport
    root: str = ""
    joins: Mapping[str, dict] = dataclasses.field(default_factory=dict)

    kind = "images"
    image_keys = ("image",)

    def __post_init__(self):
        for name, values in self.labels.items():
            if len(values) != len(self.paths):
                raise ValueError(
                    f"Label column {name!r} has {len(values)} values for {len(self.paths)} images. "
                    f"Received: labels[{name!r}] of length {len(values)}"
                )

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def label_names(self) -> tuple[str, ...]:
        """The label columns, in insertion order."""
        return tuple(self.labels)

    def column(self, name: str) -> tuple[str, ...]:
        """The values of label `name`, aligned with `paths`."""
        if name not in self.labels:
            raise KeyError(f"Unknown label {name!r} for images in {self.root!r}. Labels: {list(self.labels)}")
        return self.labels[name]

    def vocabulary(self, name: str) -> list[str]:
        """The sorted distinct non-empty values of label `name`."""
        return sorted(set(self.column(name)) - {""})

    def vocabularies(self) -> dict[str, list[str]]:
        """`vocabulary` of every label column."""
        return {name: self.vocabulary(name) for name in self.labels}

    def subset(self, indices: Sequence[int]) -> "ImageTable":
        """The rows at `indices` (same report, root and joins)."""
        return dataclasses.replace(
            self,
            paths=tuple(self.paths[i] for i in indices),
            labels={name: tuple(values[i] for i in indices) for name, values in self.labels.items()},
        )

    def with_labels(self, columns: Mapping[str, Sequence[str]], joins: Mapping[str, dict] | None = None) -> "ImageTable":
        """A copy with label `columns` added or replaced (and `joins` recorded)."""
        labels = {**self.labels, **{name: tuple(map(str, values)) for name, values in columns.items()}}
        return dataclasses.replace(self, labels=labels, joins={**self.joins, **(joins or {})})

    def filter(self, **conditions: str | Sequence[str]) -> "ImageTable":
        """The rows whose labels match every condition.

        Example: ``table.filter(brand=["Nike", "adidas"], category="Shoes")``.

        Args:
            **conditions: label name -> accepted value or values (exact match).

        Raises:
            KeyError: a condition names an unknown label.
            EmptySelectionError: no row matches; the message lists the values that exist.
        """
        accepted = {name: {value} if isinstance(value, str) else set(value) for name, value in conditions.items()}
        columns = {name: self.column(name) for name in accepted}
        keep = [i for i in range(len(self)) if all(columns[name][i] in accepted[name] for name in accepted)]
        if not keep:
            wanted = ", ".join(f"{name}={'|'.join(sorted(values))}" for name, values in accepted.items())
            existing = "; ".join(f"{name}: {value_listing(self.vocabulary(name))}" for name in accepted)
            raise EmptySelectionError(
                f"No image in {self.root!r} matches the filter {wanted}. Existing values: {existing}. "
                f"Received: {conditions}"
            )
        return self.subset(keep)

    def records(self) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
        """``({"image": path}, labels)`` per row, for writers such as `write_tfrecords`."""
        for index, path in enumerate(self.paths):
            yield {"image": path}, {name: values[index] for name, values in self.labels.items()}

    def summary(self) -> dict:
        """A JSON-ready description: counts, label vocabularies sizes, skips and joins."""
        return {
            "images": len(self),
            "labels": {name: len(self.vocabulary(name)) for name in self.labels},
            **self.report.as_dict(),
            "joins": dict(self.joins),
        }


def screened_images(root: str | os.PathLike, full_check: bool = False) -> tuple[list[Path], SkipReport]:
    """The readable images below `root` (sorted) and the report of the others.

    Args:
        root: the folder searched at any depth.
        full_check: decode every file completely (slow) instead of checking headers.

    Raises:
        FileNotFoundError: `root` is not a folder.
        EmptySelectionError: no readable JPEG/PNG file below `root`.
    """
    report = SkipReport(searched=str(root))
    found = list_images(root)
    paths = screen_images(found, report, full=full_check)
    if not paths:
        raise EmptySelectionError(
            f"No readable JPEG or PNG image found below {str(root)!r} (searched recursively; "
            f"{len(found)} image file(s) found, {report.count} unreadable)."
        )
    report.report()
    return paths, report


def folder_table(root: str | os.PathLike, folder_label: str | None = None, full_check: bool = False) -> ImageTable:
    """The images below `root` at any depth.

    Args:
        root: the folder.
        folder_label: when given, a label column of that name holding each
            image's first folder level below `root` ("" for files in `root`).
        full_check: decode every file completely when screening.
    """
    paths, report = screened_images(root, full_check)
    labels = {}
    if folder_label:
        labels[folder_label] = tuple(_levels(path, root, 1)[0] for path in paths)
    return ImageTable(tuple(map(str, paths)), labels, report, root=str(root))


def _levels(path: Path, root: str | os.PathLike, count: int) -> list[str]:
    folders = list(Path(path).relative_to(root).parts[:-1])
    return (folders + [""] * count)[:count]


def find_zappos_images(root: str | os.PathLike) -> Path:
    """`root` itself, or its ``ut-zap50k-images-square`` subfolder when it has one."""
    root = Path(root)
    return root / ZAPPOS_IMAGES if (root / ZAPPOS_IMAGES).is_dir() else root


def zappos_table(
    root: str | os.PathLike,
    meta_data: str | os.PathLike | None = "auto",
    manifest: str | os.PathLike | None = None,
    full_check: bool = False,
) -> ImageTable:
    """UT-Zappos50K: ``Category/SubCategory/Brand/*.jpg`` with labels from the path.

    Args:
        root: the ``ut-zap50k-images-square`` folder or its parent.
        meta_data: ``meta-data.csv`` to join (see `join_meta_data`); "auto" uses
            the first of `ZAPPOS_META_PLACES` that exists, if any; None skips it.
        manifest: a manifest CSV to join (see `join_manifest`), or None.
        full_check: decode every file completely when screening.
    """
    images = find_zappos_images(root)
    paths, report = screened_images(images, full_check)
    levels = [_levels(path, images, len(ZAPPOS_LEVELS)) for path in paths]
    labels = {name: tuple(row[i] for row in levels) for i, name in enumerate(ZAPPOS_LEVELS)}
    table = ImageTable(tuple(map(str, paths)), labels, report, root=str(images))
    if meta_data == "auto":
        places = (Path(os.path.normpath(images / place)) for place in ZAPPOS_META_PLACES)
        meta_data = next((place for place in places if place.is_file()), None)
    if meta_data is not None:
        table = join_meta_data(table, meta_data)
    if manifest is not None:
        table = join_manifest(table, manifest)
    return table


def zappos_cid(name: str) -> str:
    """The meta-data CID of a file name or CID: ``"7965307.5291.jpg"`` -> ``"7965307-5291"``."""
    name = PurePosixPath(name).name
    stem = name.rsplit(".", 1)[0] if name.lower().endswith((".jpg", ".jpeg", ".png")) else name
    return stem.strip().replace(".", "-")


def join_meta_data(table: ImageTable, meta_csv: str | os.PathLike) -> ImageTable:
    """Adds the ``meta-data.csv`` columns (snake_case: ``heel_height``, ...) by CID.

    The CID is the file stem with '.' replaced by '-' (both forms are accepted
    in the CSV). Columns the table already has (``category``, ``subcategory``
    from the path) keep their path values. Images without a row get "" and are
    counted in ``table.joins``.

    Args:
        table: the images.
        meta_csv: the ``meta-data.csv`` file.
    """
    meta_csv = Path(meta_csv)
    if not meta_csv.is_file():
        raise FileNotFoundError(f"UT-Zappos meta-data file not found. Received: meta_csv={str(meta_csv)!r}")
    with meta_csv.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        fields = reader.fieldnames or []
        if "CID" not in fields:
            raise ValueError(f"{str(meta_csv)!r} needs a 'CID' column. Received columns: {fields}")
        rows = {}
        for row in reader:
            rows.setdefault(zappos_cid(row["CID"]), row)
    columns = {field: META_ALIASES.get(field, snake_case(field)) for field in fields if field != "CID"}
    columns = {field: name for field, name in columns.items() if name not in table.labels}
    keys = [zappos_cid(path) for path in table.paths]
    return _join(table, meta_csv.name, str(meta_csv), keys, rows, columns)


def join_manifest(
    table: ImageTable, manifest: str | os.PathLike, columns: Sequence[str] | None = None
) -> ImageTable:
    """Adds label columns of a manifest CSV (``color``, ...), joined by relative path.

    A manifest column replaces a label of the same name where the manifest has
    a row; images without a row keep their label ("" for a new column) and are
    counted in ``table.joins``.

    Args:
        table: the images.
        manifest: the CSV file, or a folder holding ``manifest.csv``; its
            ``path`` column is relative to the CSV's folder.
        columns: the columns to add; all but ``path`` when None.
    """
    manifest = Path(manifest)
    csv_path = manifest / "manifest.csv" if manifest.is_dir() else manifest
    rows = read_manifest(csv_path)
    available = [name for name in (rows[0] if rows else {}) if name != "path"]
    unknown = [name for name in columns or () if name not in available]
    if unknown:
        raise ValueError(f"Manifest {str(csv_path)!r} has no column(s) {unknown}; it has {available}. Received: columns={columns}")
    lookup = {PurePosixPath(os.path.normpath(row["path"])).as_posix(): row for row in rows}
    base = csv_path.parent.resolve()
    keys = [_relative_key(path, base) for path in table.paths]
    return _join(table, csv_path.name, str(csv_path), keys, lookup, {name: name for name in columns or available})


def _relative_key(path: str, base: Path) -> str:
    try:
        return Path(path).resolve().relative_to(base).as_posix()
    except ValueError:
        return ""


def _join(
    table: ImageTable,
    name: str,
    source: str,
    keys: Sequence[str],
    rows: Mapping[str, Mapping[str, str]],
    columns: Mapping[str, str],
) -> ImageTable:
    """Adds CSV `columns` (CSV field -> label name) to `table`, row ``rows[keys[i]]`` for image i."""
    matched = [rows.get(key) for key in keys]
    new = {}
    for field, label in columns.items():
        old = table.labels.get(label, ("",) * len(table))
        new[label] = [old[i] if row is None else (row.get(field) or "").strip() for i, row in enumerate(matched)]
    missing = [table.paths[i] for i, row in enumerate(matched) if row is None]
    if missing:
        logger.warning("%d of %d image(s) in %s have no row in %s, e.g. %s", len(missing), len(table), table.root, source, missing[0])
    stats = {"source": source, "matched": len(table) - len(missing), "unmatched": len(missing), "unmatched_files": missing[:5]}
    return table.with_labels(new, {name: stats})


def ready(table) -> None:
    """Checks that a table (images, pairs, triplets) has rows and reports its skipped files once."""
    if not len(table):
        raise EmptySelectionError(f"The {table.kind} table of {table.root!r} is empty; nothing to load.")
    table.report.report()


def table_records(table: ImageTable, options: PipelineOptions, columns: Sequence[str] | None = None) -> tuple[tf.data.Dataset, Callable]:
    """Undecoded ``{"path", **labels}`` records of `table` (in order) and the graph function decoding one.

    Args:
        table: the images; its skipped files are reported once.
        options: decoding and fitting options.
        columns: the label columns to include; all when None.
    """
    ready(table)
    names = table.label_names if columns is None else columns
    return file_records(table.paths, {name: table.column(name) for name in names}, options)


def table_elements(table: ImageTable, options: PipelineOptions, columns: Sequence[str] | None = None) -> tf.data.Dataset:
    """Unbatched ``{"image", **labels}`` dicts of `table` (decoded in parallel, not shuffled).

    Args:
        table: the images; its skipped files are reported once.
        options: decoding and fitting options.
        columns: the label columns to include; all when None.
    """
    return map_decoded(*table_records(table, options, columns), options)


def folder_dataset(table: ImageTable, options: PipelineOptions, columns: Sequence[str] | None = None) -> tf.data.Dataset:
    """Batches of ``{"image": [B, S, S, C], label: [B] strings}`` from an image table.

    Args:
        table: the images (see `folder_table`, `zappos_table`, `ImageTable.filter`).
        options: the pipeline options.
        columns: the label columns to include; all when None.
    """
    return batch_pipeline(table_elements(table, options, columns), options, ("image",), num_examples=len(table))
