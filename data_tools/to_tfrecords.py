"""`shoes-data to-tfrecords SRC DST --shards N`: an image source as TFRecord shards."""

from __future__ import annotations

import argparse
from pathlib import Path

from data_tools.common import NON_REGULAR_HELP, CommandError, help_text, positive_int, progress
from data_tools.transform import add_tree_arguments
from shoes_generator.data.manifest import MANIFEST_NAME
from shoes_generator.data.names import FIT_MODES, SHARD_GLOB, SIDECAR

# The tables, the pipeline and the writer load TensorFlow: they are imported where the command runs,
# so that ``shoes-data to-tfrecords --help`` answers without it.

KINDS = ("folder", "zappos", "pairs", "triplets")
LABELLED_KINDS = ("folder", "zappos")
IMAGE_FORMATS = {"png": "png", "jpg": "jpeg"}
MIN_SIZE = 4


def register(subparsers) -> None:
    """Adds the `to-tfrecords` command."""
    parser = subparsers.add_parser(
        "to-tfrecords",
        help="write an image folder, UT-Zappos tree, A|B pairs or triplets as TFRecord shards",
        description=help_text(
            "Write the images of SRC with their labels as DST/data-0000i-of-0000N.tfrecord plus "
            f"DST/{SIDECAR} (feature keys, label vocabularies, examples per shard), readable with "
            "shoes_generator.data.tfrecords.tfrecord_dataset. Example i goes to shard i % N, so the output is "
            "deterministic; shards and sidecar already in DST (an earlier run) are replaced. Images "
            "keep their original file bytes unless --size is given, which decodes, fits and "
            "re-encodes them. Unreadable files are left out and counted.",
            "Kinds: folder (any depth; labels from SRC/manifest.csv when present, or from the first "
            "folder level with --folder-label), zappos (Category/SubCategory/Brand labels from the "
            "path, joined with meta-data.csv), pairs (A|B side-by-side images), triplets (SRC/input, "
            "SRC/mask, SRC/target matched by name).",
            NON_REGULAR_HELP,
        ),
        epilog="example: shoes-data to-tfrecords ut-zap50k-images-square zappos-tfr --kind zappos --shards 16 --size 128",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_tree_arguments(parser, "output folder for the shards and their sidecar (created)")
    parser.add_argument("--shards", type=positive_int, default=1, metavar="N", help="number of shard files (default 1)")
    parser.add_argument("--kind", choices=KINDS, default="folder", help="layout of SRC (default folder)")
    parser.add_argument(
        "--size", type=positive_int, default=None, metavar="S", help="fit every image to S x S and re-encode it (default: store the files as they are)"
    )
    parser.add_argument("--fit", choices=FIT_MODES, default="pad", help="with --size: pad (white, keeps the aspect ratio; default), resize or crop")
    parser.add_argument("--format", choices=tuple(IMAGE_FORMATS), default="png", help="with --size: encoding of the images (masks stay PNG; default png)")
    parser.add_argument("--folder-label", metavar="NAME", help="folder kind: a label NAME holding each image's first folder level")
    parser.add_argument(
        "--manifest", default="auto", metavar="CSV", help=f"folder/zappos: manifest to join by path: auto (SRC/{MANIFEST_NAME} if present; default), none, or a file"
    )
    parser.add_argument(
        "--meta-data", default="auto", metavar="CSV", help="zappos: meta-data.csv to join by CID: auto (next to the images; default), none, or a file"
    )
    parser.add_argument("--full-check", action="store_true", help="decode every file completely when screening (slow; catches truncated files)")
    parser.set_defaults(run=run)


def _optional_file(value: str, auto: Path | None) -> Path | None:
    """``auto`` -> `auto` (when it exists), ``none`` -> None, anything else -> that path."""
    if value == "auto":
        return auto if auto is not None and auto.is_file() else None
    return None if value == "none" else Path(value)


def build_table(args: argparse.Namespace):
    """The table of SRC for ``--kind`` (with its label joins).

    Raises:
        CommandError: SRC is not a source of ``--kind`` (no folder, no image, a folder of the layout
            missing), or a ``--manifest`` / ``--meta-data`` file is not there.
    """
    src = Path(args.src)
    if not src.is_dir():
        raise CommandError(f"source folder not found: {str(src)!r}")
    manifest = _optional_file(args.manifest, src / MANIFEST_NAME)
    if args.kind not in LABELLED_KINDS and args.manifest != "auto":
        raise CommandError(f"--manifest applies to --kind {' or '.join(LABELLED_KINDS)}; received --kind {args.kind}")
    from shoes_generator.data.folders import EmptySelectionError

    try:
        return _table(args, src, manifest)
    except (EmptySelectionError, FileNotFoundError) as error:  # The arguments name what is not there; a corrupt file is not this.
        raise CommandError(f"{error} (SRC={str(src)!r}, --kind {args.kind})") from error


def _table(args: argparse.Namespace, src: Path, manifest: Path | None):
    from shoes_generator.data.folders import folder_table, join_manifest, zappos_table
    from shoes_generator.data.paired import pair_table, triplet_table

    if args.kind == "pairs":
        return pair_table(src, args.full_check)
    if args.kind == "triplets":
        return triplet_table(src, full_check=args.full_check)
    if args.kind == "zappos":
        meta_data = "auto" if args.meta_data == "auto" else _optional_file(args.meta_data, None)
        return zappos_table(src, meta_data, manifest, args.full_check)
    table = folder_table(src, args.folder_label, args.full_check)
    return table if manifest is None else join_manifest(table, manifest)


def run(args: argparse.Namespace) -> dict:
    """Writes the shards; returns the summary."""
    from shoes_generator.data.pipeline import PipelineOptions
    from shoes_generator.data.tfrecords import write_tfrecords

    if args.size is not None and args.size < MIN_SIZE:
        raise CommandError(f"--size must be at least {MIN_SIZE} pixels; received --size {args.size}")
    table = build_table(args)
    options = None if args.size is None else PipelineOptions(image_size=args.size, fit=args.fit, shuffle=False)
    dst = Path(args.dst)
    if dst.exists() and not dst.is_dir():
        raise CommandError(f"destination is not a folder. Received: DST={str(dst)!r}")
    replaced = len(list(dst.glob(SHARD_GLOB))) if dst.is_dir() else 0
    info = write_tfrecords(
        table,
        dst,
        shards=args.shards,
        options=options,
        image_format=IMAGE_FORMATS[args.format],
        overwrite=True,
        progress=lambda records, total: progress(records, "to-tfrecords", total),
    )
    return {
        "src": str(args.src),
        "dst": str(args.dst),
        "kind": args.kind,
        "stored_kind": info.kind,
        "encoding": info.encoding,
        "size": args.size,
        "examples": info.examples,
        "shards": len(info.shards),
        "examples_per_shard": [shard["examples"] for shard in info.shards],
        "image_keys": list(info.image_keys),
        "labels": {name: len(values) for name, values in info.vocabularies.items()},
        "joins": dict(getattr(table, "joins", {})),
        **table.report.as_dict(),
        "replaced_shards": replaced,
        "sidecar": str(dst / SIDECAR),
    }
