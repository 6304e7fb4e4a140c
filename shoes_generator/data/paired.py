"""Aligned image-to-image data: edges2shoes ``A|B`` pairs and (input, mask, target) triplets.

Pairs yield ``{"input", "target"}``, triplets ``{"input", "mask", "target"}``;
every image of an example gets the same jitter and flip. Masks have one
channel in ``[-1, 1]`` (-1 background, 1 foreground; padding is background);
models that want a 4-channel input concatenate them themselves.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Callable, Iterator, Mapping

import tensorflow as tf

from shoes_generator.data.folders import EmptySelectionError, ready, screened_images
from shoes_generator.data.pipeline import (
    PipelineOptions,
    batch_pipeline,
    decode_fitted,
    decode_image,
    fit_image,
    map_decoded,
    to_float,
)
from shoes_generator.data.skips import SkipReport, screen_images
from shoes_generator.imaging.io import list_images

DIRECTIONS = ("AtoB", "BtoA")
PAIR_KEYS = ("input", "target")
TRIPLET_KEYS = ("input", "mask", "target")
MASK_KEYS = ("mask",)


@dataclasses.dataclass(frozen=True)
class PairTable:
    """Side-by-side ``A|B`` image files.

    Attributes:
        paths: the files, sorted.
        report: the unreadable files left out.
        root: the folder searched.
    """

    paths: tuple[str, ...]
    report: SkipReport
    root: str = ""

    kind = "pairs"
    image_keys = ("ab",)

    def __len__(self) -> int:
        return len(self.paths)

    def records(self) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
        """``({"ab": path}, {})`` per pair, for writers such as `write_tfrecords`."""
        for path in self.paths:
            yield {"ab": path}, {}


@dataclasses.dataclass(frozen=True)
class TripletTable:
    """(input, mask, target) files matched by relative path without extension.

    Attributes:
        names: the matched names (``"sub/0"`` for ``input/sub/0.jpg``), sorted.
        files: ``"input"``, ``"mask"``, ``"target"`` -> paths aligned with `names`.
        report: the unreadable files left out (with their whole triplet).
        root: what was searched.
    """

    names: tuple[str, ...]
    files: Mapping[str, tuple[str, ...]]
    report: SkipReport
    root: str = ""

    kind = "triplets"
    image_keys = TRIPLET_KEYS

    def __len__(self) -> int:
        return len(self.names)

    def records(self) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
        """``({"input": path, "mask": path, "target": path}, {})`` per triplet."""
        for index in range(len(self)):
            yield {key: self.files[key][index] for key in TRIPLET_KEYS}, {}


def check_direction(direction: str) -> str:
    """Returns `direction` if it is "AtoB" or "BtoA", else raises ValueError."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}. Received: direction={direction!r}")
    return direction


def pair_table(root: str | os.PathLike, full_check: bool = False) -> PairTable:
    """The ``A|B`` images below `root` (any depth), screened for unreadable files.

    Args:
        root: the folder.
        full_check: decode every file completely when screening.
    """
    paths, report = screened_images(root, full_check)
    return PairTable(tuple(map(str, paths)), report, root=str(root))


def split_pair(image: tf.Tensor, direction: str = "AtoB") -> tuple[tf.Tensor, tf.Tensor]:
    """Splits an ``[H, 2W, C]`` ``A|B`` image (graph op) into ``(input, target)``.

    Args:
        image: the side-by-side image; an odd last column is dropped.
        direction: "AtoB" (input A, target B) or "BtoA".
    """
    check_direction(direction)
    half = tf.shape(image)[1] // 2
    a, b = image[:, :half], image[:, half : 2 * half]
    return (a, b) if direction == "AtoB" else (b, a)


def decode_pair(data: tf.Tensor, options: PipelineOptions, direction: str = "AtoB") -> dict[str, tf.Tensor]:
    """Encoded ``A|B`` bytes -> ``{"input", "target"}`` fitted images (graph op).

    Args:
        data: the encoded side-by-side image.
        options: output size, channels and fit mode.
        direction: "AtoB" or "BtoA".
    """
    halves = split_pair(to_float(decode_image(data, options.channels)), direction)
    return {key: fit_image(half, options.image_size, options.fit, options.pad_value) for key, half in zip(PAIR_KEYS, halves)}


def pair_records(table: PairTable, options: PipelineOptions, direction: str = "AtoB") -> tuple[tf.data.Dataset, Callable]:
    """The ``A|B`` file paths of `table` (in order) and the graph function decoding one to ``{"input", "target"}``.

    Args:
        table: the ``A|B`` files.
        options: decoding and fitting options.
        direction: "AtoB" or "BtoA".
    """
    check_direction(direction)
    ready(table)
    return tf.data.Dataset.from_tensor_slices(list(table.paths)), lambda path: decode_pair(tf.io.read_file(path), options, direction)


def pair_elements(table: PairTable, options: PipelineOptions, direction: str = "AtoB") -> tf.data.Dataset:
    """Unbatched ``{"input", "target"}`` dicts of `table`, in order.

    Args:
        table: the ``A|B`` files.
        options: decoding and fitting options.
        direction: "AtoB" or "BtoA".
    """
    return map_decoded(*pair_records(table, options, direction), options)


def pair_dataset(source: PairTable | str | os.PathLike, options: PipelineOptions, direction: str = "AtoB") -> tf.data.Dataset:
    """Batches of ``{"input", "target"}`` from ``A|B`` images, jittered and flipped together.

    Args:
        source: a `PairTable` or a folder of ``A|B`` images.
        options: the pipeline options.
        direction: "AtoB" (A is the input) or "BtoA".
    """
    table = source if isinstance(source, PairTable) else pair_table(source)
    return batch_pipeline(pair_elements(table, options, direction), options, PAIR_KEYS, num_examples=len(table))


def _named_images(key: str, folder: Path) -> dict[str, Path]:
    """Relative path without extension -> file, for the images below `folder`."""
    named = {}
    for path in list_images(folder):
        name = path.relative_to(folder).with_suffix("").as_posix()
        if name in named:
            raise ValueError(
                f"Two {key} images share the name {name!r}, so triplets cannot be matched. "
                f"Received: {str(named[name])!r} and {str(path)!r}"
            )
        named[name] = path
    return named


def triplet_table(
    root: str | os.PathLike,
    folders: Mapping[str, str | os.PathLike] | None = None,
    full_check: bool = False,
) -> TripletTable:
    """(input, mask, target) images in three parallel folders, matched by name.

    ``input/shoe1.jpg``, ``mask/shoe1.png`` and ``target/shoe1.jpg`` form one
    triplet (relative path without extension). A triplet with an unreadable
    file is left out and counted.

    Args:
        root: the folder holding the three folders.
        folders: ``"input"``, ``"mask"``, ``"target"`` -> folder, relative to
            `root` or absolute; defaults to the key names.
        full_check: decode every file completely when screening.

    Raises:
        ValueError: the folders do not hold the same names (lists some missing ones).
        EmptySelectionError: no complete, readable triplet.
    """
    folders = {key: Path(root) / (folders or {}).get(key, key) for key in TRIPLET_KEYS}
    named = {key: _named_images(key, folder) for key, folder in folders.items()}
    every = sorted(set().union(*named.values()))
    missing = {key: [name for name in every if name not in named[key]] for key in TRIPLET_KEYS}
    if any(missing.values()):
        details = "; ".join(
            f"{len(names)} missing in {str(folders[key])!r} (e.g. {names[:5]})" for key, names in missing.items() if names
        )
        raise ValueError(f"The triplet folders below {str(root)!r} do not hold the same images: {details}.")
    report = SkipReport(searched=str(root))
    readable = set(screen_images([named[key][name] for name in every for key in TRIPLET_KEYS], report, full=full_check))
    names = [name for name in every if all(named[key][name] in readable for key in TRIPLET_KEYS)]
    if not names:
        raise EmptySelectionError(
            f"No complete readable (input, mask, target) triplet below {str(root)!r} "
            f"(searched {[str(folder) for folder in folders.values()]}; {report.count} unreadable file(s))."
        )
    report.report()
    files = {key: tuple(str(named[key][name]) for name in names) for key in TRIPLET_KEYS}
    return TripletTable(tuple(names), files, report, root=str(root))


def decode_images(encoded: Mapping[str, tf.Tensor], options: PipelineOptions, mask_keys=MASK_KEYS) -> dict[str, tf.Tensor]:
    """Encoded images by key -> fitted images; `mask_keys` get 1 channel and -1 padding.

    Args:
        encoded: key -> encoded PNG/JPEG string scalar.
        options: output size, channels and fit mode.
        mask_keys: the keys holding masks.
    """
    return {
        key: decode_fitted(data, options, channels=1, pad_value=-1.0) if key in mask_keys else decode_fitted(data, options)
        for key, data in encoded.items()
    }


def triplet_records(table: TripletTable, options: PipelineOptions) -> tuple[tf.data.Dataset, Callable]:
    """``{"input", "mask", "target"}`` file paths of `table` (in order) and the graph function decoding one.

    Args:
        table: the matched files.
        options: decoding and fitting options.
    """
    ready(table)
    files = tf.data.Dataset.from_tensor_slices({key: list(table.files[key]) for key in TRIPLET_KEYS})
    return files, lambda example: decode_images({key: tf.io.read_file(path) for key, path in example.items()}, options)


def triplet_elements(table: TripletTable, options: PipelineOptions) -> tf.data.Dataset:
    """Unbatched ``{"input", "mask", "target"}`` dicts of `table`, in order.

    Args:
        table: the matched files.
        options: decoding and fitting options.
    """
    return map_decoded(*triplet_records(table, options), options)


def triplet_dataset(source: TripletTable | str | os.PathLike, options: PipelineOptions) -> tf.data.Dataset:
    """Batches of ``{"input", "mask", "target"}``, jittered and flipped together.

    Args:
        source: a `TripletTable` or a folder with ``input/``, ``mask/``, ``target/``.
        options: the pipeline options.
    """
    table = source if isinstance(source, TripletTable) else triplet_table(source)
    return batch_pipeline(triplet_elements(table, options), options, TRIPLET_KEYS, num_examples=len(table))
