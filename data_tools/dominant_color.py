"""`shoes-data dominant-color SRC [--rename] [--plot [FILE]] [--manifest PATH]`: one catalogue colour per image.

Renaming rule: ``<color>_<originalStem>_<n><ext>`` in the file's own folder, ``n``
the smallest number (from 0) that no other file of that folder uses (names are
compared case-insensitively). Idempotent: a stem already of the form
``<color>_<stem>_<n>`` (any catalogue colour) is taken as renamed, so
``<stem>`` is its original stem; a second run keeps such a file's name when its
colour is unchanged and swaps only the prefix otherwise. (A file that was
originally called e.g. ``red_carpet_2.jpg`` is therefore read as already renamed.)
The whole stem must have that form, whatever characters ``<stem>`` holds
(newlines included).

Images are analysed from a copy reduced to a longer side of at least
``ANALYSIS_SIDE`` pixels (JPEGs are decoded reduced, others averaged in bands),
and images with more than ``--max-pixels`` pixels to decode are skipped, so the
memory an image takes is bounded: at most 4 bytes per decoded pixel (1 for 1-bit
and grey images; at most ``4 * max_pixels`` bytes, 160 MB at the default), RGB
bands of ``REDUCE_BAND_PIXELS`` while reducing, and the analysis of fewer than
``(2 * ANALYSIS_SIDE)**2`` pixels at about 45 bytes each (under 50 MB).
"""

from __future__ import annotations

import argparse
import os
import re
from collections import Counter
from pathlib import Path

from data_tools.common import (
    MAX_PIXELS_HELP,
    NON_REGULAR_HELP,
    CommandError,
    add_max_pixels_argument,
    add_summary_argument,
    help_text,
    progress,
    source_images,
)
from data_tools.naming import name_key
from data_tools.stats import bar_chart, default_out_dir
from shoes_generator.data.manifest import MANIFEST_NAME, read_manifest, write_manifest
from shoes_generator.data.skips import SkipReport
from shoes_generator.imaging.colors import COLOR_NAMES, dominant_color
from shoes_generator.imaging.io import READ_ERRORS, describe_error, load_rgb

# Matched with fullmatch; DOTALL: a stem may hold newlines (`$` would also accept a trailing one).
RENAMED = re.compile(rf"(?:{'|'.join(COLOR_NAMES)})_(.+)_(\d+)", re.DOTALL)
# Images are analysed reduced to a longer side between this and twice this.
ANALYSIS_SIDE = 512
PLOT_NAME = "color_distribution.png"


def original_stem(stem: str) -> str:
    """The stem before renaming: ``red_shoe_3`` -> ``shoe``; other stems unchanged."""
    match = RENAMED.fullmatch(stem)
    return match.group(1) if match else stem


def plan_renames(colors: dict[Path, str]) -> dict[Path, Path]:
    """New paths ``<color>_<originalStem>_<n><ext>`` for labelled files (same folder).

    Every name already in the folder stays reserved, except a file's own name when
    it is already the right one, so no rename ever overwrites a file.

    Args:
        colors: file path -> its colour, in processing order.

    Returns:
        old path -> new path, for the files whose name changes.
    """
    by_folder: dict[Path, list[Path]] = {}
    for path in colors:
        by_folder.setdefault(path.parent, []).append(path)
    plan = {}
    for folder, paths in by_folder.items():
        taken = {name_key(entry.name) for entry in folder.iterdir()}
        for path in paths:
            stem = original_stem(path.stem)
            if RENAMED.fullmatch(path.stem) and path.stem.startswith(f"{colors[path]}_"):
                continue  # already named for its colour
            number = 0
            while name_key(f"{colors[path]}_{stem}_{number}{path.suffix}") in taken:
                number += 1
            new = folder / f"{colors[path]}_{stem}_{number}{path.suffix}"
            taken.add(name_key(new.name))
            plan[path] = new
    return plan


def merge_manifest(manifest_path: Path, labels: dict[str, str], moved: dict[str, str]) -> tuple[list[dict], list[str]]:
    """Rows and columns of the updated manifest: existing rows and columns kept, ``color`` set.

    Args:
        manifest_path: the manifest file (read when it exists).
        labels: path (relative to the manifest's folder, after renaming) -> colour.
        moved: old relative path -> new relative path, for renamed files.
    """
    rows, columns = {}, ["path"]
    if manifest_path.is_file():
        for row in read_manifest(manifest_path):
            row.pop(None, None)
            path = moved.get(row["path"], row["path"])
            rows[path] = {**row, "path": path}
            columns += [key for key in row if key not in columns]
    if "color" not in columns:
        columns.append("color")
    for path, color in labels.items():
        rows.setdefault(path, {"path": path})["color"] = color
    return [rows[path] for path in sorted(rows)], columns


def register(subparsers) -> None:
    """Adds the `dominant-color` command."""
    parser = subparsers.add_parser(
        "dominant-color",
        help="label every image with one of the 11 catalogue colours (manifest.csv, optional renaming and plot)",
        description=help_text(
                "Label every .jpg/.jpeg/.png below SRC with its dominant colour, one of: " + ", ".join(COLOR_NAMES) + ".",
                "The background (white or black) is read from the border pixels; the foreground "
                "pixels vote with rules over RGB, hue, saturation and value "
                "(shoes_generator.imaging.colors).",
                f"Writes SRC/{MANIFEST_NAME} (or --manifest PATH) with the columns path,color; an "
                "existing manifest keeps its other columns and rows, and its color column is overwritten.",
                "--rename names each file <color>_<originalStem>_<n><ext> in its folder, n being the "
                "smallest free number from 0; a name already of that form is not prefixed again "
                "(running twice changes nothing). Manifest paths follow the renames.",
                "Unreadable files are skipped, counted and listed in the summary. " + NON_REGULAR_HELP,
                f"Colours are read from a copy reduced to a longer side of {ANALYSIS_SIDE}-{2 * ANALYSIS_SIDE - 1} "
                "pixels (smaller images as they are). " + MAX_PIXELS_HELP,
        ),
        epilog="example: shoes-data dominant-color zappos-flat --rename --plot",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", metavar="SRC", help="image folder, searched recursively")
    parser.add_argument("--rename", action="store_true", help="rename files to <color>_<originalStem>_<n><ext>")
    parser.add_argument(
        "--plot",
        nargs="?",
        const="",
        metavar="FILE",
        help=f"save the colour distribution as a PNG bar chart (default FILE: <SRC>_stats/{PLOT_NAME})",
    )
    parser.add_argument("--manifest", metavar="PATH", help=f"manifest to write or update (default: SRC/{MANIFEST_NAME})")
    add_max_pixels_argument(parser)
    add_summary_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> dict:
    """Labels the images, renames them on request, writes the manifest and the plot."""
    src = Path(args.src)
    manifest_path = Path(args.manifest) if args.manifest else src / MANIFEST_NAME
    if manifest_path.is_dir():
        raise CommandError(f"--manifest must be a CSV file path, not a folder. Received: --manifest={args.manifest!r}")
    plot_path = None if args.plot is None else Path(args.plot or default_out_dir(src) / PLOT_NAME)
    # os.path.realpath, unlike Path.resolve() (RuntimeError), leaves a symlink loop be: it is skipped below.
    own_outputs = {os.path.realpath(plot_path)} if plot_path else set()
    paths = [path for path in source_images(src) if os.path.realpath(path) not in own_outputs]
    skips = SkipReport(str(src))
    colors: dict[Path, str] = {}
    for path in progress(paths, "dominant-color", total=len(paths)):
        try:
            colors[path] = dominant_color(load_rgb(path, args.max_pixels, ANALYSIS_SIDE)).name
        except READ_ERRORS as error:
            skips.add(path.relative_to(src).as_posix(), describe_error(error))
    skips.report()
    if not colors:
        raise CommandError(f"no readable image below {str(src)!r}: all {len(paths)} files were skipped")

    base = manifest_path.parent

    def relative(path: Path) -> str:
        return Path(os.path.relpath(path, base)).as_posix()

    plan = plan_renames(colors) if args.rename else {}
    for old, new in plan.items():
        old.rename(new)
    labels = {relative(plan.get(path, path)): color for path, color in colors.items()}
    rows, columns = merge_manifest(manifest_path, labels, {relative(old): relative(new) for old, new in plan.items()})
    write_manifest(manifest_path, rows, columns)

    counts = Counter(colors.values())
    counts = {name: counts.get(name, 0) for name in COLOR_NAMES}
    if plot_path:
        bar_chart(dict(sorted(counts.items(), key=lambda item: -item[1])), plot_path, f"dominant colour ({len(colors)} images)")
    return {
        "source": str(src),
        "labelled": len(colors),
        "counts": counts,
        "manifest": str(manifest_path),
        "renamed": len(plan),
        "plot": str(plot_path) if plot_path else None,
        **skips.as_dict(),
    }
