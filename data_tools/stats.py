"""`shoes-data stats SRC [--out DIR]`: label distributions as PNG bar charts and JSON.

Labels come from ``SRC/manifest.csv`` (every column with few distinct values:
colour, type, split, ...) and from the folders of each image's path: a
UT-Zappos50K tree (``Category/SubCategory/Brand/*.jpg``, also below a
``ut-zap50k-images*`` folder) gives ``category``, ``subcategory``, ``brand``;
any other tree gives ``folder_1``, ``folder_2``, ... . A manifest column wins over
a path label of the same name.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Mapping

from data_tools.common import NON_REGULAR_HELP, CommandError, add_summary_argument, help_text, source_images
from shoes_generator.data.manifest import MANIFEST_NAME, read_manifest
from shoes_generator.data.skips import SkipReport, screen_images
from shoes_generator.imaging.colors import REFERENCE_RGB

ZAPPOS_LEVELS = ("category", "subcategory", "brand")
ZAPPOS_ROOT_PREFIX = "ut-zap50k-images"
MISSING = "(missing)"
STATS_JSON = "label_stats.json"


def default_out_dir(src: str | Path) -> Path:
    """``<SRC>_stats`` next to SRC: outside the image tree, so outputs are never read back as images."""
    src = Path(src).resolve()
    return src.parent / f"{src.name}_stats"


def bar_chart(counts: Mapping[str, int], path: str | Path, title: str, top: int = 30) -> Path:
    """Saves a bar chart of `counts` as PNG; colour names get bars of their colour.

    Args:
        counts: value -> count, drawn in the given order.
        path: the PNG file (folders are created).
        title: the chart title.
        top: at most this many bars; the rest are summed into one "(N others)" bar.
    """
    from matplotlib.figure import Figure

    items = list(counts.items())
    if len(items) > top:
        rest = items[top - 1 :]
        items = items[: top - 1] + [(f"({len(rest)} others)", sum(count for _, count in rest))]
    labels = [str(label) for label, _ in items]
    colors = [tuple(c / 255 for c in REFERENCE_RGB[label]) if label in REFERENCE_RGB else "#4c72b0" for label in labels]
    figure = Figure(figsize=(max(4.0, 0.45 * len(items) + 1.5), 3.6), layout="constrained")
    axes = figure.subplots()
    bars = axes.bar(range(len(items)), [count for _, count in items], color=colors, edgecolor="black", linewidth=0.6)
    axes.bar_label(bars, fontsize=7)
    axes.set_xticks(range(len(items)), labels, rotation=45 if len(items) > 4 else 0, ha="right" if len(items) > 4 else "center", fontsize=8)
    axes.set_ylabel("images")
    axes.set_title(title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path


def path_labels(relative_paths: list[Path]) -> list[dict[str, str]]:
    """Labels from the folders of each path (relative to SRC).

    A UT-Zappos50K tree (every image three folders deep, possibly below a
    ``ut-zap50k-images*`` folder) gives category/subcategory/brand; any other
    tree gives ``folder_1``, ``folder_2``, ... (flat folders give nothing).

    Args:
        relative_paths: image paths relative to the source folder.
    """
    folders = []
    for rel in relative_paths:
        parts = rel.parent.parts
        roots = [i for i, part in enumerate(parts) if part.startswith(ZAPPOS_ROOT_PREFIX)]
        folders.append(parts[roots[-1] + 1 :] if roots else parts)
    zappos = bool(folders) and all(len(parts) == len(ZAPPOS_LEVELS) for parts in folders)
    if zappos:
        return [dict(zip(ZAPPOS_LEVELS, parts)) for parts in folders]
    return [{f"folder_{level}": part for level, part in enumerate(parts, 1)} for parts in folders]


def label_rows(src: Path, skips: SkipReport) -> tuple[list[dict[str, str]], set[str]]:
    """One dict of labels per image: manifest columns over path labels.

    With a manifest its rows are the images; without one, every readable image
    below SRC (unreadable ones are recorded in `skips`).

    Returns:
        The rows (without ``path``) and the names of the path-derived columns
        (a manifest column wins over a folder label of the same name, and folder
        levels that only repeat a manifest column are dropped).
    """
    if (src / MANIFEST_NAME).is_file():
        manifest = read_manifest(src)
        relative = [Path(row["path"]) for row in manifest]
    else:
        manifest = None
        relative = [path.relative_to(src) for path in screen_images(source_images(src), skips)]
    from_paths = path_labels(relative)
    manifest_labels = [{key: value for key, value in row.items() if key not in ("path", None)} for row in manifest or []]
    manifest_columns = list(manifest_labels[0]) if manifest_labels else []

    def repeats_manifest(name: str) -> bool:  # e.g. folder train/ and split=train
        values = [row.get(name) for row in from_paths]
        return any(values == [row.get(other) for row in manifest_labels] for other in manifest_columns)

    path_columns = {name for row in from_paths for name in row if name not in manifest_columns}
    path_columns = {name for name in path_columns if not repeats_manifest(name)}
    rows = []
    for index, path_row in enumerate(from_paths):
        row = {name: value for name, value in path_row.items() if name in path_columns}
        row.update(manifest_labels[index] if manifest_labels else {})
        rows.append(row)
    return rows, path_columns


def distributions(rows: list[dict[str, str]], keep_always: set[str], max_values: int) -> tuple[dict, dict]:
    """Counts of every label column, most frequent first (ties by value).

    Args:
        rows: label dicts, one per image.
        keep_always: columns counted however many values they have (path labels).
        max_values: other columns with more distinct values are left out
            (identifiers, file names).

    Returns:
        ``{column: {value: count}}`` and ``{left-out column: distinct values}``.
    """
    columns = list(dict.fromkeys(name for row in rows for name in row))
    counts, left_out = {}, {}
    for column in columns:
        counter = Counter(row.get(column) or MISSING for row in rows)
        if set(counter) == {MISSING}:
            continue
        if len(counter) > max_values and column not in keep_always:
            left_out[column] = len(counter)
            continue
        counts[column] = dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))
    return counts, left_out


def register(subparsers) -> None:
    """Adds the `stats` command."""
    parser = subparsers.add_parser(
        "stats",
        help="label distributions (colour, type, any manifest column, UT-Zappos folders) as PNG bar charts and JSON",
        description=help_text(
                "Count the labels of the images below SRC and draw one bar chart per label.",
                f"Labels: every column of SRC/{MANIFEST_NAME} with at most --max-values distinct values "
                "(color, category, split, ...; with a manifest, its rows are the images), and the "
                "folders of each path: a UT-Zappos50K tree (Category/SubCategory/Brand/*.jpg) gives "
                "category, subcategory and brand, any other tree folder_1, folder_2, ... .",
                f"Writes DIR/<label>.png and DIR/{STATS_JSON}; DIR defaults to <SRC>_stats next to SRC "
                "(outside the image tree). Charts show the 30 most frequent values; the JSON has all.",
                "Without a manifest, files whose header cannot be read are skipped and counted. " + NON_REGULAR_HELP,
        ),
        epilog="example: shoes-data stats outputs/fmnist_color --out outputs/stats",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("src", metavar="SRC", help="image folder (searched recursively), optionally with manifest.csv")
    parser.add_argument("--out", metavar="DIR", help="where the charts and the JSON go (default: <SRC>_stats)")
    parser.add_argument("--max-values", type=int, default=50, help="manifest columns with more distinct values are left out (default 50)")
    add_summary_argument(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> dict:
    """Counts the labels, writes the charts and the JSON; returns the summary."""
    src = Path(args.src)
    if not src.is_dir():
        raise CommandError(f"source folder not found. Received: SRC={str(src)!r}")
    if args.max_values < 1:
        raise CommandError(f"--max-values must be >= 1. Received: --max-values={args.max_values}")
    out = Path(args.out) if args.out else default_out_dir(src)
    skips = SkipReport(str(src))
    rows, path_columns = label_rows(src, skips)
    skips.report()
    counts, left_out = distributions(rows, path_columns, args.max_values)
    charts = {
        column: str(bar_chart(values, out / (re.sub(r"[^\w.-]+", "_", column) + ".png"), f"{column} ({len(rows)} images)"))
        for column, values in counts.items()
    }
    summary = {
        "source": str(src),
        "images": len(rows),
        "labels_from": "manifest and paths" if (src / MANIFEST_NAME).is_file() else "paths",
        "distributions": counts,
        "left_out_columns": left_out,
        "charts": charts,
        "json": str(out / STATS_JSON),
        **skips.as_dict(),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / STATS_JSON).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
