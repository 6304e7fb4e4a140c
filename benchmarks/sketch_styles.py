"""Sketch -> shoe models on sketches drawn many ways: type accuracy per sketch style, and a figure.

Usage:
    python benchmarks/sketch_styles.py RUN_OR_SAVED_MODEL [RUN_OR_SAVED_MODEL ...] [-n 3000]
        [--names NAME ...] [--figure docs/sketch_styles.png [--show NAME ...]] [--json benchmarks/sketch_styles_results.json]

Each held-out Fashion-MNIST test shoe is sketched in every style of `imaging.sketch_styles`
(the project's own sketch, the other training styles, and the held-out styles no training run
uses), each sketch sent as a PNG of its own canvas (32-96 px) to the model's exported
``serving_default``, as a client sends it. Two judges read the type of each output shoe: the
project's classifier (``shoes-eval``'s) and the second, independently trained ``crosscheck``
classifier (`evaluation.classifier`, another architecture and other training images). Prints one
JSON object (per model and style: each judge's type accuracy, and the means over the training and
the held-out styles); the figure has a row per style, and for a few shoes the sketch (as the model
sees it, fitted to its size) beside each model's output.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shoes_generator.data.fmnist import CATEGORY_NAMES  # noqa: E402
from shoes_generator.data.fmnist_edges import framed_shoe_arrays  # noqa: E402
from shoes_generator.data.fmnist_sketches import fit_sketches  # noqa: E402
from shoes_generator.evaluation.classifier import load_or_train_classifier, predict_types  # noqa: E402
from shoes_generator.evaluation.spade_eval import png_bytes  # noqa: E402
from shoes_generator.generate import saved_model_dir  # noqa: E402
from shoes_generator.imaging.sketch_styles import HELD_OUT_STYLES, STYLES, TRAIN_STYLES, draw_sketch  # noqa: E402
from shoes_generator.plots import save_labelled_grid  # noqa: E402

SEED = 18_005  # Sketch settings of the benchmark: (SEED, shoe index), apart from any training seed.
JUDGES = ("project", "crosscheck")
FIGURE_SHOES = 2  # Per type.


def translate(model, sketches: list[np.ndarray], batch_size: int = 250) -> np.ndarray:
    """uint8 ``[N, S, S, 3]`` shoes `model`'s ``serving_default`` draws from PNGs of `sketches`."""
    signature = model.signatures["serving_default"]
    out = []
    for start in range(0, len(sketches), batch_size):
        encoded = tf.constant(np.asarray([png_bytes(s) for s in sketches[start : start + batch_size]], object))
        out.append(signature(image_bytes=encoded)["images"].numpy())
    return np.concatenate(out)


@functools.lru_cache(maxsize=None)
def judges(image_size: int) -> tuple[dict, dict]:
    """For outputs of `image_size`: judge name -> ``images -> type names`` (the project's and the crosscheck
    classifier, trained and cached on first use), and each judge's accuracy on real test shoes."""
    found, accuracy = {}, {}
    for kind in JUDGES:
        classifier, info = load_or_train_classifier(image_size, kind=kind)
        found[kind] = functools.partial(predict_types, classifier)
        accuracy[kind] = info["test_accuracy"]
    return found, accuracy


def type_accuracy(judge: dict, outputs: np.ndarray, categories: np.ndarray) -> dict:
    """Each judge's share of `outputs` of the right type, overall and per type (the project judge's)."""
    called = {kind: judge[kind](outputs) for kind in JUDGES}
    report = {f"{kind}_type_accuracy": round(float(np.mean(called[kind] == categories)), 4) for kind in JUDGES}
    report["project_per_type"] = {t: round(float(np.mean(called["project"][categories == t] == t)), 4) for t in CATEGORY_NAMES}
    return report


def style_sketches(shoes: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Style -> one sketch of each shoe in it, shoe ``i`` drawn from ``(SEED, i)``."""
    return {style: [draw_sketch(shoe, style, (SEED, i)) for i, shoe in enumerate(shoes)] for style in STYLES}


def figure_rows(categories: np.ndarray) -> list[int]:
    """The shoes shown in the figure: the first `FIGURE_SHOES` of each type."""
    return [int(i) for kind in CATEGORY_NAMES for i in np.flatnonzero(categories == kind)[:FIGURE_SHOES]]


def save_figure(path: Path, sketches: dict, outputs: dict[str, dict[str, np.ndarray]], shown: list[int]) -> Path:
    """Rows = styles (train, then held out), per shoe: the fitted sketch | each model's output."""
    cells = []
    for style, drawn in sketches.items():
        fitted = fit_sketches([drawn[i] for i in shown], next(iter(outputs.values()))[style].shape[1])
        for j, i in enumerate(shown):
            cells.append(np.repeat(fitted[j][..., None], 3, -1))
            cells += [outputs[name][style][i] for name in outputs]
    labels = [f"{style} ({'train' if style in TRAIN_STYLES else 'held out'})" for style in sketches]
    columns = ["sketch", *outputs] * len(shown)
    cols = len(columns)
    return save_labelled_grid(np.stack(cells), len(sketches), cols, path, labels, columns,
                              "sketch styles: held-out test shoes, sketch | output of each model")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", type=Path, nargs="+", help="run directories (their saved_model/) or exported SavedModels")
    parser.add_argument("-n", "--count", type=int, default=3000, help="held-out test shoes (default 3000: all)")
    parser.add_argument("--names", nargs="+", help="a short name per model (default: the run directory's name)")
    parser.add_argument("--figure", type=Path, help="write the style x shoe figure here (e.g. docs/sketch_styles.png)")
    parser.add_argument("--show", nargs="+", help="the models (names) the figure shows (default: all)")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if args.names and len(args.names) != len(args.models):
        parser.error(f"--names needs one name per model. Received: {len(args.names)} names for {len(args.models)} models")
    names = args.names or [m.name for m in args.models]
    if set(args.show or names) - set(names):
        parser.error(f"--show names models of --names. Received: --show {args.show}, models {names}")
    try:
        exports = [saved_model_dir(str(m)) for m in args.models]
    except ValueError as error:
        parser.error(str(error))
    shoes, categories = framed_shoe_arrays("test", args.count)
    sketches = style_sketches(shoes)
    report = {"examples": int(len(shoes)), "seed": SEED, "train_styles": list(TRAIN_STYLES), "held_out_styles": list(HELD_OUT_STYLES),
              "models": {}}
    outputs = {}
    for name, export in zip(names, exports):
        model = tf.saved_model.load(str(export))
        outputs[name] = {style: translate(model, drawn) for style, drawn in sketches.items()}
        judge, judge_accuracy = judges(int(outputs[name]["project"].shape[1]))
        styles = {style: {"split": "train" if style in TRAIN_STYLES else "held_out", **type_accuracy(judge, out, categories)}
                  for style, out in outputs[name].items()}
        means = {f"{split}_mean_{kind}": round(float(np.mean([s[f"{kind}_type_accuracy"] for s in styles.values() if s["split"] == split])), 4)
                 for split in ("train", "held_out") for kind in JUDGES}
        report["models"][name] = {"saved_model": str(export), "judges_test_accuracy": judge_accuracy, **means, "styles": styles}
    if args.figure:
        shown = {name: outputs[name] for name in args.show or names}
        report["figure"] = str(save_figure(args.figure, sketches, shown, figure_rows(categories)))
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
