"""`shoes-data flatten SRC DST [--move]`: every image of a nested tree in one folder."""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path

from data_tools.common import progress, source_images
from data_tools.naming import existing_names, unique_name
from data_tools.transform import add_tree_command, prepare_destination
from shoes_generator.data.skips import SkipReport
from shoes_generator.imaging.io import check_image, regular_file_problem

MAPPING_NAME = "flatten_mapping.csv"
NAMINGS = ("path", "name")


def register(subparsers) -> None:
    """Adds the `flatten` command."""
    parser = add_tree_command(
        subparsers,
        "flatten",
        help="copy (or move) every image of a nested tree into one folder without losing same-named files",
        paragraphs=(
            "Copy every .jpg/.jpeg/.png below SRC (any depth, sorted order) into the single "
            "folder DST. Unlike `find SRC -name '*.jpg' | xargs mv -t DST`, files with the same "
            "name in different folders all survive, and no file already in DST is overwritten.",
            "Naming rule (--naming path, the default): the folders of the relative path are "
            "joined to the name with '_': SRC/Boots/Ankle/Timberland/100.1.jpg becomes "
            "Boots_Ankle_Timberland_100.1.jpg, which also keeps the labels readable. With "
            "--naming name the file name is kept. Either way, when the name is already taken "
            "(by an earlier file in sorted order or a file in DST; compared case-insensitively) "
            "_1, _2, ... is added before the extension: 100.1_1.jpg.",
            f"DST/{MAPPING_NAME} lists every file written (source path relative to SRC, new "
            f"name); if it exists, the mapping goes to {Path(MAPPING_NAME).stem}_1.csv and so on.",
            "Unreadable images (empty, truncated, not an image) are skipped, listed in the "
            "summary and left in SRC, also with --move; --no-check copies files by name "
            "without decoding them (faster, corrupt files and images over --max-pixels "
            "included; files that are not regular files are still skipped).",
        ),
        example="shoes-data flatten ut-zap50k-images-square zappos-flat --move",
        dst_help="the flat destination folder (created; must not be inside SRC)",
        run=run,
    )
    parser.add_argument("--move", action="store_true", help="move the files instead of copying them (empty folders stay in SRC)")
    parser.add_argument("--naming", choices=NAMINGS, default="path", help="path: prefix the folders (default); name: keep the file name")
    parser.add_argument("--no-check", dest="check", action="store_false", help="do not decode the images; copy or move every file by name")


def run(args: argparse.Namespace) -> dict:
    """Copies or moves the images into DST; returns the summary."""
    src = Path(args.src)
    sources = source_images(src)
    dst = prepare_destination(src, args.dst)
    taken = existing_names(dst)
    mapping_path = dst / unique_name(MAPPING_NAME, taken)
    transfer = shutil.move if args.move else shutil.copy2
    skips = SkipReport(str(src))
    written = collisions = 0
    with mapping_path.open("w", newline="") as handle:  # row by row: an interrupted --move keeps its record
        mapping = csv.writer(handle)
        mapping.writerow(["source", "destination"])
        for path in progress(sources, "flatten"):
            rel = path.relative_to(src)
            reason = check_image(path, max_pixels=args.max_pixels) if args.check else regular_file_problem(path)
            if reason is not None:
                skips.add(rel.as_posix(), reason)
                continue
            wanted = flat_name(rel, args.naming)
            name = unique_name(wanted, taken)  # `taken` holds DST's files and every name picked so far.
            transfer(str(path), str(dst / name))
            mapping.writerow([rel.as_posix(), name.as_posix()])
            written += 1
            collisions += name != wanted
    skips.report()
    return {
        "source": str(src),
        "destination": str(dst),
        "mode": "move" if args.move else "copy",
        "naming": args.naming,
        "found": len(sources),
        "written": written,
        "collisions_renamed": collisions,
        "mapping": str(mapping_path),
        **skips.as_dict(),
    }


def flat_name(rel: Path, naming: str) -> Path:
    """The wanted flat name of `rel` (before collisions): folders joined with '_', or the bare name."""
    return Path("_".join(rel.parts)) if naming == "path" else Path(rel.name)
