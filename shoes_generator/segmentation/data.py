"""Segmentation data: images paired with per-pixel class maps.

Two sources: Fashion-MNIST shoes tinted on white with their foreground masks
(the masks `shoes-data masks` writes; 0 background, 1 shoe), and a folder of
``image/<stem>.png|jpg`` beside ``label/<stem>.png`` class-index maps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from shoes_generator.data.pipeline import to_float
from shoes_generator.imaging.masks import foreground_mask

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def binary_masks(images: np.ndarray) -> np.ndarray:
    """``uint8 [N, S, S, 3]`` photos on a plain background -> ``uint8 [N, S, S]`` masks, 0 background / 1 shoe."""
    masks = np.zeros(np.shape(images)[:3], np.uint8)
    for index, image in enumerate(images):
        masks[index] = foreground_mask(image) > 0
    return masks


def fmnist_mask_pairs(split: str, image_size: int = 32, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST shoes tinted on white and their binary masks.

    Args:
        split: "train" or "test".
        image_size: side of the images and masks.
        limit: at most this many shoes.

    Returns:
        images ``uint8 [N, S, S, 3]`` and masks ``uint8 [N, S, S]`` (0 background, 1 shoe).
    """
    from shoes_generator.data.fmnist import colored_shoe_arrays

    images, _, _ = colored_shoe_arrays(split, size=image_size, limit=limit)
    return images, binary_masks(images)


def _stems(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"Expected a folder of images at {str(folder)!r}; it does not exist.")
    return {path.stem: path for path in sorted(folder.iterdir()) if path.suffix.lower() in suffixes}


def label_folder_pairs(root: str | Path, image_size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Reads ``root/image/<stem>.png|jpg`` and ``root/label/<stem>.png`` pairs.

    Each label PNG holds a class index per pixel (e.g. 0 background, 1 sole,
    2 heel, 3 upper). Images are resized bilinearly, labels with nearest
    neighbours, both to ``image_size x image_size``.

    Args:
        root: the folder holding ``image/`` and ``label/``.
        image_size: output side in pixels.

    Returns:
        images ``uint8 [N, S, S, 3]``, labels ``uint8 [N, S, S]``, and the number of classes (max label + 1).

    Raises:
        FileNotFoundError: a folder is missing, or an image or label has no partner (both are named).
        ValueError: no pairs, a bad `image_size`, or an image and its label differ in size.
    """
    if not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer. Received: image_size={image_size!r}")
    root = Path(root)
    images, labels = _stems(root / "image", IMAGE_SUFFIXES), _stems(root / "label", (".png",))
    missing_labels = [str(root / "label" / f"{stem}.png") for stem in images if stem not in labels]
    if missing_labels:
        raise FileNotFoundError(f"Images without a label PNG; expected: {', '.join(missing_labels)}")
    missing_images = [str(labels[stem]) for stem in labels if stem not in images]
    if missing_images:
        raise FileNotFoundError(f"Labels without an image (image/<stem>.png|jpg): {', '.join(missing_images)}")
    if not images:
        raise ValueError(f"No image/label pairs under {str(root)!r}.")
    image_arrays, label_arrays = [], []
    for stem, image_path in images.items():
        with Image.open(image_path) as image, Image.open(labels[stem]) as label:
            if image.size != label.size:
                raise ValueError(f"Image and label sizes differ for {stem!r}. Received: image {image.size}, label {label.size}")
            if label.mode not in ("L", "P", "I", "I;16"):
                raise ValueError(f"Label PNGs must be single-channel class indices. Received: mode={label.mode!r} for {str(labels[stem])!r}")
            size = (image_size, image_size)
            image_arrays.append(np.asarray(image.convert("RGB").resize(size, Image.BILINEAR), np.uint8))
            label_arrays.append(np.asarray(label.resize(size, Image.NEAREST)).astype(np.uint8))
    label_stack = np.stack(label_arrays)
    return np.stack(image_arrays), label_stack, int(label_stack.max()) + 1


def segmentation_dataset(
    images: np.ndarray, masks: np.ndarray, batch_size: int, seed: int, shuffle: bool = True, flip: bool = True
) -> tf.data.Dataset:
    """Batches of (images ``float32 [B, S, S, 3]`` in [-1, 1], masks ``int32 [B, S, S]``).

    Shuffling is seeded, and a horizontal flip (probability 1/2, drawn from a
    seeded random stream) is applied to an image and its mask together.

    Args:
        images: ``uint8 [N, S, S, 3]``.
        masks: ``[N, S, S]`` class indices.
        batch_size: examples per batch (the last batch may be smaller).
        seed: seed of the shuffling and the flips.
        shuffle: reshuffle every epoch.
        flip: apply random horizontal flips (off for evaluation).

    Raises:
        ValueError: images and masks do not match.
    """
    images, masks = np.asarray(images), np.asarray(masks)
    if images.ndim != 4 or masks.shape != images.shape[:3]:
        raise ValueError(f"Expected images [N, S, S, C] and masks [N, S, S]. Received: images {images.shape}, masks {masks.shape}")
    dataset = tf.data.Dataset.from_tensor_slices((images, masks.astype(np.int32)))
    if shuffle:
        dataset = dataset.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if flip:
        coins = tf.data.Dataset.random(seed=seed).map(lambda value: value % 2 == 1)

        def flipped(pair, coin):
            image, mask = pair
            image = tf.where(coin, tf.reverse(image, [1]), image)
            return image, tf.where(coin, tf.reverse(mask, [1]), mask)

        dataset = tf.data.Dataset.zip(dataset, coins).map(flipped)
    dataset = dataset.map(lambda image, mask: (to_float(image), mask))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
