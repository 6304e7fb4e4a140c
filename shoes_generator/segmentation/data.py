"""Segmentation data: images paired with per-pixel class maps.

Three sources: Fashion-MNIST shoes tinted on white with their foreground masks
(the masks `shoes-data masks` writes; 0 background, 1 shoe) or with their part
maps (`label_parts`, the maps `shoes-data parts` writes), and an image
folder beside a label folder at the same relative paths (class-index PNGs, or
the 0/255 masks of `shoes-data masks`), split into train and a stable held-out
tenth by a hash of each path. `segmentation_arrays` picks by a `DataConfig`.
"""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image

from shoes_generator.data.pipeline import decode_image, fit_image, fit_label, to_float, to_uint8
from shoes_generator.imaging.masks import foreground_mask
from shoes_generator.imaging.parts import label_parts_batch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
HELD_OUT_EVERY = 10

logger = logging.getLogger("shoes_generator.segmentation")


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
    images = _fmnist_images(split, image_size, limit)
    return images, binary_masks(images)


def fmnist_part_pairs(split: str, image_size: int = 32, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The shoes of `fmnist_mask_pairs` (same arguments) and their part maps by `label_parts_batch`:
    images ``uint8 [N, S, S, 3]``, maps ``uint8 [N, S, S]`` of indices into `PART_CLASSES`."""
    images = _fmnist_images(split, image_size, limit)
    return images, label_parts_batch(images)


def _fmnist_images(split: str, image_size: int, limit: int | None) -> np.ndarray:
    """The coloured Fashion-MNIST shoes on white, ``uint8 [N, S, S, 3]`` (`colored_shoe_arrays`)."""
    from shoes_generator.data.fmnist import colored_shoe_arrays

    return colored_shoe_arrays(split, size=image_size, limit=limit)[0]


def _files(folder: Path, suffixes: tuple[str, ...]) -> dict[str, Path]:
    """``{relative path without suffix: path}`` of the files below `folder` with one of `suffixes`."""
    if not folder.is_dir():
        raise FileNotFoundError(f"Expected a folder of images at {str(folder)!r}; it does not exist.")
    return {
        path.relative_to(folder).with_suffix("").as_posix(): path
        for path in sorted(folder.rglob("*"))
        if path.suffix.lower() in suffixes and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    }


def held_out(key: str, share: int = HELD_OUT_EVERY) -> bool:
    """Whether the pair `key` (its relative path) belongs to the held-out split: a stable ~1/`share` of the keys."""
    return zlib.crc32(key.encode("utf-8")) % share == 0


def _class_map(label: Image.Image, path: Path) -> Image.Image:
    """A label image as class indices: 0/255 masks (`shoes-data masks`) become 0/1, index PNGs stay."""
    if label.mode not in ("L", "P", "I", "I;16"):
        raise ValueError(f"Label PNGs must be single-channel class indices or 0/255 masks. Received: mode={label.mode!r} for {str(path)!r}")
    values = np.asarray(label)
    if values.max(initial=0) == 255 and set(np.unique(values).tolist()) <= {0, 255}:
        return Image.fromarray((values // 255).astype(np.uint8), mode="L")
    return label


def _read_pair(image_path: Path, label_path: Path, size: int) -> tuple[np.ndarray, np.ndarray]:
    """One image and its label fitted to ``size x size`` as the exported ``segment`` signature fits
    images: decoded by the same op (transparency onto white), aspect ratio kept, padded (white for
    the image, background for the label)."""
    pixels = decode_image(tf.constant(image_path.read_bytes()), 3)
    with Image.open(label_path) as label:
        classes = np.asarray(_class_map(label, label_path)).astype(np.uint8)
    if tuple(pixels.shape[:2]) != classes.shape:
        raise ValueError(f"Image and label sizes differ for {str(image_path)!r}. Received: image {tuple(pixels.shape[:2])}, "
                         f"label {classes.shape} (height, width)")
    fitted = to_uint8(fit_image(to_float(pixels), size, pad_value=1.0)).numpy()
    return fitted, fit_label(tf.constant(classes[..., None]), size).numpy()[..., 0]


def label_tree_pairs(
    image_root: str | Path, label_root: str | Path, image_size: int, split: str | None = None, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Reads images below `image_root` and the label PNGs at the same relative paths below `label_root`.

    Each label PNG holds a class index per pixel (e.g. 0 background, 1 sole,
    2 heel, 3 upper), or is a 0/255 mask as `shoes-data masks` writes it (read
    as 0 background, 1 shoe). Both are fitted to the square as served images
    are (aspect kept, padded: see `_read_pair`; labels by nearest neighbours).
    Unreadable files are skipped, counted and logged.

    Args:
        image_root: the image folder (searched recursively; PNG or JPEG).
        label_root: the label folder mirroring it (``<relative path>.png``).
        image_size: output side in pixels.
        split: None for every pair, "train" or "test" for the held-out split by `held_out`.
        limit: decode at most this many pairs (the first, in path order).

    Returns:
        images ``uint8 [N, S, S, 3]``, labels ``uint8 [N, S, S]``, and the number of classes (max label + 1).

    Raises:
        FileNotFoundError: a folder is missing, or an image or label has no partner (both are named).
        ValueError: no readable pairs, a bad `image_size` or `split`, or an image and its label differ in size.
    """
    if not isinstance(image_size, int) or image_size < 1:
        raise ValueError(f"image_size must be a positive integer. Received: image_size={image_size!r}")
    if split not in (None, "train", "test"):
        raise ValueError(f"split must be None, 'train' or 'test'. Received: split={split!r}")
    image_root, label_root = Path(image_root), Path(label_root)
    images, labels = _files(image_root, IMAGE_SUFFIXES), _files(label_root, (".png",))
    missing_labels = [str(label_root / f"{key}.png") for key in images if key not in labels]
    if missing_labels:
        raise FileNotFoundError(f"Images without a label PNG; expected: {', '.join(missing_labels[:20])}")
    missing_images = [str(labels[key]) for key in labels if key not in images]
    if missing_images:
        raise FileNotFoundError(f"Labels without an image (<same relative path>.png|jpg): {', '.join(missing_images[:20])}")
    keys = [key for key in images if split is None or held_out(key) == (split == "test")]
    if not keys and images:
        raise ValueError(
            f"The {split} split of {str(image_root)!r} is empty: about 1 pair in {HELD_OUT_EVERY} is held out for testing, "
            f"chosen by a hash of its path, and none of the {len(images)} pairs was. Add more pairs."
        )
    pairs, skipped = [], []
    for key in keys[:limit]:
        try:
            pairs.append(_read_pair(images[key], labels[key], image_size))
        except (OSError, SyntaxError, tf.errors.InvalidArgumentError) as error:  # Truncated or corrupt files.
            skipped.append(f"{key} ({error})")
    if skipped:
        logger.warning("Skipped %d unreadable image/label pair(s): %s", len(skipped), "; ".join(skipped[:10]))
    if not pairs:
        which = "" if split is None else f" in the {split} split"
        raise ValueError(f"No readable image/label pairs{which} under {str(image_root)!r} and {str(label_root)!r} ({len(skipped)} skipped).")
    label_stack = np.stack([label for _, label in pairs])
    return np.stack([image for image, _ in pairs]), label_stack, int(label_stack.max()) + 1


def segmentation_arrays(config, split: str = "train", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The images and class maps of a segmentation `DataConfig` ("fmnist_masks", "fmnist_parts" or "segments").

    Args:
        config: the data section (`source`, `path`, `label_path`, `image_size`, `classes`).
        split: "train" or "test" (Fashion-MNIST's test split, or the folder's held-out tenth).
        limit: at most this many pairs.

    Raises:
        ValueError: a label holds a class index outside ``config.classes``, or the source is not a segmentation one.
    """
    if config.source == "fmnist_masks":
        images, masks = fmnist_mask_pairs(split, config.image_size, limit)
    elif config.source == "fmnist_parts":
        images, masks = fmnist_part_pairs(split, config.image_size, limit)
    elif config.source == "segments":
        root = Path(config.path).expanduser()
        image_root, label_root = (root, Path(config.label_path).expanduser()) if config.label_path else (root / "image", root / "label")
        images, masks, _ = label_tree_pairs(image_root, label_root, config.image_size, split, limit)
    else:
        raise ValueError(f"Not a segmentation source. Expected 'fmnist_masks', 'fmnist_parts' or 'segments'. Received: data.source={config.source!r}")
    if masks.max(initial=0) >= len(config.classes):
        raise ValueError(
            f"The labels hold class {int(masks.max())}, but data.classes names {len(config.classes)}: {list(config.classes)}. "
            "Set data.classes to every class name, background first."
        )
    return images, masks


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
