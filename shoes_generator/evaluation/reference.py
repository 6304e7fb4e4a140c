"""Real Fashion-MNIST shoes as ``uint8`` arrays, prepared exactly like the training data."""

from __future__ import annotations

import numpy as np

from shoes_generator.data.pipeline import PipelineOptions, to_uint8


def real_shoes(split: str, image_size: int, colored: bool, limit: int | None = None, seed: int = 0):
    """``uint8 [N, S, S, 3]`` shoes, their categories and colours ("" when grayscale).

    Args:
        split: "train" or "test".
        image_size: side in pixels.
        colored: tinted into the catalogue colours (as `fmnist_color` trains on).
        limit: at most this many shoes.
        seed: seed of the colour assignment.
    """
    from shoes_generator.data.fmnist import fmnist_shoes

    options = PipelineOptions(image_size=image_size, channels=3, batch_size=512, shuffle=False, drop_remainder=False)
    images, categories, colors = [], [], []
    for batch in fmnist_shoes(split, options, colored=colored, seed=seed, limit=limit):
        images.append(to_uint8(batch["image"]).numpy())
        categories.extend(v.decode() for v in batch["category"].numpy())
        colors.extend(v.decode() for v in batch["color"].numpy()) if colored else colors.extend([""] * len(batch["image"]))
    return np.concatenate(images), np.asarray(categories), np.asarray(colors)
