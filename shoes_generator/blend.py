"""Draw a CycleGAN design-language blend strip: shoes of domain A at alpha 0 .. 1, beside a pixel blend.

    python -m shoes_generator.blend RUN --out strip.png [--count 6] [--alphas 0,0.25,0.5,0.75,1]

Each row is one held-out A shoe (Fashion-MNIST test split for Fashion-MNIST
runs): the input, the exported ``blend`` signature at each alpha, and for
comparison the pixel blend ``(1 - a) x + a G_AB(x)`` at a = 0.5, which
ghosts two shoes over each other where the feature blend draws one.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from shoes_generator.evaluation.translation_eval import pixel_blend  # noqa: E402


def blend_strip(saved_model, shoes: np.ndarray, alphas: list[float]) -> tuple[np.ndarray, list[str]]:
    """``uint8 [rows * cols, S, S, 3]`` images (row-major) and column captions.

    Args:
        saved_model: a loaded CycleGAN export (``blend_pixels`` and ``from_pixels`` signatures).
        shoes: ``uint8 [rows, S, S, 3]`` domain-A shoes.
        alphas: blend weights, one column each.
    """
    pixels = tf.constant(shoes)
    columns = [shoes]
    for alpha in alphas:
        columns.append(saved_model.signatures["blend_pixels"](image=pixels, alpha=tf.fill([len(shoes)], float(alpha)))["images"].numpy())
    translated = saved_model.signatures["from_pixels"](image=pixels)["images"].numpy()
    columns.append(pixel_blend(shoes, translated))
    captions = ["input", *[f"a={alpha:g}" for alpha in alphas], "pixel 0.5"]
    return np.stack(columns, axis=1).reshape(-1, *shoes.shape[1:]), captions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shoes_generator.blend", description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a CycleGAN run directory (with saved_model/)")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--count", type=int, default=6, help="rows: held-out A shoes (default 6)")
    parser.add_argument("--alphas", default="0,0.25,0.5,0.75,1", help="comma-separated alphas (default 0,0.25,0.5,0.75,1)")
    args = parser.parse_args(argv)
    from shoes_generator.data.pipeline import to_uint8
    from shoes_generator.data.training_data import training_data
    from shoes_generator.plots import save_labelled_grid
    from shoes_generator.runs import read_config

    try:
        config = read_config(args.run)
        alphas = [float(a) for a in args.alphas.split(",")]
    except (FileNotFoundError, ValueError) as error:
        print(f"blend: error: {error}", file=sys.stderr)
        return 2
    if config.model.family != "cyclegan":
        print(f"blend: error: {args.run} is not a CycleGAN run (model.family={config.model.family!r})", file=sys.stderr)
        return 2
    split = "test" if config.data.source.startswith("fmnist") else "train"
    data = training_data(config.data, 1, config.train.seed, split=split)
    shoes = np.concatenate([to_uint8(e["a"]).numpy()[None] for e in data.elements.take(args.count)])
    images, captions = blend_strip(tf.saved_model.load(str(args.run / "saved_model")), shoes, alphas)
    save_labelled_grid(images, len(shoes), len(captions), args.out, col_labels=captions,
                       title=f"{config.data.domain_a} -> {config.data.domain_b}")
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
