"""Sketch -> shoe pairs whose sketches are drawn in many line styles (the ``fmnist_sketches`` source).

Each training shoe is sketched `VARIANTS` times, each time in a style drawn at random from
`imaging.sketch_styles.TRAIN_STYLES` with settings from the seed ``(data seed, shoe index, variant)``,
so a run's data are the same on every machine and after every resume. Half the pairs are reframed
first (`reframe`: the shoe zoomed and moved, then sketched, so sketch and target stay aligned), as
people do not draw within Fashion-MNIST's margin. The pairs are laid out variant after variant (all
shoes' first sketches, then all second ones), so each pass over the shoes meets new sketches of
them. A sketch drawn on a larger canvas is brought to 32 px as the served model's image input fits
it (`fit_image`), so training sees what serving sees. Drawing takes 1-7 ms a sketch; whole splits
are cached beside the project's own sketches.

The test split is the project's own sketches (`fmnist_edges`), so `shoes-eval` figures compare
with `pix2pix_fmnist_edges`; `benchmarks/sketch_styles.py` measures each style apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from scipy import ndimage
from tqdm import tqdm

from shoes_generator.data.fmnist import FRAME_SIZE
from shoes_generator.data.fmnist_edges import framed_shoe_arrays, pair_elements, save_arrays, sketch_pair_elements
from shoes_generator.data.pipeline import PipelineOptions, to_float, to_uint8
from shoes_generator.evaluation.classifier import default_cache_dir
from shoes_generator.imaging.sketch_styles import HELD_OUT_STYLES, STYLES_VERSION, TRAIN_STYLES, draw_sketch

VARIANTS = 4  # Sketches per training shoe.
REFRAMED = 0.5  # Share of training pairs whose shoe is zoomed and moved in the frame (sketch and target alike).
ZOOM = (0.85, 1.2)  # Reframing's zoom range (the 28 px shoe filling the whole 32 px frame is 1.14).
SHIFT = 1.5  # Reframing's largest move, pixels each way.
PAIRS_VERSION = 2  # Bump when the pairs change beyond the styles (STYLES_VERSION): cached pairs are keyed by both.


def training_styles() -> tuple[str, ...]:
    """The style names training draws from: `TRAIN_STYLES`, checked to share none with `HELD_OUT_STYLES`."""
    leaked = sorted(set(TRAIN_STYLES) & set(HELD_OUT_STYLES))
    if leaked:
        raise RuntimeError(f"Held-out sketch styles must never be trained on. Received: training styles {leaked} are held out")
    return tuple(TRAIN_STYLES)


def fit_sketches(sketches: list[np.ndarray], size: int = FRAME_SIZE) -> np.ndarray:
    """uint8 ``[S, S]`` sketches of any canvas sizes -> uint8 ``[N, size, size]``, resized as the served
    image input fits a square image (`fit_image`: an antialiased bilinear resize), a batch per canvas size."""
    fitted = np.empty((len(sketches), size, size), np.uint8)
    for side in sorted({s.shape[0] for s in sketches}):
        rows = [i for i, s in enumerate(sketches) if s.shape[0] == side]
        batch = to_float(tf.constant(np.stack([sketches[i] for i in rows])[..., None]))
        fitted[rows] = to_uint8(tf.image.resize(batch, [size, size], antialias=True)).numpy()[..., 0]
    return fitted


def reframe(shoe: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`shoe` (uint8 ``[32, 32]``, on black) zoomed by a random factor in `ZOOM` about the frame's centre
    and moved by up to `SHIFT` pixels each way: people's sketches keep no Fashion-MNIST 2 px margin."""
    zoom, shift = rng.uniform(*ZOOM), rng.uniform(-SHIFT, SHIFT, size=2)
    centre = (FRAME_SIZE - 1) / 2
    # Output pixel o shows input pixel (o - centre - shift) / zoom + centre.
    moved = ndimage.affine_transform(shoe.astype(np.float32), np.eye(2) / zoom, offset=centre - (centre + shift) / zoom, order=1)
    return np.clip(np.round(moved), 0, 255).astype(np.uint8)


def styled_sketches(shoes: np.ndarray, variants: int = VARIANTS, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`variants` sketches of each shoe in random training styles, `REFRAMED` of them (and their shoes) reframed.

    Args:
        shoes: uint8 ``[N, 32, 32]`` framed shoes.
        variants: sketches per shoe.
        seed: the data seed; pair ``(i, v)`` is drawn from ``(seed, i, v)``.

    Returns:
        uint8 shoes and sketches ``[variants, N, 32, 32]`` and the sketches' style names ``[variants, N]``.
    """
    names = training_styles()
    chosen = np.empty((variants, len(shoes)), object)
    targets = np.empty((variants, *shoes.shape), np.uint8)
    drawn = []
    for v in range(variants):
        for i, shoe in enumerate(tqdm(shoes, desc=f"sketching shoes in many styles ({v + 1}/{variants})", mininterval=10)):
            rng = np.random.default_rng((seed, i, v, 0))
            chosen[v, i] = names[rng.integers(len(names))]
            targets[v, i] = reframe(shoe, rng) if rng.random() < REFRAMED else shoe
            drawn.append(draw_sketch(targets[v, i], chosen[v, i], (seed, i, v)))
    return targets, fit_sketches(drawn).reshape(targets.shape), chosen.astype(str)


def styled_sketch_arrays(split: str = "train", limit: int | None = None, variants: int = VARIANTS, seed: int = 0,
                         cache_dir: str | Path | None = None):
    """``(shoes, sketches, categories, styles)``: each shoe of a split `variants` times (variant-major,
    ``[variants * N, ...]``, some reframed) beside its sketches in random training styles.

    Args:
        split: "train" or "test".
        limit: at most this many shoes (the first ones; only whole splits are cached).
        variants: sketches per shoe.
        seed: the data seed.
        cache_dir: where the pairs are cached (default: `default_cache_dir`).
    """
    framed, categories = framed_shoe_arrays(split, limit)
    name = f"fmnist_styled_sketches_v{STYLES_VERSION}.{PAIRS_VERSION}_{split}_{len(framed)}x{variants}_seed{seed}.npz"
    cache = Path(cache_dir or default_cache_dir()) / name
    if cache.is_file():
        with np.load(cache) as cached:
            shoes, sketches, styles = cached["shoes"], cached["sketches"], cached["styles"]
    else:
        shoes, sketches, styles = styled_sketches(framed, variants, seed)
        if limit is None:  # Whole splits are cached; small limited sets are quick to redo.
            save_arrays(cache, shoes=shoes, sketches=sketches, styles=styles)
    flat = lambda array: array.reshape(-1, *array.shape[2:])  # noqa: E731
    return flat(shoes), flat(sketches), np.tile(categories, variants), flat(styles)


def styled_pair_elements(split: str, options: PipelineOptions, limit: int | None = None, seed: int = 0) -> tuple[tf.data.Dataset, int]:
    """Unbatched ``{"input", "target", "category"}`` dicts of the ``fmnist_sketches`` source and their count:
    many-style sketches for "train", the project's own sketches for "test" (see the module docstring)."""
    if split != "train":
        return sketch_pair_elements(split, options, limit)
    shoes, sketches, categories, _ = styled_sketch_arrays(split, limit, seed=seed)
    return pair_elements(shoes, sketches, categories, options), len(shoes)
