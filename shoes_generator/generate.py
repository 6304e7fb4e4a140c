"""Ask an exported generator for shoes and write them as PNG files (plus one contact sheet).

    python -m shoes_generator.generate RUN/saved_model --out shoes \\
        --request red:ankle_boot --request blue:sneaker --count 4

Each request is one value per label, in the order of the model's label names
(``color:category`` for the colour x type model); unconditional models take
no request. This talks to the SavedModel in process through its
``serving_default`` signature; served models are asked through
``shoes-client`` (see serving/).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from shoes_generator.imaging.io import save_png  # noqa: E402
from shoes_generator.plots import save_labelled_grid  # noqa: E402


def label_order(vocabularies: dict[str, list[str]]) -> list[str]:
    """Label names in request order: ``color`` first when present, then the rest sorted."""
    return sorted(vocabularies, key=lambda name: (name != "color", name))


def ask(saved_model_dir: str | Path, requests: list[str], count: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Generates `count` shoes per request; returns ``uint8 [R*count, H, W, 3]`` and one caption per request.

    Args:
        saved_model_dir: the exported generator.
        requests: e.g. ``["red:ankle_boot"]`` (values in `label_order`); [] for unconditional models.
        count: shoes per request (seeds ``seed .. seed + count - 1``).
        seed: first noise seed.

    Raises:
        ValueError: a request with the wrong number of values or an unknown label (lists the valid ones).
    """
    from shoes_generator.export import label_vocabularies, sample

    model = tf.saved_model.load(str(saved_model_dir))
    vocabularies = label_vocabularies(model)
    names = label_order(vocabularies)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shoes_generator.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="SavedModel directory (a run's saved_model/)")
    parser.add_argument("--out", required=True, help="folder for the PNGs")
    parser.add_argument("--request", action="append", default=[], metavar="VALUES", help="e.g. red:ankle_boot (repeatable)")
    parser.add_argument("--count", type=int, default=4, help="shoes per request (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="first noise seed (default 0)")
    args = parser.parse_args(argv)
    try:
        images, captions = ask(args.model, args.request, args.count, args.seed)
    except (ValueError, OSError) as error:
        print(f"generate: error: {error}", file=sys.stderr)
        return 2
    out = Path(args.out)
    for index, image in enumerate(images):
        caption = captions[index // args.count].replace(" ", "_")
        save_png(image, out / f"{caption}_seed{args.seed + index % args.count}.png")
    sheet = save_labelled_grid(images, len(captions), args.count, out / "requests.png", captions, title="requested shoes")
    print(f"wrote {len(images)} shoes and {sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
