"""The shared test harness: tiny synthetic shoe images and data trees.

Every helper writes real JPEG/PNG files (a few dozen pixels) so tests exercise
the same decoding paths as users' folders.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

WHITE = (255, 255, 255)


def shoe_image(size: int = 32, color=(200, 30, 30), background=WHITE, width: int | None = None) -> Image.Image:
    """A shoe-like silhouette (sole, upper, shaft) filled with `color`.

    Args:
        size: image height (and width unless `width` is given).
        color: RGB fill of the shoe.
        background: RGB background.
        width: image width, for non-square images.
    """
    width = width or size
    image = Image.new("RGB", (width, size), background)
    draw = ImageDraw.Draw(image)
    sx, sy = width / 32, size / 32
    draw.polygon([(4 * sx, 24 * sy), (28 * sx, 24 * sy), (28 * sx, 19 * sy), (16 * sx, 15 * sy), (12 * sx, 6 * sy), (5 * sx, 6 * sy)], fill=color)
    draw.rectangle([3 * sx, 24 * sy, 29 * sx, 27 * sy], fill=tuple(int(c * 0.6) for c in color))
    return image


def write_image(path: Path, image: Image.Image) -> Path:
    """Saves `image` at `path` (format from the extension), creating folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def write_corrupt(path: Path, kind: str = "garbage") -> Path:
    """Writes an unreadable 'image': "garbage" bytes, "empty", or a "truncated" JPEG."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        write_image(path, shoe_image(64))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:
        path.write_bytes(b"this is not an image at all" * 10)
    return path


ZAPPOS_TREE = [
    # (category, subcategory, brand, cid, color, heel height)
    ("Shoes", "Sneakers and Athletic Shoes", "Nike", "100.1", (200, 30, 30), "Flat"),
    ("Shoes", "Sneakers and Athletic Shoes", "Nike", "101.2", (30, 30, 200), "Flat"),
    ("Shoes", "Sneakers and Athletic Shoes", "adidas", "102.3", (30, 160, 40), "Flat"),
    ("Shoes", "Sneakers and Athletic Shoes", "adidas", "103.4", (240, 220, 30), "Flat"),
    ("Boots", "Ankle", "Timberland", "200.1", (120, 70, 30), "1in - 1 3/4in"),
    ("Boots", "Ankle", "Timberland", "201.2", (20, 20, 20), "2in - 2 3/4in"),
    ("Sandals", "Flat", "Teva", "300.1", (240, 120, 20), "Flat"),
    ("Sandals", "Flat", "Teva", "301.2", (150, 40, 170), "Flat"),
]


def fake_zappos(root: Path, size: int = 24, corrupt: bool = True) -> Path:
    """A tiny UT-Zappos50K tree plus `ut-zap50k-data/meta-data.csv`.

    Layout: ``root/ut-zap50k-images-square/Category/SubCategory/Brand/<cid>.jpg``.
    With `corrupt`, two unreadable files sit among the images.
    Returns the images folder.
    """
    images = Path(root) / "ut-zap50k-images-square"
    rows = []
    for category, subcategory, brand, cid, color, heel in ZAPPOS_TREE:
        write_image(images / category / subcategory / brand / f"{cid}.jpg", shoe_image(size, color))
        rows.append({"CID": cid.replace(".", "-"), "Category": category, "SubCategory": subcategory, "HeelHeight": heel})
    if corrupt:
        write_corrupt(images / "Shoes" / "Sneakers and Athletic Shoes" / "Nike" / "999.9.jpg", "garbage")
        write_corrupt(images / "Boots" / "Ankle" / "Timberland" / "998.8.jpg", "empty")
    meta = Path(root) / "ut-zap50k-data" / "meta-data.csv"
    meta.parent.mkdir(parents=True, exist_ok=True)
    with meta.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["CID", "Category", "SubCategory", "HeelHeight"])
        writer.writeheader()
        writer.writerows(rows)
    return images


def fake_ab_pairs(root: Path, count: int = 4, size: int = 16) -> Path:
    """edges2shoes-style ``A|B`` JPEGs: A a dark outline, B the filled shoe."""
    root = Path(root)
    for index in range(count):
        color = (40 * index % 255, 120, 200)
        photo = shoe_image(size, color)
        sketch = Image.fromarray(np.where(np.asarray(photo.convert("L")) < 250, 0, 255).astype(np.uint8)).convert("RGB")
        pair = Image.new("RGB", (2 * size, size))
        pair.paste(sketch, (0, 0))
        pair.paste(photo, (size, 0))
        write_image(root / f"{index}_AB.jpg", pair)
    return root


def fake_triplets(root: Path, count: int = 3, size: int = 16) -> Path:
    """Parallel ``input/``, ``mask/``, ``target/`` folders with same-named PNGs."""
    root = Path(root)
    for index in range(count):
        target = shoe_image(size, (200, 40 * index, 40))
        mask = Image.fromarray(np.where(np.asarray(target.convert("L")) < 250, 255, 0).astype(np.uint8))
        worn = Image.fromarray((np.asarray(target) * 0.7).astype(np.uint8))
        write_image(root / "input" / f"{index}.png", worn)
        write_image(root / "mask" / f"{index}.png", mask)
        write_image(root / "target" / f"{index}.png", target)
    return root


def parts_shoe(size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """A boot drawn from three coloured parts on white and its part map (1 sole, 2 heel, 3 upper)."""
    image = np.full((size, size, 3), 255, np.uint8)
    label = np.zeros((size, size), np.uint8)
    left, top = rng.integers(0, size // 4, 2)
    right, sole = size - 1 - rng.integers(0, size // 4), int(size * 0.8)
    regions = (  # (class, rows, columns, colour)
        (3, slice(top, sole), slice(left, left + (right - left) // 2), rng.integers(60, 200, 3)),
        (1, slice(sole, sole + 2), slice(left, right), (30, 30, 30)),
        (2, slice(sole - 3, sole), slice(left, left + 3), (120, 60, 20)),
    )
    for index, rows, cols, colour in regions:
        image[rows, cols], label[rows, cols] = colour, index
    return image, label


def fake_parts(root: Path, count: int = 40, size: int = 24) -> Path:
    """Part-labelled boots in ``image/boots/`` and class-index maps in ``label/boots/``, plus one corrupt image with a label."""
    root = Path(root)
    rng = np.random.default_rng(0)
    for index in range(count):
        image, label = parts_shoe(size, rng)
        write_image(root / "image" / "boots" / f"{index:03d}.png", Image.fromarray(image))
        write_image(root / "label" / "boots" / f"{index:03d}.png", Image.fromarray(label, mode="L"))
    write_corrupt(root / "image" / "boots" / "broken.png")
    write_image(root / "label" / "boots" / "broken.png", Image.fromarray(np.zeros((size, size), np.uint8), mode="L"))
    return root


def fake_patterns(root: Path, count: int = 16, size: int = 16) -> Path:
    """A pattern folder as `shoes-data patterns` writes it (exemplar/, shoe/, sketch/, manifest.csv), written by it."""
    from data_tools.cli import main

    if main(["patterns", str(root), "--count", str(count), "--size", str(size)]) != 0:
        raise RuntimeError(f"shoes-data patterns failed to write {root}")
    return Path(root)


def run_cli(argv: list[str], capsys) -> tuple[int, dict | None, str]:
    """Runs `shoes-data` in-process; returns (exit code, parsed JSON summary, stderr)."""
    from data_tools.cli import main

    code = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    summary = json.loads(captured.out) if code == 0 and captured.out.strip() else None
    return code, summary, captured.err
