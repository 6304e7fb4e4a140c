"""`shoes-generate`: ask an exported generator for shoes and write them as PNG files (plus one contact sheet).

    shoes-generate RUN -o shoes --request red:ankle_boot --request blue:sneaker -n 4
    shoes-generate RUN/saved_model -o shoes --label color=red --label color=blue --label category=sneaker

Each request is one value per label, in the order of the model's label names
(``color:category`` for the colour x type model); unconditional models take
no request. ``--label NAME=VALUE`` names the values instead: every label once,
or several values of a label for every combination of them. This talks to the
SavedModel in process through its ``serving_default`` signature; served models
are asked through ``shoes-client`` (see serving/). Exit codes: 2 for a wrong
command line (MODEL is not a SavedModel, unknown labels or values), 1 for
failures while generating. ``python -m shoes_generator.generate`` still works,
with a deprecation line, for one release.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from shoes_generator.cli_common import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, add_label_argument, fail, positive_int, warn_deprecated  # noqa: E402

PROG = "shoes-generate"


def label_order(vocabularies: dict[str, list[str]]) -> list[str]:
    """Label names in request order: ``color`` first when present, then the rest sorted."""
    return sorted(vocabularies, key=lambda name: (name != "color", name))


def label_requests(vocabularies: dict[str, list[str]], labels: list[tuple[str, str]]) -> list[str]:
    """The requests (``"red:sneaker"``) that ``--label NAME=VALUE`` pairs ask for: every combination of the values given.

    Raises:
        ValueError: a label the model does not have, or one of its labels left out.
    """
    names = label_order(vocabularies)
    given: dict[str, list[str]] = {}
    for name, value in labels:
        given.setdefault(name, []).append(value)
    unknown = sorted(set(given) - set(names))
    missing = [name for name in names if name not in given]
    if unknown or missing:
        problem = f"Unknown label(s) {', '.join(unknown)}" if unknown else f"Missing label(s) {', '.join(missing)}"
        raise ValueError(f"{problem}. This model's labels: {', '.join(names) or 'none'} (one --label NAME=VALUE each).")
    return [":".join(values) for values in itertools.product(*(given[name] for name in names))]


def ask(saved_model_dir: str | Path, requests: list[str], count: int, seed: int = 0,
        labels: list[tuple[str, str]] = ()) -> tuple[np.ndarray, list[str]]:
    """Generates `count` shoes per request; returns ``uint8 [R*count, H, W, 3]`` and one caption per request.

    Args:
        saved_model_dir: the exported generator.
        requests: e.g. ``["red:ankle_boot"]`` (values in `label_order`); [] for unconditional models.
        count: shoes per request (seeds ``seed .. seed + count - 1``).
        seed: first noise seed.
        labels: ``(name, value)`` pairs asking for more requests (`label_requests`).

    Raises:
        ValueError: a request with the wrong number of values or an unknown label (lists the valid ones).
    """
    import tensorflow as tf

    from shoes_generator.export import label_vocabularies, sample

    model = tf.saved_model.load(str(saved_model_dir))
    vocabularies = label_vocabularies(model)
    names = label_order(vocabularies)
    requests = list(requests) + (label_requests(vocabularies, list(labels)) if labels else [])
    if names and not requests:
        raise ValueError(f"This model needs requests like {':'.join(v[0] for v in (vocabularies[n] for n in names))} ({':'.join(names)}).")
    images, captions = [], []
    for request in requests or [""]:
        values = request.split(":") if names else []
        if len(values) != len(names):
            raise ValueError(f"A request names one value per label ({':'.join(names)}). Received: {request!r}")
        for name, value in zip(names, values):
            if value not in vocabularies[name]:
                raise ValueError(f"Unknown {name} {value!r}. Valid {name} values: {', '.join(vocabularies[name])}")
        out = sample(model, np.arange(seed, seed + count), {name: np.asarray([value] * count) for name, value in zip(names, values)})
        images.append(out["images"].numpy())
        captions.append(" ".join(values) or "samples")
    return np.concatenate(images), captions


def saved_model_dir(model: str) -> Path:
    """The SavedModel directory of MODEL (a SavedModel, or a run directory holding saved_model/); ValueError otherwise."""
    path = Path(model)
    for candidate in (path, path / "saved_model"):
        if (candidate / "saved_model.pb").is_file():
            return candidate
    raise ValueError(f"MODEL must be a SavedModel directory or a run directory with saved_model/. Received: {model!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", metavar="MODEL", help="SavedModel directory, or a run directory (its saved_model/)")
    parser.add_argument("-o", "--out", required=True, metavar="DIR", help="folder for the PNGs (created)")
    parser.add_argument("--request", action="append", default=[], metavar="VALUES", help="e.g. red:ankle_boot (repeatable)")
    add_label_argument(parser, "a label value, e.g. color=red; every label once, or several values of one (repeatable)")
    parser.add_argument("-n", "--count", type=positive_int, default=4, help="shoes per request (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="first noise seed (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `shoes-generate`; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        images, captions = ask(saved_model_dir(args.model), args.request, args.count, args.seed, args.label)
    except ValueError as error:  # MODEL, a request or a label as typed.
        return fail(PROG, error, EXIT_USAGE)
    except OSError as error:  # A SavedModel that does not load.
        return fail(PROG, error, EXIT_FAILURE)
    from shoes_generator.imaging.io import save_png
    from shoes_generator.plots import save_labelled_grid

    out = Path(args.out)
    try:
        for index, image in enumerate(images):
            caption = captions[index // args.count].replace(" ", "_")
            save_png(image, out / f"{caption}_seed{args.seed + index % args.count}.png")
        sheet = save_labelled_grid(images, len(captions), args.count, out / "requests.png", captions, title="requested shoes")
    except OSError as error:
        return fail(PROG, error, EXIT_FAILURE)
    print(f"wrote {len(images)} shoes and {sheet}")
    return EXIT_OK


if __name__ == "__main__":
    warn_deprecated("python -m shoes_generator.generate", "python -m shoes_generator.generate", "shoes-generate")
    sys.exit(main())
