"""Matplotlib figures written as PNG: labelled sample grids and loss curves."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from shoes_generator.imaging.io import image_grid  # noqa: E402
from shoes_generator.runs import read_metrics  # noqa: E402


def save_labelled_grid(
    images: np.ndarray,
    rows: int,
    cols: int,
    path: str | Path,
    row_labels: Sequence[str] = (),
    col_labels: Sequence[str] = (),
    title: str = "",
) -> Path:
    """Saves ``uint8`` images ``[rows*cols, H, W, C]`` as a grid with row/column captions.

    Args:
        images: the images, row-major.
        rows: grid rows.
        cols: grid columns.
        path: the PNG to write.
        row_labels: one caption per row (e.g. colours), or none.
        col_labels: one caption per column group (e.g. types), spread evenly, or none.
        title: figure title.
    """
    grid = image_grid(images, rows, cols, pad=2)
    h, w = images.shape[1:3]
    scale = max(1.0, 48 / h)
    fig_w = grid.shape[1] * scale / 100 + (1.2 if row_labels else 0.2)
    fig_h = grid.shape[0] * scale / 100 + (0.6 if col_labels or title else 0.2)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h), dpi=100)
    ax.imshow(grid.squeeze(), cmap="gray" if grid.shape[-1] == 1 else None, interpolation="nearest", vmin=0, vmax=255)
    ax.set_xticks([])
    ax.set_yticks([])
    if row_labels:
        ax.set_yticks([2 + (h + 2) * r + h / 2 for r in range(rows)], list(row_labels), fontsize=8)
    if col_labels:
        per = cols / len(col_labels)
        ax.set_xticks([2 + (w + 2) * (per * i + per / 2) - 1 for i in range(len(col_labels))], list(col_labels), fontsize=8)
        ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=9, pad=14 if col_labels else 4)
    fig.tight_layout(pad=0.2)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight", pad_inches=0.05)
    plt.close(fig)
    return path


def save_loss_curve(metrics_jsonl: str | Path, path: str | Path, keys: Sequence[str] = ("d_loss", "g_loss", "loss")) -> Path | None:
    """Plots `keys` over training steps from a run's ``metrics.jsonl`` (step records).

    Args:
        metrics_jsonl: the metrics file (one JSON object per line, with ``step``).
        path: the PNG to write.
        keys: the series to plot (those the run logs: GANs' d_loss/g_loss, a segmenter's loss).

    Returns:
        The PNG path, or None when there is nothing to plot yet.
    """
    return save_series_plot(metrics_jsonl, path, keys, "loss (running mean over the epoch)")


def save_series_plot(
    metrics_jsonl: str | Path, path: str | Path, keys: Sequence[str], ylabel: str, reference: float | None = None
) -> Path | None:
    """Plots the logged series `keys` over training steps from a run's ``metrics.jsonl`` (step records).

    Args:
        metrics_jsonl: the metrics file (one JSON object per line, with ``step``).
        path: the PNG to write.
        keys: the logged values to plot, one line each (those absent are skipped).
        ylabel: the y axis's caption.
        reference: a horizontal dashed line at this value (a target), or None.

    Returns:
        The PNG path, or None when there is nothing to plot yet.
    """
    records = [r for r in read_metrics(metrics_jsonl) if r.get("kind") == "step"]
    if not records:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for key in keys:
        points = [(r["step"], r[key]) for r in records if key in r]
        if points:
            steps, values = zip(*points)
            ax.plot(steps, values, label=key, linewidth=1.2)
    if reference is not None:
        ax.axhline(reference, color="grey", linestyle="--", linewidth=1.0, label=f"target {reference:g}")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path

