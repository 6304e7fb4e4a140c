"""``shoes-explore``: walk the latent space of an exported generator (interpolations, attribute directions).

    shoes-explore interpolate RUN_DIR --seeds 1,2,3 --steps 8 --method slerp \\
        --label color=red --label category=sneaker -o explore/
    shoes-explore interpolate STYLEGAN2_RUN --seeds 1,2,3 --truncation 0.7 -o explore/
    shoes-explore direction RUN_DIR --attribute height -n 1000 \\
        --label color=black --label category=ankle_boot -o explore/
    shoes-explore direction --server localhost:8500 --model shoes --attribute boot -o explore/
    shoes-explore direction RUN_DIR --attribute meta:heel_height --data ut-zap50k/ -o explore/
    shoes-explore direction RUN_DIR --attribute "meta:closure=Lace up" --data ut-zap50k/ -o explore/
    shoes-explore blend CYCLEGAN_RUN -o strip.png -n 6 --alphas 0,0.25,0.5,0.75,1

--attribute is height, boot, meta:COLUMN or meta:COLUMN=VALUE. A meta: attribute is a UT-Zappos
meta-data.csv column (snake_case: heel_height, closure, material, ...) read off generated shoes by a
probe: a linear read-out of image features (pixels by default) trained on the real images of --data
with a value in the column, scored on held-out real images (direction.json "probe": r2 or accuracy,
and "trusted").
meta:COLUMN is ordinal (inch values such as "1in - 1 3/4in" are read as numbers; give --order
"A,B,C" for other columns); meta:COLUMN=VALUE measures the probability of VALUE.

MODEL is a training run directory (its ``saved_model/`` is used) or a SavedModel directory;
``--server HOST:PORT --model NAME`` asks a served model instead. Conditional models need one value
per label; labels left out default to the first value of their vocabulary (and the JSON says so).
The export's signatures pick the latent space: most generators are explored in z through from_latent;
a StyleGAN2 export (mapping, synthesis, mix, invert) in its w space: a seed's latent is the w that
mapping gives it with the labels (--truncation PSI pulls it toward the labels' average w; 1 = off),
interpolation is linear in w by default, directions are w_dim vectors moving every synthesis layer
alike, edits are drawn by synthesis.
blend draws a CycleGAN run's design-language blend strip (it replaces ``python -m shoes_generator.blend``);
it takes a run of any family that exports a blend signature (``Family.blendable``: cyclegan today).
Errors print ``shoes-explore: error: <message>`` and exit 2 for a wrong command line (a MODEL that is
not a model, unknown labels, options that do not go together), 1 for failures while running (a server
error, an unreadable file). Old spellings (--name, --samples) still work for one release.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from shoes_generator.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_deprecated, add_label_argument, fail, positive_int  # noqa: E402

PROG = "shoes-explore"


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. 1,2,3. Received: {text!r}") from None
    if len(seeds) < 2:
        raise argparse.ArgumentTypeError(f"expected at least two seeds, e.g. 1,2,3. Received: {text!r}")
    return seeds


def _at_least(minimum: int):
    def parse(text: str) -> int:
        if not text.lstrip("-").isdigit() or int(text) < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}. Received: {text!r}")
        return int(text)

    return parse


def _alphas(text: str) -> list[float]:
    try:
        alphas = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        alphas = []
    if not alphas or not all(0.0 <= alpha <= 1.0 for alpha in alphas):
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers in [0, 1], e.g. 0,0.5,1. Received: {text!r}")
    return alphas


def _attribute(text: str):
    from shoes_generator.attribute_probe import parse_attribute

    try:
        return parse_attribute(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _order(text: str) -> list[str]:
    values = [part.strip() for part in text.split(",") if part.strip()]
    if len(values) < 2:
        raise argparse.ArgumentTypeError(f"expected at least two comma-separated values, low to high, e.g. Flat,Low,High. Received: {text!r}")
    return values


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument("model", nargs="?", metavar="MODEL", help="run directory (uses its saved_model/) or SavedModel directory")
    command.add_argument("--server", metavar="HOST:PORT", help="use a served model (shoes-serve / TF Serving gRPC) instead of MODEL")
    command.add_argument("--model", dest="name", metavar="NAME", default="shoes", help="model name on --server (default: %(default)s)")
    add_deprecated(command, "--name", "--model", dest="name")
    add_label_argument(command, "label value for every shoe, e.g. --label color=red (repeatable; missing labels default to the first value)")
    command.add_argument("--truncation", type=float, metavar="PSI",
                         help="StyleGAN2 only: psi of the mapping's w, toward the labels' average w (default: 1 = off)")
    command.add_argument("-o", "--out", required=True, metavar="DIR", help="output folder (created)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Explore the latent space of an exported shoe generator: z through its from_latent signature, "
        "or w for a StyleGAN2 export (mapping and synthesis).",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    interpolate = commands.add_parser(
        "interpolate", help="interpolate between the latents of consecutive seeds (grid PNG + GIF)",
        description="Walks from each seed's latent to the next one's (its noise z, or its mapped w for a StyleGAN2 export); "
        "writes interpolation.png (one row per pair), interpolation.gif (the whole path, looping) and interpolation.json.",
        epilog="example: shoes-explore interpolate RUN_DIR --seeds 1,2,3 --steps 8 --method slerp --label color=red --out explore/",
    )
    _common(interpolate)
    interpolate.add_argument("--seeds", type=_seeds, default=[0, 1, 2], help="comma-separated seeds (default: 0,1,2)")
    interpolate.add_argument("--steps", type=_at_least(2), default=8, help="images per pair, endpoints included (default: %(default)s)")
    interpolate.add_argument("--method", choices=("slerp", "lerp"),
                             help="interpolation (default: slerp in z, lerp in a StyleGAN2's w)")
    interpolate.add_argument("--fps", type=float, default=8.0, help="GIF frames per second (default: %(default)s)")
    direction = commands.add_parser(
        "direction", help="fit the latent direction of an attribute and check it on an edit grid",
        description="Samples latents (z, or the w of random seeds for a StyleGAN2 export), measures an attribute, fits a\n"
        "linear direction, and walks new latents along it.\n"
        "  height              the foreground's vertical extent as a fraction of the image\n"
        "  boot                the shoe classifier's ankle-boot probability\n"
        "  meta:COLUMN         a UT-Zappos meta-data column (e.g. heel_height) read by a probe trained on the\n"
        "                      real images of --data; inch values are numbers, else give --order A,B,C\n"
        "  meta:COLUMN=VALUE   the probe's probability of VALUE (e.g. 'meta:closure=Lace up')\n"
        "Writes edit_grid.png, direction.json (r2 on held-out samples, monotonic share, rank correlation; for meta:\n"
        "the probe and its held-out r2 or accuracy on real images) and direction.npy.",
        epilog="examples:\n  shoes-explore direction RUN_DIR --attribute height --samples 1000 --label category=ankle_boot --out explore/\n"
        "  shoes-explore direction RUN_DIR --attribute meta:heel_height --data ut-zap50k/ --out explore/\n"
        "  shoes-explore direction RUN_DIR --attribute 'meta:closure=Lace up' --data ut-zap50k/ --out explore/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(direction)
    direction.add_argument(
        "--attribute", type=_attribute, required=True, metavar="ATTRIBUTE",
        help="what to steer: height, boot, meta:COLUMN (e.g. meta:heel_height) or meta:COLUMN=VALUE (needs --data)",
    )
    direction.add_argument("-n", "--count", dest="samples", type=_at_least(10), default=1000, help="latents to fit on (default: %(default)s)")
    add_deprecated(direction, "--samples", "-n/--count", dest="samples", type=_at_least(10))
    direction.add_argument("--seeds", type=_at_least(1), default=8, help="rows of the edit grid (default: %(default)s)")
    direction.add_argument("--strength", type=float, default=3.0,
                           help="largest edit, in std of the latents along the direction (default: %(default)s)")
    direction.add_argument("--steps", type=_at_least(2), default=7, help="edit strengths from -S to S (default: %(default)s)")
    direction.add_argument("--seed", type=int, default=0, help="numpy seed of the sampled latents (default: %(default)s)")
    probe = direction.add_argument_group("meta: attributes (a probe trained on real UT-Zappos images)")
    probe.add_argument("--data", metavar="ZAPPOS_ROOT", help="ut-zap50k-images-square folder or its parent (meta-data.csv found next to it)")
    probe.add_argument("--meta-data", metavar="CSV", help="the meta-data.csv, when it is not next to the images")
    probe.add_argument("--order", type=_order, metavar="A,B,C", help="values of an ordinal column from low to high, when they are not inches or numbers")
    probe.add_argument("--probe-images", type=_at_least(10), default=2000, help="real images to train and score the probe on (default: %(default)s)")
    probe.add_argument("--probe-features", choices=("pixels", "classifier"), default="pixels",
                       help="probe features: area-averaged pixels or the shoe classifier's (default: %(default)s)")
    blend = commands.add_parser(
        "blend", help="a CycleGAN run's design-language blend strip (PNG)",
        description="Draws held-out domain-A shoes (the Fashion-MNIST test split for Fashion-MNIST runs) through the "
        "exported blend signature at each alpha, beside the pixel blend (1 - a) x + a G_AB(x) at a = 0.5, which ghosts "
        "two shoes over each other where the feature blend draws one.",
        epilog="example: shoes-explore blend runs/00004-cyclegan_sneaker2boot -o strip.png -n 6 --alphas 0,0.25,0.5,0.75,1",
    )
    blend.add_argument("run", type=Path, metavar="RUN_DIR", help="a CycleGAN run directory (with saved_model/)")
    blend.add_argument("-o", "--out", type=Path, required=True, metavar="PNG", help="the PNG to write")
    blend.add_argument("-n", "--count", type=positive_int, default=6, help="rows: held-out A shoes (default: %(default)s)")
    blend.add_argument("--alphas", type=_alphas, default=[0, 0.25, 0.5, 0.75, 1], metavar="A,B,...",
                       help="comma-separated alphas in [0, 1] (default: 0,0.25,0.5,0.75,1)")
    return parser


def _interpolate(model, labels: dict, args) -> dict:
    from shoes_generator.latent import animation_frames, interpolation_grid, save_gif
    from shoes_generator.plots import save_labelled_grid

    method = args.method or model.interpolation
    grid = interpolation_grid(model, args.seeds, args.steps, method, labels)
    out = Path(args.out)
    rows = [f"{a}->{b}" for a, b in zip(args.seeds, args.seeds[1:])]
    columns = [f"{t:.2f}" for t in np.linspace(0, 1, args.steps)]
    png = save_labelled_grid(grid.reshape((-1,) + grid.shape[2:]), len(rows), args.steps, out / "interpolation.png", rows, columns,
                             title=f"{method} in {model.space} between seeds")
    frames = animation_frames(grid)
    gif = save_gif(frames, out / "interpolation.gif", args.fps)
    return {"seeds": args.seeds, "steps": args.steps, "method": method, "latent_space": model.space, **_truncation(model),
            "frames": len(frames), "grid": str(png), "gif": str(gif)}


def _truncation(model) -> dict:
    """``{"truncation": psi}`` for a model explored in w, else nothing."""
    return {"truncation": model.truncation} if model.space == "w" else {}


def _check_probe_options(args) -> None:
    """A meta: attribute needs --data; --order and the other probe options need a meta: attribute."""
    from shoes_generator.attribute_probe import MetaAttribute

    if isinstance(args.attribute, MetaAttribute):
        if not args.data:
            raise ValueError(f"--attribute {args.attribute.name} needs --data ZAPPOS_ROOT (the UT-Zappos images the probe learns from)")
    elif args.data or args.meta_data or args.order:
        raise ValueError(f"--data, --meta-data and --order apply to meta: attributes only. Received: --attribute {args.attribute}")


def _measure(model, labels: dict, args):
    """The attribute to hand to `explore_direction`: its name, or a probe trained on --data."""
    from shoes_generator.attribute_probe import MetaAttribute, meta_probe
    from shoes_generator.latent import image_size

    if not isinstance(args.attribute, MetaAttribute):
        return args.attribute
    return meta_probe(args.data, args.attribute, image_size(model, labels), args.order, args.probe_features,
                      args.probe_images, args.meta_data, args.seed)


def _direction(model, labels: dict, args) -> dict:
    from shoes_generator.latent import explore_direction
    from shoes_generator.plots import save_labelled_grid

    strengths = np.linspace(-args.strength, args.strength, args.steps).tolist()
    result = explore_direction(model, _measure(model, labels, args), args.samples, args.seeds, strengths, labels, args.seed)
    images, direction = result.pop("images"), result.pop("direction")
    out = Path(args.out)
    r2 = "n/a" if result["r2"] is None else f"{result['r2']:.2f}"
    monotonic = "n/a" if result["monotonic_share"] is None else f"{result['monotonic_share']:.0%}"
    png = save_labelled_grid(images.reshape((-1,) + images.shape[2:]), args.seeds, len(strengths), out / "edit_grid.png",
                             [f"{model.space}{i}" for i in range(args.seeds)], [f"{s:+.1f}" for s in strengths],
                             title=f"{result['attribute']} direction: held-out r2 {r2}, monotonic {monotonic}")
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "direction.npy", direction)
    return {**result, "grid": str(png), "direction_file": str(out / "direction.npy")}


def _blend(args) -> dict:
    """Writes the blend strip of the run ``args.run``; a ValueError for a run whose family exports no blend
    signature (`Family.blendable`)."""
    from shoes_generator.families import registered_families
    from shoes_generator.runs import read_config

    config = read_config(args.run)
    if not config.family.blendable:
        blendable = sorted(name for name, family in registered_families().items() if family.blendable)
        raise ValueError(f"blend needs a run whose export has a blend signature (model.family {' or '.join(blendable)}); "
                         f"{args.run} is not one. Received: model.family={config.model.family!r}")
    from shoes_generator.blend import write_blend_strip

    rows = write_blend_strip(args.run, config, args.out, args.count, args.alphas)
    return {"command": "blend", "run": str(args.run), "rows": rows, "alphas": args.alphas, "strip": str(args.out)}


def run(args) -> dict:
    from shoes_generator.latent import open_model, resolve_labels

    if args.command == "blend":
        return _blend(args)
    if args.command == "direction":
        _check_probe_options(args)
    model = open_model(args.model, args.server, args.name, args.truncation)
    try:
        labels, defaulted = resolve_labels(model.vocabularies, dict(args.label))
        source = {"server": args.server, "name": args.name} if args.server else {"model": str(args.model)}
        summary = {"command": args.command, **source, "labels": labels, "defaulted_labels": defaulted}
        if defaulted:
            summary["note"] = f"label(s) {', '.join(defaulted)} not given: used the first value of each vocabulary"
        summary.update(_interpolate(model, labels, args) if args.command == "interpolate" else _direction(model, labels, args))
    finally:
        model.close()
    summary["labels"], summary["defaulted_labels"] = labels, defaulted
    name = "interpolation.json" if args.command == "interpolate" else "direction.json"
    Path(args.out, name).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-explore`; returns the exit code (2: a wrong command line, 1: a failure while running)."""
    from serving.client import ServingError

    args = build_parser().parse_args(argv)
    if args.command != "blend" and args.model is None and not args.server:
        return fail(PROG, "give a MODEL (run directory or SavedModel) or --server HOST:PORT", EXIT_USAGE)
    try:
        summary = run(args)
    except ServingError as error:
        return fail(PROG, f"{error.code}: {error.message}", EXIT_FAILURE)
    except (ValueError, FileNotFoundError) as error:  # MODEL or RUN_DIR is not what it must be, unknown labels, bad options.
        return fail(PROG, error, EXIT_USAGE)
    except OSError as error:  # Unreadable files, found while running.
        return fail(PROG, error, EXIT_FAILURE)
    brief = {key: value for key, value in summary.items() if key != "values"}
    print(json.dumps(brief, indent=2))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
