"""`shoes-data downsample SRC DST -f N -s SIZE`: a small, low-resolution copy for development."""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path
from typing import Sequence

from data_tools.common import positive_int, source_images
from data_tools.resize_pad import pad_writer
from data_tools.transform import OUTPUT_FORMATS, add_format_argument, add_tree_command, prepare_destination, transform_tree
from shoes_generator.data.manifest import MANIFEST_NAME, read_manifest, write_manifest
from shoes_generator.data.skips import SkipReport, screen_images

META_DATA_NAME = "meta-data.csv"
# Where UT-Zappos50K keeps meta-data.csv, relative to the images folder given as SRC.
META_DATA_PLACES = (Path(META_DATA_NAME), Path("ut-zap50k-data") / META_DATA_NAME, Path("..") / "ut-zap50k-data" / META_DATA_NAME)


def register(subparsers) -> None:
    """Adds the `downsample` command."""
    parser = add_tree_command(
        subparsers,
        "downsample",
        help="a small, low-resolution copy of an image tree for development",
        paragraphs=(
            "Copy N images of SRC, padded to white SIZE x SIZE squares, to the same relative "
            "paths below DST, so the labels encoded in the folder tree survive. The N files are "
            "spread evenly over the sorted list of readable images (every k-th file), so each "
            "folder keeps its share; --seed draws a seeded random sample instead. Files whose "
            "header cannot be read are left out before choosing; files that fail to decode "
            "later are skipped and counted, so the summary can show fewer than N written.",
            f"Labels come along: SRC/{MANIFEST_NAME} is copied to DST/{MANIFEST_NAME} with the "
            f"rows of the copied images (paths updated), and a UT-Zappos50K {META_DATA_NAME} "
            f"(looked for in SRC, SRC/ut-zap50k-data and SRC/../ut-zap50k-data) is copied to "
            f"DST/{META_DATA_NAME} with the rows whose CID matches a copied file (7965307.5291.jpg "
            "is CID 7965307-5291).",
        ),
        example="shoes-data downsample ut-zap50k-images-square zappos-dev -f 2000 -s 64",
        dst_help="destination folder (created; must not be inside SRC)",
        run=run,
    )
    parser.add_argument("-f", "--files", type=positive_int, default=None, metavar="N", help="number of images to copy (default: all)")
    parser.add_argument("-s", "--size", type=positive_int, default=64, metavar="SIZE", help="side of the output squares in pixels (default 64)")
    parser.add_argument("--seed", type=int, default=None, help="draw a random sample with this seed instead of spreading evenly")
    add_format_argument(parser)


def run(args: argparse.Namespace) -> dict:
    """Copies the chosen images small; returns the summary."""
    src = Path(args.src)
    sources = source_images(src)
    dst = prepare_destination(src, args.dst)
    screened = SkipReport(str(src))
    readable = screen_images(sources, screened, full=False)
    skips = SkipReport(str(src), [(Path(path).relative_to(src).as_posix(), reason) for path, reason in screened.skipped])
    chosen = choose(readable, args.files, args.seed)
    summary, outputs = transform_tree(
        src,
        dst,
        chosen,
        "downsample",
        pad_writer(dst, args.size),
        suffix=OUTPUT_FORMATS[args.format],
        skips=skips,
        max_pixels=args.max_pixels,
        output_side=args.size,
    )
    return {
        **summary,
        "found": len(sources),
        "requested": args.files if args.files is not None else "all",
        "chosen": len(chosen),
        "selection": "even spread" if args.seed is None else f"random, seed={args.seed}",
        "size": args.size,
        "format": args.format,
        "manifest_rows": copy_manifest(src, dst, outputs),
        "meta_data_rows": copy_meta_data(src, dst, outputs),
    }


def choose(paths: Sequence[Path], count: int | None, seed: int | None = None) -> list[Path]:
    """`count` of `paths`, in their order: evenly spread, or a seeded random sample.

    Args:
        paths: the candidates, sorted.
        count: how many to keep; None (or more than there are) keeps all.
        seed: None spreads evenly (indices ``i * len / count``); an int draws
            a random sample with that seed.
    """
    total = len(paths)
    if count is None or count >= total:
        return list(paths)
    if seed is None:
        indices = [index * total // count for index in range(count)]
    else:
        indices = sorted(random.Random(seed).sample(range(total), count))
    return [paths[index] for index in indices]


def copy_manifest(src: Path, dst: Path, outputs: dict[Path, Path]) -> int | None:
    """Writes DST/manifest.csv with the rows of the copied images; returns their count (None: no manifest)."""
    if not (src / MANIFEST_NAME).is_file():
        return None
    with (src / MANIFEST_NAME).open(newline="") as handle:
        header = csv.DictReader(handle).fieldnames or []
    columns = ["path"] + [column for column in header if column != "path"]
    by_source = {rel.as_posix(): out.as_posix() for rel, out in outputs.items()}
    rows = [{**row, "path": by_source[Path(row["path"]).as_posix()]} for row in read_manifest(src) if Path(row["path"]).as_posix() in by_source]
    write_manifest(dst / MANIFEST_NAME, rows, columns)
    return len(rows)


def copy_meta_data(src: Path, dst: Path, outputs: dict[Path, Path]) -> int | None:
    """Writes DST/meta-data.csv with the UT-Zappos rows of the copied images; returns their count.

    A file without a ``CID`` column is copied whole. None when no meta-data.csv is found.
    """
    found = [src / place for place in META_DATA_PLACES if (src / place).is_file()]
    if not found:
        return None
    with found[0].open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames or [], list(reader)
    if "CID" in columns:
        cids = {rel.stem.replace(".", "-") for rel in outputs}
        rows = [row for row in rows if row["CID"] in cids]
    with (dst / META_DATA_NAME).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
