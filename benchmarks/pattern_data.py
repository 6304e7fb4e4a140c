"""Pattern transfer data (issue 17): generation speed, the descriptor's oracle top-1, and a figure.

Prints JSON:
- speed: seconds and pairs per second of `pattern_pairs("train", 32, --count)` (the sketches of the
  whole train split are cached on the first call; the timing is taken on a second call, and the
  first call's time is reported too);
- oracle: for --seeds seeds, 12 held-out patterns x --shoes test shoes each at 32 and 64 px, the share
  of patterned shoes whose nearest exemplar (`nearest_exemplar` over `texture_descriptor`) is their
  own pattern on its object; the ceiling of the issue's fidelity measure (chance 1/12), per kind too.
Writes the figure: one row per pattern kind (held-out patterns; the photo rows show the held-out
photographs gravel and chelsea), exemplar object | the pattern on a sandal, a sneaker, an ankle boot.

    .venv/bin/python benchmarks/pattern_data.py --figure docs/patterns_examples.png
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from data_tools.common import emit_summary
from shoes_generator.data.fmnist import load_shoe_arrays
from shoes_generator.data.names import CATEGORY_NAMES, OBJECT_KINDS, PATTERN_KINDS
from shoes_generator.data.patterns import pattern_pairs
from shoes_generator.imaging.patterns import (
    HELD_OUT_ID_START,
    nearest_exemplar,
    object_mask,
    pattern_spec,
    render_on_object,
    render_on_shoes,
    render_pattern,
    texture_descriptors,
)

PATTERNS = 12


def speed(count: int) -> dict:
    """Seconds to make `count` training pairs at 32 px: the first call (sketches the split) and a second one."""
    times = []
    for seed in (0, 1):
        start = time.perf_counter()
        pattern_pairs("train", 32, count, seed=seed)
        times.append(time.perf_counter() - start)
    return {"pairs": count, "size": 32, "first_call_s": round(times[0], 2), "seconds": round(times[1], 2),
            "pairs_per_second": round(count / times[1], 1)}


def oracle(size: int, seeds: int, shoes: int) -> dict:
    """Top-1 of real patterned shoes against their exemplars among 12 held-out patterns, per seed and per kind."""
    per_seed, hits = [], defaultdict(list)
    for seed in range(seeds):
        pairs = pattern_pairs("test", size, PATTERNS * shoes, seed=seed, num_patterns=PATTERNS)
        nearest = nearest_exemplar(texture_descriptors(pairs["shoe"]), texture_descriptors(pairs["exemplar"][:PATTERNS]))
        right = nearest == np.arange(len(nearest)) % PATTERNS
        per_seed.append(float(right.mean()))
        for kind, ok in zip(pairs["kind"], right):
            hits[str(kind)].append(bool(ok))
    return {"size": size, "patterns": PATTERNS, "shoes_per_pattern": shoes, "seeds": seeds, "top1": round(float(np.mean(per_seed)), 3),
            "top1_per_seed": [round(value, 3) for value in per_seed], "top1_per_kind": {k: round(float(np.mean(v)), 3) for k, v in sorted(hits.items())}}


def held_out_spec(kind: str, first_id: int, texture: str | None = None):
    """The first held-out pattern of `kind` from `first_id` on (of that photograph, when `texture` is given)."""
    pattern_id = first_id
    while texture is not None and pattern_spec(pattern_id, kind).params["texture"] != texture:
        pattern_id += 1
    return pattern_spec(pattern_id, kind)


def figure(size: int, seed: int) -> Image.Image:
    """Rows: held-out patterns of every kind (two photographs); columns: exemplar | sandal | sneaker | ankle boot."""
    gray, categories = load_shoe_arrays("test")
    rng = np.random.default_rng(seed)
    shoe_index = [int(rng.choice(np.flatnonzero(categories == name))) for name in CATEGORY_NAMES]
    rows, labels = [], []
    plan = [(kind, None) for kind in PATTERN_KINDS if kind != "photo"] + [("photo", "gravel"), ("photo", "chelsea")]
    for row, (kind, texture) in enumerate(plan):
        spec = held_out_spec(kind, HELD_OUT_ID_START + 1000 * seed + 10 * row, texture)
        obj = OBJECT_KINDS[row % len(OBJECT_KINDS)]
        exemplar = render_on_object(render_pattern(spec, size, 1), object_mask(obj, size, np.random.default_rng([seed, row])))
        worn = np.stack([render_pattern(spec, size, 2 + i) for i in range(3)])
        rows.append([exemplar, *render_on_shoes(worn, gray[shoe_index], seed=seed)])
        labels.append(f"{texture or kind} on {'an' if obj[0] in 'aeiou' else 'a'} {obj}\n" + ("/".join(spec.colors) or "own colours"))
    gap, label_width, header = 6, 150, 18
    canvas = Image.new("RGB", (label_width + 4 * (size + gap) + gap, header + len(rows) * (size + gap)), "white")
    draw = ImageDraw.Draw(canvas)
    for col, title in enumerate(("exemplar", *CATEGORY_NAMES)):
        draw.text((label_width + col * (size + gap) + (gap if col else 0), 3), title, fill="black")
    for r, (images, label) in enumerate(zip(rows, labels)):
        top = header + r * (size + gap)
        draw.text((4, top + size // 2 - 10), label, fill="black")
        for col, image in enumerate(images):
            canvas.paste(Image.fromarray(image), (label_width + col * (size + gap) + (gap if col else 0), top))
        draw.line([(label_width + size + gap // 2 + 1, top), (label_width + size + gap // 2 + 1, top + size)], fill=(180, 180, 180))
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=12000, help="training pairs timed (default 12000)")
    parser.add_argument("--seeds", type=int, default=6, help="seeds of the oracle measure (default 6)")
    parser.add_argument("--shoes", type=int, default=10, help="shoes per held-out pattern in the oracle (default 10)")
    parser.add_argument("--figure", default="docs/patterns_examples.png", help="where the figure goes")
    parser.add_argument("--figure-size", type=int, default=96, help="image side in the figure (default 96)")
    parser.add_argument("--figure-seed", type=int, default=0, help="seed of the figure's patterns and shoes (default 0)")
    parser.add_argument("--figure-only", action="store_true", help="draw the figure, measure nothing")
    args = parser.parse_args()
    summary = {} if args.figure_only else {"speed": speed(args.count), "oracle": [oracle(size, args.seeds, args.shoes) for size in (32, 64)]}
    Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
    figure(args.figure_size, args.figure_seed).save(args.figure)
    emit_summary({**summary, "figure": args.figure})


if __name__ == "__main__":
    main()
