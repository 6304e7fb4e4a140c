"""Part labels of drawn side-view shoes: sole along the bottom, heel at the back, shafts on boots only."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shoes_generator.imaging.parts import (
    BACKGROUND, HEEL, PART_CLASSES, SHAFT, SOLE, UPPER, label_parts, label_parts_batch, part_shares, toe_points_left,
)
from tests.harness import WHITE, shoe_image

BLACK = (0, 0, 0)


def sneaker_image(size=32, color=(40, 90, 200), background=WHITE):
    """A low sneaker, toe left: a dark sole under an upper that rises gently to the collar at the back."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    s = size / 32
    draw.polygon([(4 * s, 22 * s), (29 * s, 22 * s), (29 * s, 14 * s), (25 * s, 12 * s), (16 * s, 15 * s), (8 * s, 18 * s), (4 * s, 20 * s)], fill=color)
    draw.rectangle([3 * s, 22 * s, 29 * s, 25 * s], fill=tuple(int(c * 0.5) for c in color))
    return np.asarray(image)


def boot_image(size=32, background=WHITE):
    """The harness's ankle boot: the toe points right, the shaft rises at the back (left)."""
    return np.asarray(shoe_image(size, (200, 30, 30), background))


def silhouette(image, background):
    return (image != np.asarray(background, np.uint8)).any(axis=-1)


def test_class_names_background_first():
    assert PART_CLASSES == ("background", "sole", "heel", "upper", "shaft", "opening")
    assert (BACKGROUND, SOLE, HEEL, UPPER, SHAFT) == (0, 1, 2, 3, 4)


def test_flat_sneaker_has_a_sole_along_the_bottom_a_heel_at_the_back_and_no_shaft():
    image = sneaker_image()
    parts = label_parts(image)
    assert parts.dtype == np.uint8 and parts.shape == (32, 32)
    assert not (parts == SHAFT).any()
    shoe = parts > 0
    assert shoe.sum() > 0.9 * silhouette(image, WHITE).sum()
    columns = np.flatnonzero(shoe.any(axis=0))
    bottoms = shoe.shape[0] - 1 - np.argmax(shoe[::-1, columns], axis=0)
    assert np.isin(parts[bottoms, columns], (SOLE, HEEL)).all()  # every column's lowest pixel is sole or heel
    sole_rows, _ = np.nonzero(parts == SOLE)
    assert sole_rows.min() >= 21  # a band along the bottom, not the upper
    _, heel_cols = np.nonzero(parts == HEEL)
    assert heel_cols.min() > 20  # the back end (the toe points left)
    assert part_shares(parts)["upper"] > 0.5


def test_ankle_boot_has_a_shaft_above_its_upper():
    parts = label_parts(boot_image())
    shares = part_shares(parts)
    assert shares["shaft"] > 0.1 and shares["sole"] > 0.05 and shares["upper"] > 0.3
    assert sum(shares.values()) == pytest.approx(1.0)
    shaft_rows, shaft_cols = np.nonzero(parts == SHAFT)
    upper_rows, _ = np.nonzero(parts == UPPER)
    assert shaft_rows.mean() < upper_rows.mean() and shaft_cols.max() < 16  # high, at the back (left)


@pytest.mark.parametrize("image", [boot_image(), sneaker_image()], ids=["boot_toe_right", "sneaker_toe_left"])
def test_toe_direction_is_found_both_ways_and_labels_mirror(image):
    parts = label_parts(image)
    mirrored = label_parts(image[:, ::-1].copy())
    np.testing.assert_array_equal(mirrored, parts[:, ::-1])
    left = toe_points_left(silhouette(image, WHITE))
    assert left != toe_points_left(silhouette(image[:, ::-1], WHITE))
    _, heel_cols = np.nonzero(parts == HEEL)
    assert (heel_cols.mean() > 16) == left  # the heel sits at the end away from the toe


@pytest.mark.parametrize("size", [28, 32, 64, 256])
def test_any_size_keeps_background_and_finds_the_parts(size):
    image = boot_image(size)
    parts = label_parts(image)
    shoe = silhouette(image, WHITE)
    assert parts.shape == (size, size)
    assert (parts[~shoe] == BACKGROUND).mean() > 0.99 and (parts[shoe] != BACKGROUND).mean() > 0.97
    shares = part_shares(parts)
    assert shares["shaft"] > 0.1 and shares["sole"] > 0.04 and shares["heel"] > 0.005


def test_black_background_gives_the_same_labels():
    np.testing.assert_array_equal(label_parts(boot_image(64, BLACK)), label_parts(boot_image(64, WHITE)))
    np.testing.assert_array_equal(label_parts(sneaker_image(32, background=BLACK)), label_parts(sneaker_image(32)))


def test_blank_image_is_all_background_and_batches_match():
    images = np.stack([sneaker_image(), boot_image(), np.full((32, 32, 3), 255, np.uint8)])
    parts = label_parts_batch(images)
    assert parts.dtype == np.uint8 and parts.shape == (3, 32, 32)
    for image, labels in zip(images, parts):
        np.testing.assert_array_equal(labels, label_parts(image))
    assert not parts[2].any()
    assert part_shares(parts[2]) == {name: 0.0 for name in PART_CLASSES[1:]}


def test_grayscale_input_and_bad_input():
    gray = sneaker_image()[..., 0]
    assert (label_parts(gray) == SOLE).any()
    with pytest.raises(ValueError, match="Received: dtype=float32"):
        label_parts(np.zeros((8, 8, 3), np.float32))
    with pytest.raises(ValueError, match=r"Received: shape=\(8, 8\)"):
        label_parts_batch(np.zeros((8, 8), np.uint8))
