"""Fashion-MNIST shoes: sandal, sneaker and ankle boot, grayscale or tinted in the catalogue colours.

The four idx files are searched in this order: Debian's ``dataset-fashion-mnist``
(`/usr/share/datasets/fashion-mnist/`), the Keras cache
(``$KERAS_HOME`` or ``~/.keras``, then ``datasets/fashion-mnist/``), and last
``keras.datasets.fashion_mnist.load_data()``, which downloads them into that cache.

Framing: with ``fit="pad"`` the 28 px shoe keeps Fashion-MNIST's own margin: it is
padded to 32 px with its background, then scaled by ``image_size / 32`` (32 px is a
pure pad, 64 and 128 px an upscale of the padded image), so a shoe covers the same
28/32 of the frame at every size. ``fit="resize"`` (or "crop") stretches the 28 px
image over the whole frame. Grayscale shoes are light on black, as in the data set,
so they are padded with black (-1) whatever ``options.pad_value`` says; coloured
shoes lie on a white background.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from types import MappingProxyType
from typing import Sequence

import numpy as np
import tensorflow as tf

from shoes_generator.data.names import CATEGORY_NAMES, SHOE_CLASSES, SPLITS  # noqa: F401  (TensorFlow-free; named here too)
from shoes_generator.data.pipeline import PipelineOptions, batch_pipeline, fit_image, to_float
from shoes_generator.imaging.colorize import assign_colors, colorize
from shoes_generator.imaging.colors import COLOR_NAMES

FILES = MappingProxyType(
    {
        "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
    }
)
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE_SIZE = 28
FRAME_SIZE = 32  # 28 px shoe + 2 px margin each side, Fashion-MNIST's own framing.
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049


class FashionMNISTNotFoundError(FileNotFoundError):
    """None of the places that may hold Fashion-MNIST had it."""


def keras_cache_dir() -> Path:
    """Where Keras caches Fashion-MNIST: ``$KERAS_HOME`` (or ``~/.keras``) ``/datasets/fashion-mnist``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "fashion-mnist"


def default_search_dirs() -> tuple[Path, ...]:
    """The folders searched before downloading: Debian's package, then the Keras cache."""
    return (DEBIAN_DIR, keras_cache_dir())


def vocabularies(colored: bool = False) -> dict[str, tuple[str, ...]]:
    """The string labels of the shoes, e.g. for ``keras.layers.StringLookup(vocabulary=...)``.

    Args:
        colored: include the ``color`` vocabulary of the coloured variant.
    """
    vocab = {"category": CATEGORY_NAMES}
    if colored:
        vocab["color"] = COLOR_NAMES
    return vocab


def read_idx(path: str | os.PathLike, magic: int) -> np.ndarray:
    """Reads a gzipped idx file (big-endian header) as a ``uint8`` array.

    Args:
        path: the ``.gz`` file.
        magic: the expected magic number: 2051 for images ``[N, 28, 28]``,
            2049 for labels ``[N]``.

    Raises:
        ValueError: the file is not an idx file of that kind.
    """
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    ndim = 3 if magic == IDX_IMAGES_MAGIC else 1
    header = 4 * (1 + ndim)
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise ValueError(f"{str(path)!r} is not an idx file with magic {magic}. Received: magic={found}")
    if len(data) < header:
        raise ValueError(f"{str(path)!r} is too short for an idx header. Received: {len(data)} bytes")
    shape = tuple(int.from_bytes(data[4 * (i + 1) : 4 * (i + 2)], "big") for i in range(ndim))
    values = np.frombuffer(data, np.uint8, offset=header)
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{str(path)!r} holds {values.size} values for the shape {shape} of its header.")
    return values.reshape(shape)


def write_split(folder: str | os.PathLike, split: str, images: np.ndarray, labels: np.ndarray) -> Path:
    """Writes images ``uint8 [N, H, W]`` and labels ``uint8 [N]`` as the two idx ``.gz`` files of `split`.

    The inverse of the reader: makes small Fashion-MNIST subsets (and test data).

    Args:
        folder: destination folder (created).
        split: "train" or "test" (chooses the file names).
        images: the images.
        labels: class ids 0-9.
    """
    images, labels = np.asarray(images, np.uint8), np.asarray(labels, np.uint8)
    if images.ndim != 3 or labels.shape != (len(images),):
        raise ValueError(f"Expected images [N, H, W] and labels [N]. Received: shapes {images.shape} and {labels.shape}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, magic, array in zip(FILES[split], (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC), (images, labels)):
        header = b"".join(int(value).to_bytes(4, "big") for value in (magic, *array.shape))
        with gzip.open(folder / name, "wb") as handle:
            handle.write(header + array.tobytes())
    return folder


def _read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Images and labels of `split` from `folder`, or None when its files are not there."""
    image_file, label_file = (folder / name for name in FILES[split])
    if not (image_file.is_file() and label_file.is_file()):
        return None
    images, labels = read_idx(image_file, IDX_IMAGES_MAGIC), read_idx(label_file, IDX_LABELS_MAGIC)
    if len(images) != len(labels):
        raise ValueError(f"{str(image_file)!r} has {len(images)} images but {str(label_file)!r} has {len(labels)} labels.")
    return images, labels


def load_split(
    split: str = "train", search_dirs: Sequence[str | os.PathLike] | None = None, download: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """All ten classes of one split: images ``uint8 [N, 28, 28]`` and labels ``uint8 [N]``.

    Args:
        split: "train" or "test".
        search_dirs: folders holding the idx ``.gz`` files, searched in order;
            None for `default_search_dirs()`.
        download: finally try ``keras.datasets.fashion_mnist.load_data()``.

    Raises:
        FashionMNISTNotFoundError: no folder has the files and the download failed.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}. Received: split={split!r}")
    dirs = [Path(d).expanduser() for d in (default_search_dirs() if search_dirs is None else search_dirs)]
    for folder in dirs:
        found = _read_split(folder, split)
        if found is not None:
            return found
    problem = "download disabled"
    if download:
        try:
            import keras

            train, test = keras.datasets.fashion_mnist.load_data()
            return train if split == "train" else test
        except Exception as error:  # Any failure (offline, proxy, disk) ends in the same advice.
            problem = f"download failed: {type(error).__name__}: {error}"
    searched = "\n".join(f"  {i}. {folder}/{{{','.join(FILES[split])}}}" for i, folder in enumerate(dirs, 1))
    raise FashionMNISTNotFoundError(
        f"Fashion-MNIST ({split} split) not found. Searched:\n{searched}\n"
        f"  {len(dirs) + 1}. keras.datasets.fashion_mnist.load_data() ({problem}).\n"
        "Get the data with `sudo apt-get install dataset-fashion-mnist` (files in "
        f"{DEBIAN_DIR}/), or copy the four idx .gz files into {keras_cache_dir()}/, "
        "or run keras.datasets.fashion_mnist.load_data() where the internet is reachable."
    )


def select(
    images: np.ndarray, categories: np.ndarray, limit: int | None = None, per_class: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Keeps the first `per_class` shoes of each category, then the first `limit`, in data set order.

    Args:
        images: ``[N, ...]`` images.
        categories: ``[N]`` category names.
        limit: at most this many shoes in all.
        per_class: at most this many shoes of each category.
    """
    for name, value in (("limit", limit), ("per_class", per_class)):
        if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive int or None. Received: {name}={value!r}")
    keep = np.ones(len(categories), bool)
    if per_class is not None:
        rank = np.zeros(len(categories), np.int64)
        for name in CATEGORY_NAMES:
            where = categories == name
            rank[where] = np.arange(where.sum())
        keep &= rank < per_class
    index = np.flatnonzero(keep)[:limit]
    return images[index], categories[index]


def load_shoe_arrays(
    split: str = "train",
    search_dirs: Sequence[str | os.PathLike] | None = None,
    download: bool = True,
    limit: int | None = None,
    per_class: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The shoes of a split: images ``uint8 [N, 28, 28]`` (light on black) and category names ``[N]``.

    18,000 train and 3,000 test shoes in the full data set.

    Args:
        split: "train" or "test".
        search_dirs: folders searched for the idx files (see `load_split`).
        download: let Keras download the files when no folder has them.
        limit: at most this many shoes.
        per_class: at most this many shoes of each category.
    """
    images, labels = load_split(split, search_dirs, download)
    keep = np.isin(labels, list(SHOE_CLASSES))
    lookup = np.array([SHOE_CLASSES.get(i, "") for i in range(10)])
    return select(images[keep], lookup[labels[keep]], limit, per_class)


def colored_shoe_arrays(
    split: str = "train",
    size: int = 64,
    seed: int = 0,
    fit: str = "pad",
    search_dirs: Sequence[str | os.PathLike] | None = None,
    download: bool = True,
    limit: int | None = None,
    per_class: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shoes tinted in the catalogue colours on white: ``uint8 [N, size, size, 3]``, colours, categories.

    Colours are balanced over the 11 names and assigned per image by `seed`
    (and the split, so train and test do not share one sequence).

    Args:
        split: "train" or "test".
        size: output side in pixels.
        seed: seed of the colour assignment and of the per-image shade variation.
        fit: "pad" keeps the 28/32 framing, "resize"/"crop" fill the frame.
        search_dirs: folders searched for the idx files (see `load_split`).
        download: let Keras download the files when no folder has them.
        limit: at most this many shoes.
        per_class: at most this many shoes of each category.
    """
    gray, categories = load_shoe_arrays(split, search_dirs, download, limit, per_class)
    split_seed = [seed, SPLITS.index(split)]
    color_ids = assign_colors(len(gray), split_seed)
    margin = (FRAME_SIZE - SOURCE_SIZE) / 2 / FRAME_SIZE if fit == "pad" else 0.0
    images = colorize(gray, color_ids, size=size, seed=split_seed, margin=margin)
    return images, np.asarray(COLOR_NAMES)[color_ids], categories


def fmnist_shoes(
    split: str,
    options: PipelineOptions,
    colored: bool = False,
    seed: int = 0,
    limit: int | None = None,
    search_dirs: Sequence[str | os.PathLike] | None = None,
    download: bool = True,
) -> tf.data.Dataset:
    """Batches of Fashion-MNIST shoes: dicts ``{"image", "category"}`` (+ ``"color"`` when coloured).

    Images are ``float32 [B, S, S, C]`` in ``[-1, 1]``; labels are strings (see
    `vocabularies`). The coloured variant is tinted in NumPy up front and held in
    memory as ``uint8`` (about 220 MB for the train split at 64 px, 880 MB at 128 px).

    Args:
        split: "train" or "test".
        options: size, channels, fit, batching, shuffling.
        colored: tint each shoe in one of the 11 catalogue colours on white
            (needs ``options.channels == 3``).
        seed: seed of the colour assignment (shuffling uses ``options.seed``).
        limit: at most this many shoes.
        search_dirs: folders searched for the idx files (see `load_split`).
        download: let Keras download the files when no folder has them.
    """
    if colored:
        if options.channels != 3:
            raise ValueError(f"Coloured shoes need channels=3. Received: channels={options.channels}")
        images, colors, categories = colored_shoe_arrays(
            split, options.image_size, seed, options.fit, search_dirs, download, limit
        )
        columns = {"image": images, "category": categories, "color": colors}
        fit = None
    else:
        gray, categories = load_shoe_arrays(split, search_dirs, download, limit)
        margin = (FRAME_SIZE - SOURCE_SIZE) // 2 if options.fit == "pad" else 0
        images = np.pad(gray, [(0, 0), (margin, margin), (margin, margin)])[..., None]
        columns = {"image": images, "category": categories}
        fit = "resize"

    def _prepare(example):
        example = dict(example)
        image = to_float(example["image"])
        if fit is not None:
            image = fit_image(image, options.image_size, fit, pad_value=-1.0)
            if options.channels == 3:
                image = tf.image.grayscale_to_rgb(image)
        example["image"] = image
        return example

    dataset = tf.data.Dataset.from_tensor_slices(columns)
    dataset = dataset.map(_prepare, num_parallel_calls=options.num_parallel_calls, deterministic=True)
    return batch_pipeline(dataset, options, num_examples=len(categories))
