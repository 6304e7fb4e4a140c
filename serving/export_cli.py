"""shoes-export: publish a training run's model for TF Serving as <model-base>/<model>/<version>/.

    shoes-export runs/00003-cgan_fmnist_color --model-base models --model shoes
    shoes-export RUN --model-base models --model shoes --version 7

The newest checkpoint of the run is restored (it must fit the run's config), a
generator's EMA BatchNorm statistics are recomputed, and the SavedModel is written
to a hidden temporary folder, then renamed into place: a server polling the model
base picks up the version whole, never half-copied. Generators get serving_default,
truncated, from_latent and labels; pix2pix serving_default and from_pixels;
CycleGAN also b_to_a and blend; segmenters segment and class_names. Warm-up
requests go in assets.extra/. Prints {"model", "version", "path", "step"} as JSON.
Exit codes: 2 for a wrong command line (a bad model name or version, RUN_DIR
without config.json), 1 when the export fails (no checkpoint, one that does not
fit the config, an existing version).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from shoes_generator.cli_common import EXIT_FAILURE, EXIT_USAGE, add_deprecated, fail, positive_int

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shoes-export", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="a shoes-train run directory (with config.json and checkpoints/)")
    parser.add_argument("--model-base", type=Path, required=True, help="TF Serving model base folder")
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", dest="model", metavar="NAME", help="model name (letters, digits, _ . -)")
    add_deprecated(model, "--name", "--model", dest="model")
    parser.add_argument("--version", type=positive_int, help="version number (default: the next free one)")
    args = parser.parse_args(argv)
    if not (args.run_dir / "config.json").is_file():
        return fail(parser.prog, f"RUN_DIR is not a shoes-train run directory (no config.json). Received: {str(args.run_dir)!r}", EXIT_USAGE)
    from shoes_generator.publish import check_model_name, export_run

    try:
        check_model_name(args.model)
    except ValueError as error:
        return fail(parser.prog, error, EXIT_USAGE)
    try:
        path, step = export_run(args.run_dir, args.model_base, args.model, args.version)
    except (OSError, ValueError) as error:  # No checkpoint, one that does not fit, an existing version...
        return fail(parser.prog, error, EXIT_FAILURE)
    print(json.dumps({"model": args.model, "version": int(path.name), "path": str(path), "step": step}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
