"""Draw a CycleGAN design-language blend strip: shoes of domain A at alpha 0 .. 1, beside a pixel blend.

    shoes-explore blend RUN -o strip.png [-n 6] [--alphas 0,0.25,0.5,0.75,1]

(``python -m shoes_generator.blend`` still runs it, with a deprecation line, for one release.)

Each row is one held-out A shoe (Fashion-MNIST test split for Fashion-MNIST
runs): the input, the exported ``blend`` signature at each alpha, and for
comparison the pixel blend ``(1 - a) x + a G_AB(x)`` at a = 0.5, which
ghosts two shoes over each other where the feature blend draws one.
"""

from __future__ import annotations

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


def write_blend_strip(run: Path, config, out: Path, count: int, alphas: list[float]) -> int:
    """Writes the blend strip of the CycleGAN run `run` (its `config`) to `out`; returns its rows (held-out A shoes)."""
    from shoes_generator.data.pipeline import to_uint8
    from shoes_generator.data.training_data import training_data
    from shoes_generator.plots import save_labelled_grid

    split = "test" if config.data.source.startswith("fmnist") else "train"
    data = training_data(config.data, 1, config.train.seed, split=split)
    shoes = np.concatenate([to_uint8(e["a"]).numpy()[None] for e in data.elements.take(count)])
    images, captions = blend_strip(tf.saved_model.load(str(Path(run) / "saved_model")), shoes, alphas)
    save_labelled_grid(images, len(shoes), len(captions), out, col_labels=captions,
                       title=f"{config.data.domain_a} -> {config.data.domain_b}")
    return len(shoes)


def main(argv: list[str] | None = None) -> int:
    """`python -m shoes_generator.blend`, deprecated: runs `shoes-explore blend` with the same arguments."""
    from shoes_generator.cli_common import warn_deprecated
    from shoes_generator.explore_cli import main as shoes_explore

    warn_deprecated("python -m shoes_generator.blend", "python -m shoes_generator.blend", "shoes-explore blend")
    return shoes_explore(["blend", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
