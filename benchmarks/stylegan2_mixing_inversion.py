"""StyleGAN2 mixing and inversion figures of an exported colour x type model (issue 15's measurements).

- Mixing: `--pairs` pairs of one ankle boot (the coarse source) and one sneaker (the style source), colours
  drawn at random, crossed over in the middle layer (`num_ws // 2`) by the ``mix`` signature; the share of
  mixes the project's shoe classifier calls ankle boots (the coarse source's type), and the same share for
  the reverse pairs (sneaker shape, boot details). Writes ``mixing_grid.png``: boot | sneaker | mix rows.
- Inversion: `--photos` held-out Fashion-MNIST test shoes, coloured as the training data, sent as PNG bytes
  to ``invert``; the reconstructions' mean absolute error in [0, 1] pixels and their type accuracy (the
  classifier's type of the reconstruction = the photo's type), beside the photos' own accuracy. Writes
  ``inversion_strip.png``: photo | reconstruction | mixed with a generated sneaker (the photo's coarse layers).

Prints JSON. Usage: python benchmarks/stylegan2_mixing_inversion.py RUN_OR_SAVED_MODEL [-o DIR] [--pairs 500] [--photos 500]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from shoes_generator.evaluation.classifier import load_or_train_classifier, predict_types  # noqa: E402
from shoes_generator.evaluation.reference import real_shoes  # noqa: E402
from shoes_generator.export import label_vocabularies  # noqa: E402
from shoes_generator.generate import saved_model_dir  # noqa: E402
from shoes_generator.imaging.io import image_grid  # noqa: E402


def chunks(count: int, size: int = 50):
    for start in range(0, count, size):
        yield slice(start, min(count, start + size))


def mixing(model, classifier, pairs: int, crossover: int, rng) -> tuple[dict, np.ndarray]:
    """Mixing shares (boot shape + sneaker details, and the reverse) and a grid's rows."""
    colors = label_vocabularies(model)["color"]
    first_colors, second_colors = rng.choice(colors, pairs), rng.choice(colors, pairs)
    report, rows = {}, []
    for coarse, fine in (("ankle_boot", "sneaker"), ("sneaker", "ankle_boot")):
        mixed = []
        for part in chunks(pairs):
            n = part.stop - part.start
            inputs = {
                "seed": np.arange(part.start, part.stop, dtype=np.int64),
                "color": first_colors[part], "category": np.full(n, coarse),
                "style_seed": np.arange(part.start, part.stop, dtype=np.int64) + 100_000,
                "style_color": second_colors[part], "style_category": np.full(n, fine),
                "crossover": np.full(n, crossover, np.int64), "truncation": np.ones(n, np.float32),
            }
            mixed.append(model.signatures["mix"](**{k: tf.constant(v) for k, v in inputs.items()})["images"].numpy())
        mixed = np.concatenate(mixed)
        predicted = predict_types(classifier, mixed)
        report[f"{coarse}_shape_{fine}_details"] = {
            "coarse_type_share": round(float(np.mean(predicted == coarse)), 4),
            "fine_type_share": round(float(np.mean(predicted == fine)), 4),
        }
        if coarse == "ankle_boot":
            sources = {}
            for name, offset, category, col in (("coarse", 0, coarse, first_colors), ("fine", 100_000, fine, second_colors)):
                out = model.signatures["serving_default"](
                    seed=tf.constant(np.arange(8, dtype=np.int64) + offset), color=tf.constant(col[:8]),
                    category=tf.constant(np.full(8, category)))
                sources[name] = out["images"].numpy()
            rows = [np.stack([sources["coarse"][i], sources["fine"][i], mixed[i]]) for i in range(8)]
    return report, np.concatenate(rows)


def inversion(model, classifier, photos: int, crossover: int, image_size: int) -> tuple[dict, np.ndarray]:
    """Reconstruction error and type accuracy of `photos` held-out test shoes, and a strip's rows."""
    images, categories, _ = real_shoes("test", image_size, colored=True, limit=photos, seed=7)
    recon, ws = [], []
    for part in chunks(len(images)):
        data = tf.constant([tf.io.encode_png(image).numpy() for image in images[part]])
        out = model.signatures["invert"](image_bytes=data)
        recon.append(out["images"].numpy())
        ws.append(out["w"].numpy())
    recon, ws = np.concatenate(recon), np.concatenate(ws)
    error = np.abs(recon.astype(np.float32) - images.astype(np.float32)) / 255.0
    sneakers = model.signatures["mapping"](
        seed=tf.constant(np.arange(8, dtype=np.int64) + 500), color=tf.constant(np.full(8, "red")),
        category=tf.constant(np.full(8, "sneaker")), truncation=tf.ones(8))["w"].numpy()
    mixed_ws = np.concatenate([ws[:8, :crossover], sneakers[:, crossover:]], axis=1)
    mixed = model.signatures["synthesis"](w=tf.constant(mixed_ws))["images"].numpy()
    report = {
        "photos": len(images),
        "l1": round(float(error.mean()), 4),
        "type_accuracy": round(float(np.mean(predict_types(classifier, recon) == categories)), 4),
        "photo_type_accuracy": round(float(np.mean(predict_types(classifier, images) == categories)), 4),
    }
    rows = [np.stack([images[i], recon[i], mixed[i]]) for i in range(8)]
    return report, np.concatenate(rows)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a stylegan2 run directory or its SavedModel")
    parser.add_argument("-o", "--out", type=Path, default=Path("outputs/stylegan2"), help="folder of the figures")
    parser.add_argument("--pairs", type=int, default=500, help="mixing pairs (default: %(default)s)")
    parser.add_argument("--photos", type=int, default=500, help="held-out photos inverted (default: %(default)s)")
    args = parser.parse_args(argv)

    try:
        model = tf.saved_model.load(str(saved_model_dir(str(args.model))))
    except ValueError as error:
        parser.error(str(error))
    if "mix" not in model.signatures:
        sys.exit(f"{args.model} is not a StyleGAN2 export (no mix signature)")
    num_ws = int(model.signatures["synthesis"].structured_input_signature[1]["w"].shape[1])
    image_size = int(model.signatures["serving_default"].structured_outputs["images"].shape[1] or 32)
    classifier, info = load_or_train_classifier(image_size)
    crossover = num_ws // 2
    mix_report, mix_rows = mixing(model, classifier, args.pairs, crossover, np.random.default_rng(0))
    inv_report, inv_rows = inversion(model, classifier, args.photos, crossover, image_size)
    args.out.mkdir(parents=True, exist_ok=True)
    tf.io.write_file(str(args.out / "mixing_grid.png"), tf.io.encode_png(image_grid(mix_rows, 8, 3)))
    tf.io.write_file(str(args.out / "inversion_strip.png"), tf.io.encode_png(image_grid(inv_rows, 8, 3)))
    result = {"model": str(args.model), "num_ws": num_ws, "crossover": crossover, "pairs": args.pairs,
              "classifier_test_accuracy": info.get("test_accuracy"), "mixing": mix_report, "inversion": inv_report,
              "figures": [str(args.out / "mixing_grid.png"), str(args.out / "inversion_strip.png")]}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
