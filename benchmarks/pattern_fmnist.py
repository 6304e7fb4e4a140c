"""Pattern transfer on held-out prints: the `shoes-eval` figures of a run and the README's picture.

Usage:
    python benchmarks/pattern_fmnist.py RUN_DIR [--figure docs/pattern_fmnist_grid.png]

Prints one JSON object: the run's `evaluate_pattern` report (pattern top-1 among 12 held-out
exemplars, with a sketch too, the descriptor's oracle, type accuracy on silhouettes and on grey levels). The figure
shows 8 held-out prints, each on an object that is not a shoe, and one real texture photograph of
`skimage.data` that training never used (the `chelsea` fur, `HELD_OUT_TEXTURES`) on a bag: exemplar
| a sandal, a sneaker, an ankle boot in that print (``serving_default``, row i's seed i) | a held-out sketch
| the sketched shoe in that print (``with_sketch``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shoes_generator.data.fmnist import CATEGORY_NAMES  # noqa: E402
from shoes_generator.evaluation.pattern_eval import draw_sketched, draw_types, evaluate_pattern, held_out_prints  # noqa: E402
from shoes_generator.imaging.patterns import HELD_OUT_ID_START, object_mask, pattern_spec, render_on_object, render_pattern  # noqa: E402
from shoes_generator.plots import save_labelled_grid  # noqa: E402
from shoes_generator.runs import read_config  # noqa: E402

ROWS = 8


def real_texture_on_a_bag(size: int, texture: str = "chelsea") -> np.ndarray:
    """The first held-out photo print cut from `texture`, on a bag."""
    pattern_id = next(i for i in range(HELD_OUT_ID_START, HELD_OUT_ID_START + 10_000)
                      if pattern_spec(i, "photo").params["texture"] == texture)
    mask = object_mask("bag", size, np.random.default_rng(0))
    return render_on_object(render_pattern(pattern_spec(pattern_id, "photo"), size), mask)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--figure", type=Path, default=Path("docs/pattern_fmnist_grid.png"))
    args = parser.parse_args(argv)
    config = read_config(args.run_dir)
    saved = args.run_dir / "saved_model"
    report = evaluate_pattern(saved, config)
    model = tf.saved_model.load(str(saved))
    size = config.data.image_size
    held = held_out_prints(size, seed=config.data.seed)  # The prints the report scored.
    exemplars = np.concatenate([held["exemplar"][:ROWS], real_texture_on_a_bag(size)[None]])
    sketches = held["sketch"][: ROWS + 1]
    shoes, _, _ = draw_types(model, exemplars, CATEGORY_NAMES, 1)
    sketched = draw_sketched(model, exemplars, sketches)
    columns = [exemplars, *(shoes[i :: len(CATEGORY_NAMES)] for i in range(len(CATEGORY_NAMES))), sketches, sketched]
    grid = np.stack(columns, axis=1).reshape(-1, size, size, 3)
    rows = [f"{kind} on a {obj}" for kind, obj in zip(held["kind"][:ROWS], held["object"][:ROWS])] + ["photo (chelsea) on a bag"]
    save_labelled_grid(grid, len(rows), len(columns), args.figure, rows,
                       ["exemplar", "sandal", "sneaker", "ankle boot", "sketch", "sketched"], "held-out prints -> shoes")
    report["figure"] = str(args.figure)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
