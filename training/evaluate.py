"""`shoes-eval`: measure an exported generator (type/colour accuracy, Frechet distance and its floor)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: keep its C++ start-up logs quiet.

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from shoes_generator.cli_common import EXIT_FAILURE, EXIT_USAGE, UsageError, add_deprecated, fail, runtime_errors

EPILOG = """
MODEL is a run directory (its saved_model/ is measured and the figures are
appended to its metrics.jsonl) or a SavedModel directory of a generator.
pix2pix and CycleGAN runs are measured on held-out data (the Fashion-MNIST
test split; runs on folders of pairs or photos on their training data, as the
report's held_out says): pix2pix l1, psnr, ssim, frechet_distance and type_accuracy of
outputs; CycleGAN the share of A->B outputs classified as B shoes (beside the
share of untranslated shoes), cycle_l1_aba/bab and the Frechet distance of
translated vs real B shoes. Segmentation runs are scored on their held-out
split (Fashion-MNIST's test split, or a stable tenth of a label folder) through
the exported segment signature: pixel_accuracy, mean_iou and per_class_iou.
-n is the number of held-out examples there.

The judge is a small shoe-type classifier the project trains on Fashion-MNIST
once (about a minute) and caches in $SHOES_CACHE or ~/.cache/shoes_generator.
type_accuracy: samples classified as the type asked for. color_accuracy: the
dominant-colour tool finds the colour asked for. frechet_distance: of the
classifier's features, samples vs real test shoes; frechet_floor_real_vs_real:
real train vs real test shoes of the same count (the best to expect).
within_label_spread: mean feature distance between samples asked for with the
same labels, beside within_label_spread_real for real shoes of one colour and
type (far below it = mode collapse). --metrics fid,kid,pr adds FID, KID and
improved precision/recall over the chosen features (--features classifier, or
inception with ImageNet weights), each beside its real-vs-real floor.
--server HOST:PORT --model NAME measures a served model through the gRPC client. An accuracy the judge cannot give (labels
it does not know, e.g. UT-Zappos categories) is replaced by a *_note key.

Exit codes: 2 for a wrong command line (unknown metric names, a MODEL that is not a run or a
SavedModel, options that do not apply to the model), 1 for a failure while measuring (a corrupt
config.json or SavedModel, a model that fails, weights that do not load), with one
"shoes-eval: error: ..." line on stderr.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shoes-eval", description="Measure a trained shoe generator or image-to-image model.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", nargs="?", help="a run directory or a SavedModel directory (or use --server)")
    parser.add_argument("-n", "--count", dest="samples", type=int, default=2000, help="generated samples (default 2000)")
    add_deprecated(parser, "--samples", "-n/--count", dest="samples", type=int)
    parser.add_argument("--seed", type=int, default=0, help="first noise seed (default 0)")
    parser.add_argument("-o", "--out", metavar="JSON", help="also write the report to this file")
    parser.add_argument("--cache", metavar="DIR", help="classifier cache folder")
    from shoes_generator.evaluation.registry import metric_names, registered_names

    parser.add_argument("--metrics", default="", metavar="NAMES",
                        help=f"comma-separated registered metrics: {', '.join(registered_names())}; asking adds the optional ones "
                             f"({', '.join(metric_names(optional=True))}), the others are always reported where they apply; "
                             "'--metrics list' describes them")
    parser.add_argument("--features", choices=["classifier", "inception"], default="classifier",
                        help="feature extractor of --metrics (inception needs ImageNet weights; default classifier)")
    parser.add_argument("--inception-weights", metavar="H5", help="InceptionV3 notop weights file (offline machines)")
    parser.add_argument("--server", metavar="HOST:PORT", help="measure a served generator over gRPC instead of MODEL")
    parser.add_argument("--model", dest="name", metavar="NAME", default="shoes", help="the served model's name (with --server; default shoes)")
    add_deprecated(parser, "--name", "--model", dest="name")
    return parser


def resolve(model: str) -> tuple[Path, Path | None]:
    """(SavedModel dir, run dir or None) of a MODEL argument (a run, its saved_model/, or another SavedModel);
    FileNotFoundError naming it otherwise."""
    path = Path(model)
    if (path / "saved_model" / "saved_model.pb").is_file():
        return path / "saved_model", path
    if (path / "saved_model.pb").is_file():  # A run's own saved_model/ is measured as its run.
        return path, path.parent if (path.parent / "config.json").is_file() and path.name == "saved_model" else None
    raise FileNotFoundError(f"MODEL must be a run directory with saved_model/ or a SavedModel directory. Received: {model!r}")


def print_table(report: dict) -> None:
    """The report as an aligned two-column table on stderr (nested dicts as ``key.inner`` rows)."""
    rows = []
    for key, value in report.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        rows += [(key if inner is None else f"{key}.{inner}", v) for inner, v in items]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}", file=sys.stderr)


def measure(args, saved_model: Path | None, run_dir: Path | None, metrics: list[str]) -> dict:
    """The report of the model `args` names: a segmenter's, a pix2pix / CycleGAN run's or a generator's.

    Args:
        args: the parsed command line.
        saved_model: the SavedModel directory (None with ``--server``).
        run_dir: its run directory (None for a bare SavedModel or a served model).
        metrics: the extra feature metrics asked for (generators only).

    Raises:
        UsageError: generator-only options (``--metrics``, ``--features``, ``--inception-weights``) for
            another family.
        ValueError: a run or model found wrong while measuring (e.g. a corrupt config.json).
        RuntimeError: the InceptionV3 weights could not be loaded.
    """
    config = None
    if run_dir is not None:
        from shoes_generator.runs import read_config

        try:
            config = read_config(run_dir)
        except ValueError as error:  # A corrupt or unknown config.json: the run is wrong, not the command line.
            raise ValueError(f"the run's config {str(run_dir / 'config.json')!r} cannot be read: {error}") from error
    if config is not None and not config.family.noise_generator:
        given = [flag for flag, used in (("--metrics", metrics), ("--features", args.features != "classifier"),
                                         ("--inception-weights", args.inception_weights)) if used]
        if given:
            raise UsageError(f"{', '.join(given)} measure noise generators; {run_dir} is a {config.model.family} run.")
    if config is not None:
        return config.family.evaluate(saved_model, config, args, metrics)
    from shoes_generator.families.noise import evaluate_noise_generator

    return evaluate_noise_generator(saved_model, args, metrics)  # A bare SavedModel or a served model: a generator.


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-eval`; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.samples < 2:
        print(f"shoes-eval: error: -n must be at least 2. Received: {args.samples}", file=sys.stderr)
        return 2
    from shoes_generator.evaluation.registry import describe_metrics, requested_metrics

    if args.metrics.strip() == "list":
        print(describe_metrics())
        return 0
    try:
        metrics = requested_metrics(args.metrics)  # The optional ones: the others are always reported.
    except ValueError as error:
        print(f"shoes-eval: error: {error}", file=sys.stderr)
        return 2
    if (args.model is None) == (args.server is None):
        print("shoes-eval: error: give MODEL or --server (one of them)", file=sys.stderr)
        return 2
    saved_model, run_dir = None, None
    try:
        if args.model is not None:
            saved_model, run_dir = resolve(args.model)
    except FileNotFoundError as error:  # MODEL is not a run or a SavedModel.
        return fail("shoes-eval", error, EXIT_USAGE)
    try:
        report = measure(args, saved_model, run_dir, metrics)
    except UsageError as error:  # Options that do not apply to the model.
        return fail("shoes-eval", error, EXIT_USAGE)
    except runtime_errors() as error:  # Found while measuring: a corrupt config.json, unreadable files, a model that fails.
        return fail("shoes-eval", error, EXIT_FAILURE)
    print_table(report)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if run_dir is not None:
        from shoes_generator.runs import METRICS_FILE, append_metrics

        append_metrics(run_dir / METRICS_FILE, {"kind": "eval", "time": round(time.time()), **report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
