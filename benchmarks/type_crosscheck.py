"""Type accuracy of colour x type generators by two independently trained classifiers, per type, with a look.

Issue 15 asks not to trust one judge: the project's classifier (``project``, the judge of `shoes-eval`) and a
second one trained apart (``crosscheck``: another architecture, grey and randomly tinted shoes; see
`shoes_generator.evaluation.classifier`) each give every model's samples a type. For each model this prints,
per requested type and overall, the share each judge calls the requested type, how often the judges agree,
and each judge's confusion (requested -> called); the same for held-out real shoes (catalogue-coloured test
shoes) as the reference. Writes ``<out>/<name>_per_type.png`` for each model: a row of samples per type
(the first `--grid` samples asked for that type, colours cycling), to look at, not only count.

Prints JSON. Usage:
    python benchmarks/type_crosscheck.py RUN_OR_SAVED_MODEL [RUN_OR_SAVED_MODEL ...] [-n 2000] [-o DIR] [--grid 12]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from shoes_generator.data.names import CATEGORY_NAMES  # noqa: E402
from shoes_generator.generate import saved_model_dir  # noqa: E402

JUDGES = ("project", "crosscheck")


def type_report(asked: np.ndarray, called: dict[str, np.ndarray]) -> dict:
    """Per-type and overall accuracy of each judge, their agreement and confusion.

    Args:
        asked: the requested (or true) category of each image.
        called: judge name -> the category it gives each image.
    """
    report = {}
    for judge, found in called.items():
        report[judge] = {
            "accuracy": round(float(np.mean(found == asked)), 4),
            "per_type": {t: round(float(np.mean(found[asked == t] == t)), 4) for t in CATEGORY_NAMES if np.any(asked == t)},
            "confusion": {t: {c: int(np.sum((asked == t) & (found == c))) for c in CATEGORY_NAMES} for t in CATEGORY_NAMES if np.any(asked == t)},
        }
    first, second = (called[j] for j in JUDGES)
    report["judges_agree"] = round(float(np.mean(first == second)), 4)
    return report


def per_type_grid(images: np.ndarray, asked: np.ndarray, per_row: int, path: Path, title: str) -> Path:
    """A row of the first `per_row` images asked for each type."""
    from shoes_generator.plots import save_labelled_grid

    rows = [images[asked == t][:per_row] for t in CATEGORY_NAMES]
    blank = np.full((per_row, *images.shape[1:]), 255, np.uint8)
    cells = np.concatenate([np.concatenate([row, blank[len(row):]]) for row in rows])
    return save_labelled_grid(cells, len(CATEGORY_NAMES), per_row, path, row_labels=CATEGORY_NAMES, title=title)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path, help="run directories or exported generator SavedModels")
    parser.add_argument("-n", "--samples", type=int, default=2000, help="samples per model, label pairs balanced (default: %(default)s)")
    parser.add_argument("-o", "--out", type=Path, default=Path("type_crosscheck"), help="folder of the per-type grids (default: %(default)s)")
    parser.add_argument("--grid", type=int, default=12, help="samples per type in each grid (default: %(default)s)")
    parser.add_argument("--cache", type=Path, help="classifier cache (default: $SHOES_CACHE or ~/.cache/shoes_generator)")
    args = parser.parse_args(argv)
    try:
        exports = [saved_model_dir(str(m)) for m in args.models]
    except ValueError as error:
        parser.error(str(error))

    import tensorflow as tf

    from shoes_generator.evaluation.classifier import load_or_train_classifier, predict_types
    from shoes_generator.evaluation.generator_eval import generate
    from shoes_generator.evaluation.reference import real_shoes

    report, judges = {}, {}
    for model, export in zip(args.models, exports):
        loaded = tf.saved_model.load(str(export))
        images, labels = generate(loaded, args.samples, seed=0)
        size = int(images.shape[1])
        for kind in JUDGES:
            if (kind, size) not in judges:  # Loaded once per size (setdefault would load it again for every model).
                judges[(kind, size)] = load_or_train_classifier(size, args.cache, kind=kind)
        name = model.name if model.name != "saved_model" else model.parent.name
        asked = labels["category"]
        entry = type_report(asked, {kind: predict_types(judges[(kind, size)][0], images) for kind in JUDGES})
        entry["grid"] = str(per_type_grid(images, asked, args.grid, args.out / f"{name}_per_type.png", name))
        report[name] = entry
    sizes = sorted({size for _, size in judges})
    for size in sizes:
        real, categories, _ = real_shoes("test", size, colored=True, limit=args.samples, seed=7)
        report[f"real_test_shoes_{size}px"] = type_report(categories, {kind: predict_types(judges[(kind, size)][0], real) for kind in JUDGES})
    report["judges"] = {f"{kind}_{size}px": judges[(kind, size)][1] for kind, size in judges}
    report["command"] = "python benchmarks/type_crosscheck.py " + " ".join(str(m) for m in args.models) + f" -n {args.samples}"
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
