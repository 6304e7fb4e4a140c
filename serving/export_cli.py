"""shoes-export: publish a training run's model for TF Serving as <model-base>/<name>/<version>/.

    shoes-export runs/00003-cgan_fmnist_color --model-base models --name shoes
    shoes-export RUN --model-base models --name shoes --version 7

The newest checkpoint of the run is restored (it must fit the run's config), a
generator's EMA BatchNorm statistics are recomputed, and the SavedModel is written
to a hidden temporary folder, then renamed into place: a server polling the model
base picks up the version whole, never half-copied. Generators get serving_default,
truncated, from_latent and labels; pix2pix serving_default and from_pixels;
CycleGAN also b_to_a and blend; segmenters segment and class_names. Warm-up
requests go in assets.extra/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="shoes-export", description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="a shoes-train run directory (with config.json and checkpoints/)")
    parser.add_argument("--model-base", type=Path, required=True, help="TF Serving model base folder")
    parser.add_argument("--name", required=True, help="model name (letters, digits, _ . -)")
    parser.add_argument("--version", type=int, help="version number (default: the next free one)")
    args = parser.parse_args(argv)
    from shoes_generator.publish import export_run

    try:
        path, step = export_run(args.run_dir, args.model_base, args.name, args.version)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"shoes-export: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"model": args.name, "version": int(path.name), "path": str(path), "step": step}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
