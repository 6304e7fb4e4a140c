"""Pattern transfer pairs in memory (issue 17): a pattern on an object, the same pattern on a shoe, its sketch.

Each example takes one Fashion-MNIST shoe of the split and one pattern
(`shoes_generator.imaging.patterns`): training shoes get training patterns (ids below
`HELD_OUT_ID_START`, training colourings and photographs), test shoes get held-out patterns
(held-out colourings, ``gravel`` and ``chelsea``; ids from `HELD_OUT_ID_START` on). Kinds
and objects are balanced and shuffled. The exemplar shows the pattern at another phase
(another piece of the same fabric) on a random object on white; the shoe wears it with its
own shading, framed 28-in-32 like `fmnist.colored_shoe_arrays`; the sketch is the shoe's
edge map as `fmnist_edges.sketch_arrays` draws it (dark lines on white, at 32 px, resized).

NumPy only at import; Fashion-MNIST is read (and TensorFlow imported) when the function runs.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from shoes_generator.data.names import OBJECT_KINDS, PATTERN_KINDS, SPLITS
from shoes_generator.imaging.colorize import upscale
from shoes_generator.imaging.patterns import (
    HELD_OUT_ID_START,
    object_mask,
    pattern_spec,
    render_on_object,
    render_pattern,
    shade_prints,
    shoe_shading,
)

EXEMPLAR_PHASE = 1  # the shoe wears phase 0 of its pattern (or the example's index, when patterns repeat)
WHOLE_SPLIT_SKETCHES = 0.25  # sketch the whole split once (cached) when an example set uses more of it than this


def _sketches(split: str, gray: np.ndarray, used: np.ndarray, search_dirs) -> np.ndarray:
    """``uint8 [len(used), 32, 32]`` sketches of the shoes `used`, as `fmnist_edges.sketch_arrays` draws them."""
    from shoes_generator.data.fmnist import FRAME_SIZE, SOURCE_SIZE
    from shoes_generator.data.fmnist_edges import sketch_arrays
    from shoes_generator.imaging.edges import edge_map

    if search_dirs is None and len(used) > WHOLE_SPLIT_SKETCHES * len(gray):
        return sketch_arrays(split)[1][used]  # cached per split
    margin = (FRAME_SIZE - SOURCE_SIZE) // 2
    shoes = np.pad(gray[used], [(0, 0), (margin, margin), (margin, margin)])
    return np.stack([edge_map(np.repeat(shoe[..., None], 3, -1)) for shoe in shoes])


def _resize_sketches(sketches: np.ndarray, size: int) -> np.ndarray:
    """``uint8 [N, 32, 32]`` sketches at `size`: cubic when growing; shrinking keeps the darkest pixel of each
    source block, so one-pixel lines stay dark instead of fading to grey."""
    source = sketches.shape[1]
    if size >= source:
        return np.round(upscale(sketches, size) * 255).astype(np.uint8)
    starts = (np.arange(size) * source) // size
    return np.minimum.reduceat(np.minimum.reduceat(sketches, starts, axis=1), starts, axis=2)


def pattern_pairs(
    split: str,
    image_size: int = 32,
    count: int | None = None,
    seed: int = 0,
    *,
    num_patterns: int | None = None,
    search_dirs: Sequence[str | os.PathLike] | None = None,
    download: bool = True,
) -> dict[str, np.ndarray]:
    """Exemplar / shoe / sketch triples of one split, with their labels.

    Returns a dict of arrays, N = `count`:
    ``"exemplar"`` uint8 [N, S, S, 3] (the pattern on a bag, box, blob, sleeve or ellipse on white),
    ``"shoe"`` uint8 [N, S, S, 3] (the same pattern on the shoe), ``"print"`` uint8 [N, S, S, 3] (the
    full-frame print the shoe wears, before its shading), ``"shading"`` uint8 [N, S, S, 6] (the same shoe in
    a black and in a white print, `imaging.patterns.shoe_shading`), ``"sketch"`` uint8 [N, S, S, 3]
    (the shoe's sketch, dark lines on white), ``"category"`` str [N], ``"pattern_id"`` int64 [N],
    ``"kind"`` str [N], ``"object"`` str [N].

    Args:
        split: "train" (training patterns) or "test" (held-out patterns).
        image_size: S, the side in pixels (>= 8).
        count: how many examples; None for one per shoe of the split. Shoes are drawn without
            replacement while the split has enough.
        seed: seed of the shoes, patterns, objects and shading drawn.
        num_patterns: cycle through this many patterns (example i wears pattern i % num_patterns,
            each pattern keeps one exemplar; its shoes show other pieces of it); None: one pattern
            per example. E.g. 12 held-out patterns x N shoes for the fidelity measure.
        search_dirs: folders holding the Fashion-MNIST idx files (see `fmnist.load_split`).
        download: let Keras download Fashion-MNIST when no folder has it.
    """
    from shoes_generator.data.fmnist import load_shoe_arrays  # TensorFlow: imported to run only

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: split={split!r}")
    if not isinstance(image_size, (int, np.integer)) or image_size < 8:
        raise ValueError(f"image_size must be an int >= 8. Received: image_size={image_size!r}")
    for name, value in (("count", count), ("num_patterns", num_patterns)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive int or None. Received: {name}={value!r}")
    gray, categories = load_shoe_arrays(split, search_dirs, download)
    rng = np.random.default_rng([seed, SPLITS.index(split), 1717])
    count = len(gray) if count is None else count
    order = rng.permutation(len(gray))
    shoe_index = np.concatenate([order] * (count // len(gray)) + [order[: count % len(gray)]])
    patterns = count if num_patterns is None else min(num_patterns, count)
    first_id = int(rng.integers(0, HELD_OUT_ID_START - patterns)) + (HELD_OUT_ID_START if split == "test" else 0)
    pattern_ids = first_id + np.arange(patterns, dtype=np.int64)
    kinds = np.asarray(PATTERN_KINDS)[rng.permutation(np.resize(np.arange(len(PATTERN_KINDS)), patterns))]
    objects = np.asarray(OBJECT_KINDS)[rng.permutation(np.resize(np.arange(len(OBJECT_KINDS)), patterns))]
    specs = [pattern_spec(int(i), str(kind)) for i, kind in zip(pattern_ids, kinds)]
    exemplars = np.stack(
        [render_on_object(render_pattern(spec, image_size, EXEMPLAR_PHASE), object_mask(str(obj), image_size, np.random.default_rng([seed, int(spec.pattern_id)])))
         for spec, obj in zip(specs, objects)]
    )
    which = np.arange(count) % patterns
    phases = np.zeros(count, int) if num_patterns is None else 2 + np.arange(count)
    worn = np.stack([render_pattern(specs[p], image_size, phase) for p, phase in zip(which, phases)])
    used, inverse = np.unique(shoe_index, return_inverse=True)
    sketches = _sketches(split, gray, used, search_dirs)[inverse]
    sketches = _resize_sketches(sketches, image_size)
    dark, light = shoe_shading(gray[shoe_index], image_size, [seed, SPLITS.index(split)])
    return {
        "exemplar": exemplars[which],
        "shoe": shade_prints(worn, dark, light),
        "print": np.round(np.clip(worn, 0, 1) * 255).astype(np.uint8),
        "shading": np.round(np.concatenate([dark, light], -1) * 255).astype(np.uint8),
        "sketch": np.repeat(sketches[..., None], 3, -1),
        "category": np.asarray(categories)[shoe_index],
        "pattern_id": pattern_ids[which],
        "kind": kinds[which],
        "object": objects[which],
    }
