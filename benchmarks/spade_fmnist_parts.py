"""SPADE on Fashion-MNIST part maps: the held-out figures of `shoes-eval` and the README's pictures.

Usage:
    python benchmarks/spade_fmnist_parts.py RUN_DIR [--count 500] [--grid docs/spade_fmnist_parts_grid.png]
        [--segmenter PART_SEGMENTER_SAVED_MODEL --strip docs/spade_redesign.png]

Prints one JSON object: the run's `evaluate_spade` report (silhouette IoU, type accuracy, seed
spread, style colour accuracy) and what was drawn. The grid shows, for two held-out shoes of each
type, the part map | four shoes from seeds 0-3 | a style image (another held-out shoe) | the shoe
drawn with that style. With ``--segmenter`` (an exported ``segment_fmnist_parts`` model) it also
draws redesign strips (photo | its parts | a taller shaft for boots, a bigger heel for the others | the new shoe)
locally from the two SavedModels, the chain `shoes-client redesign` runs against a server.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from serving.part_maps import edit  # noqa: E402
from shoes_generator.evaluation.spade_eval import evaluate_spade, held_out_maps, png_bytes  # noqa: E402
from shoes_generator.imaging.palette import class_colors  # noqa: E402
from shoes_generator.plots import save_labelled_grid  # noqa: E402
from shoes_generator.runs import read_config  # noqa: E402

TYPES = ("sandal", "sneaker", "ankle_boot")
EDITS = {"sandal": {"heel": 3}, "sneaker": {"heel": 3}, "ankle_boot": {"shaft": 4}}  # Grown by N pixels, per type (redesign strip).


def draw(model, signature: str, maps, seed: int, styles=None) -> np.ndarray:
    inputs = {"label_map_bytes": tf.constant(np.asarray([png_bytes(m) for m in maps], object)),
              "seed": tf.constant(np.full(len(maps), seed, np.int64))}
    if styles is not None:
        inputs["style_bytes"] = tf.constant(np.asarray([png_bytes(s) for s in styles], object))
    return model.signatures[signature](**inputs)["images"].numpy()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--count", type=int, default=500, help="held-out maps scored (default 500)")
    parser.add_argument("--grid", type=Path, default=Path("docs/spade_fmnist_parts_grid.png"))
    parser.add_argument("--segmenter", type=Path, help="an exported part segmenter (for the redesign strips)")
    parser.add_argument("--strip", type=Path, default=Path("docs/spade_redesign.png"))
    args = parser.parse_args(argv)
    config = read_config(args.run_dir)
    saved = args.run_dir / "saved_model"
    report = evaluate_spade(saved, config, args.count)
    model = tf.saved_model.load(str(saved))
    held = held_out_maps(config, 200)
    has_part = lambda i, part: bool((held["maps"][i] == config.data.classes.index(part)).any())  # noqa: E731
    rows = [i for kind in TYPES for i in [j for j in np.flatnonzero(held["category"] == kind) if all(has_part(j, p) for p in EDITS[kind])][:2]]
    maps, photos = held["maps"][rows], held["images"][rows]
    styles = held["images"][[(i + 7) % len(held["images"]) for i in rows]]
    columns = [class_colors(maps), *(draw(model, "serving_default", maps, seed) for seed in range(4)), styles,
               draw(model, "with_style", maps, 0, styles)]
    grid = np.stack(columns, axis=1).reshape(-1, *photos.shape[1:])
    row_labels = [str(held["category"][i]) for i in rows]
    save_labelled_grid(grid, len(rows), len(columns), args.grid, row_labels,
                       ["parts", "seed 0", "seed 1", "seed 2", "seed 3", "style", "styled"], "SPADE: held-out part maps")
    report["grid"] = str(args.grid)
    if args.segmenter:
        segmenter = tf.saved_model.load(str(args.segmenter))
        encoded = tf.constant(np.asarray([png_bytes(p) for p in photos], object))
        parts = segmenter.signatures["segment"](image_bytes=encoded)["classes"].numpy()
        names = list(config.data.classes)
        edits = [EDITS[held["category"][i]] for i in rows]
        edited = np.stack([edit(p, names, grow=e) for p, e in zip(parts, edits)])
        new = draw(model, "with_style", edited, 0, photos)
        strip = np.stack([photos, class_colors(parts), class_colors(edited), new], axis=1).reshape(-1, *photos.shape[1:])
        labels = [f"{label}: " + ", ".join(f"{part} +{n}" for part, n in e.items()) for label, e in zip(row_labels, edits)]
        save_labelled_grid(strip, len(rows), 4, args.strip, labels, ["photo", "parts", "edited", "new"],
                           "redesign: parts edited, redrawn in the photo's look")
        report["strip"] = str(args.strip)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
