"""Compares the U-Net and FCN segmenters on Fashion-MNIST shoes (coloured on white) and their masks.

Both train on the train split and are scored on the held-out test split by
pixel accuracy and IoU (one confusion matrix over the whole split). Prints
JSON ``{architecture: {pixel_accuracy, mean_iou, per_class_iou, params, train_seconds}}``.

    .venv/bin/python benchmarks/segmentation_compare.py --out benchmarks/segmentation_results.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from shoes_generator.segmentation.data import fmnist_mask_pairs
from shoes_generator.segmentation.train import evaluate_segmenter, train_segmenter

CLASS_NAMES = ("background", "shoe")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architectures", nargs="+", default=["unet", "fcn"])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--train-limit", type=int, default=6000)
    parser.add_argument("--test-limit", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)

    train_images, train_masks = fmnist_mask_pairs("train", args.image_size, args.train_limit)
    test_images, test_masks = fmnist_mask_pairs("test", args.image_size, args.test_limit)
    results = {}
    for architecture in args.architectures:
        start = time.perf_counter()
        model, _ = train_segmenter(
            architecture, train_images, train_masks, len(CLASS_NAMES), args.epochs, args.batch_size, args.seed,
            model_options={"base_filters": args.base_filters},
        )
        seconds = time.perf_counter() - start
        scores = evaluate_segmenter(model, test_images, test_masks, len(CLASS_NAMES), class_names=CLASS_NAMES)
        results[architecture] = {**scores, "params": int(model.count_params()), "train_seconds": round(seconds, 1)}
    results["setup"] = {**{k: v for k, v in vars(args).items() if k != "out"}, "train_images": len(train_images), "test_images": len(test_images)}
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return results


if __name__ == "__main__":
    main()
