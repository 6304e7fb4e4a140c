"""`shoes-train`: train a preset (or resume a run) and write a numbered run directory."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow loads: keep its C++ start-up logs quiet.

import argparse
import json
import logging
import sys

from shoes_generator.cli_common import EXIT_FAILURE, EXIT_USAGE, fail
from shoes_generator.configs import PRESETS

EXIT_PREEMPTED = 143  # 128 + SIGTERM: stopped by a signal after a checkpoint (a pod's restart policy resumes it).

EPILOG = """
examples:
  shoes-train --config cgan_fmnist_color                 # the main job's model
  shoes-train --config dcgan64_paper --dry-run           # print the resolved config
  shoes-train --config dcgan64_paper --data ~/zappos --set data.image_size=64
  shoes-train --config pix2pix_fmnist_edges              # sketch -> shoe on Fashion-MNIST
  shoes-train --config pix2pix_edges2shoes --data ~/edges2shoes/train
  shoes-train --config cyclegan_sneaker2boot             # sneaker <-> ankle boot
  shoes-train --config cyclegan_brands --data ~/ut-zap50k-images-square --set data.domain_b=brand=Converse
  shoes-train --config segment_fmnist_unet               # shoe vs background, U-Net (segment_fmnist_fcn: FCN)
  shoes-train --config segment_parts --data ~/parts      # parts from ~/parts/image + ~/parts/label PNGs
  shoes-train --config segment_fmnist_unet --set data.source=segments --data ~/photos \
      --set data.label_path=~/photo-masks                # masks written by `shoes-data masks ~/photos ~/photo-masks`
  shoes-train --config cgan_fmnist_color --set train.precision=float32 --epochs 3
  shoes-train --resume runs/00002-cgan_fmnist_color      # continue after a kill
  shoes-train --config stylegan2_fmnist_color --time-limit 15   # 15 minutes of training, then export
  shoes-train --config pix2pix_fmnist_edges --workers 2  # two worker processes on this machine (loopback)
  shoes-train --config pix2pix_fmnist_edges --devices 2  # MirroredStrategy over 2 GPUs (no GPU: 2 logical CPUs)
  TF_CONFIG='{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 0}}' \\
      shoes-train --config pix2pix_fmnist_edges          # one worker of a real cluster (run on each machine)

Several workers or devices (issue 19): train.batch_size stays the global batch, split evenly over
the replicas; worker 0 (the chief) writes the run directory, the others a scratch folder they
remove; they resume from the chief's checkpoints (a shared folder), with any worker count.
SIGTERM on any worker checkpoints and stops all of them (exit code 143; --resume goes on).

A run directory holds config.json, metrics.jsonl, loss_curve.png, samples/
(one grid per epoch; colour x type tables for conditional models), logs/
(TensorBoard) and checkpoints/ (networks, optimizers, EMA, step, RNG state).

The last stdout line is JSON naming the run directory and its step, for scripts:
  {"run": "runs/00002-cgan_fmnist_color", "step": 4680}
Exit codes: 2 for a wrong command line (unknown preset, bad --set, no such run to
resume), 1 when training fails, 143 when SIGTERM stopped a run after its checkpoint.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shoes-train",
        description="Train a shoe GAN, pix2pix, CycleGAN or segmenter with model.fit from a named preset.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", metavar="PRESET", help=f"preset name: {', '.join(sorted(PRESETS))}")
    source.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its latest checkpoint")
    parser.add_argument(
        "--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
        help="override a setting, e.g. train.batch_size=64 (repeatable)",
    )
    parser.add_argument(
        "--data", metavar="PATH",
        help="train on a folder, a manifest CSV or a TFRecord directory instead of the preset's data "
        "(the Fashion-MNIST default); sets data.source and data.path (pix2pix presets: the A|B folder or "
        "the input/mask/target folder, keeping their source; segmenters and SPADE: the folder holding image/ and label/; "
        "pattern presets: a folder as shoes-data patterns writes it)",
    )
    parser.add_argument("--epochs", type=int, help="total epochs (also extends a resumed run)")
    parser.add_argument(
        "--time-limit", type=positive_minutes, metavar="MINUTES",
        help="stop after MINUTES of training (from the first step, its tracing included), at a whole step, then "
        "checkpoint and export as at the end (--resume goes on from there); for comparisons at equal training time",
    )
    parser.add_argument("-o", "--out", default="runs", metavar="DIR", help="where run directories go (default: runs)")
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument(
        "--workers", type=positive_int, metavar="N",
        help="start N worker processes on this machine (loopback TF_CONFIG, MultiWorkerMirroredStrategy) and wait "
        "for them: multi-worker training tried on one machine; on a cluster each machine sets TF_CONFIG instead",
    )
    scale.add_argument(
        "--devices", type=positive_int, default=1, metavar="N",
        help="MirroredStrategy over N GPUs of this machine (without GPUs: N logical CPU devices, a try-out); default 1",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config as JSON and exit")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of progress bars")
    return parser


def positive_int(text: str) -> int:
    """A positive whole number (argparse type)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number. Received: {text!r}")
    return int(text)


def positive_minutes(text: str) -> float:
    """A positive number of minutes (argparse type)."""
    try:
        minutes = float(text)
    except ValueError:
        minutes = float("nan")
    if not minutes > 0 or minutes == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of minutes. Received: {text!r}")
    return minutes


FOLDER_LAYOUTS = ("pairs", "triplets", "segments", "patterns")  # Sources whose folders have a layout of their own.
FOLDER_LAYOUT_OF = {"fmnist_masks": "segments", "fmnist_parts": "segments", "fmnist_patterns": "patterns"}


def data_overrides(path: str, source: str = "") -> list[str]:
    """The ``data.*`` overrides that point a preset at `path`: pair, triplet, label and pattern folder presets keep
    their source, the Fashion-MNIST part, mask and pattern presets take the folder layout of theirs."""
    from pathlib import Path

    if source in FOLDER_LAYOUTS:
        return [f"data.path={path}"]
    if source in FOLDER_LAYOUT_OF:
        return [f"data.source={FOLDER_LAYOUT_OF[source]}", f"data.path={path}"]
    target = Path(path)
    if target.is_file() and target.suffix == ".csv":
        source = "manifest"
    elif target.is_dir() and any(target.glob("*.tfrecord*")):
        source = "tfrecords"
    else:
        source = "folder"
    return [f"data.source={source}", f"data.path={path}"]


def absolute_paths(config):
    """`config` with ``data.path`` and ``data.label_path`` made absolute, so the run can be evaluated,
    exported or resumed from any working directory."""
    import dataclasses
    from pathlib import Path

    paths = {key: str(Path(value).expanduser().resolve()) for key in ("path", "label_path") if (value := getattr(config.data, key))}
    return dataclasses.replace(config, data=dataclasses.replace(config.data, **paths)) if paths else config


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-train`; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.resume and (args.overrides or args.data):
        given = [*(f"--set {value}" for value in args.overrides), *([f"--data {args.data}"] if args.data else [])]
        parser.error(
            f"a resumed run keeps the config it started with (its config.json; only --epochs extends it), so "
            f"--set and --data cannot change it. Received: {' '.join(given)}"
        )
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from shoes_generator.configs import get_preset, override
    from shoes_generator.runs import read_config

    try:
        if args.resume:
            config = read_config(args.resume)
        else:
            config = get_preset(args.config)
            overrides = (data_overrides(args.data, config.data.source) if args.data else []) + args.overrides
            config = override(config, overrides) if overrides else config
        if args.epochs:
            config = override(config, [f"train.epochs={args.epochs}"])
        config = absolute_paths(config)
        config.validate(require_path=not args.dry_run)
    except (ValueError, FileNotFoundError) as error:  # The preset, --set, --data or --resume as typed.
        return fail("shoes-train", error, EXIT_USAGE)
    if args.dry_run:
        print(config.to_json())
        return 0
    if args.workers:
        from shoes_generator.distribute.launch import run_workers, worker_command

        return run_workers(worker_command(sys.argv[1:] if argv is None else argv), args.workers)

    from shoes_generator.distribute.loop import Preempted
    from shoes_generator.distribute.strategy import Worker, make_strategy
    from shoes_generator.trainer import train

    try:
        strategy = make_strategy(args.devices)  # Before any other TensorFlow work.
    except ValueError as error:  # --devices beyond the GPUs, a malformed TF_CONFIG.
        return fail("shoes-train", error, EXIT_USAGE)
    try:
        result = train(config, out=args.out, resume=args.resume, epochs=args.epochs, verbose=2 if args.quiet else "auto",
                       time_limit=args.time_limit, strategy=strategy)
    except Preempted as stop:
        print(f"shoes-train: {stop}", file=sys.stderr)
        return EXIT_PREEMPTED
    except (ValueError, FileNotFoundError) as error:  # Found while running: unreadable data, changed labels...
        return fail("shoes-train", error, EXIT_FAILURE)
    if not Worker(strategy).is_chief:  # The chief reports the run; this worker's scratch folder is gone.
        return 0
    print(f"run directory: {result.run_dir} (step {result.step})", file=sys.stderr)
    print(json.dumps({"run": str(result.run_dir), "step": int(result.step)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
