"""Aligned data: A|B pairs and (input, mask, target) triplets."""

import numpy as np
import pytest
from PIL import Image

from shoes_generator.data.folders import EmptySelectionError
from shoes_generator.data.paired import pair_dataset, pair_table, triplet_dataset, triplet_table
from shoes_generator.data.pipeline import PipelineOptions
from tests.harness import shoe_image, write_corrupt, write_image

OPTIONS = PipelineOptions(image_size=16, batch_size=2, shuffle=False, drop_remainder=False)
RED, BLUE = (255, 0, 0), (0, 0, 255)


def _examples(dataset):
    return [dict(zip(batch, values)) for batch in dataset.as_numpy_iterator() for values in zip(*batch.values())]


def _side_by_side(left, right, path):
    pair = Image.new("RGB", (2 * left.width, left.height))
    pair.paste(left, (0, 0))
    pair.paste(right, (left.width, 0))
    return write_image(path, pair)


def test_pairs_split_in_half_in_both_directions(tmp_path):
    _side_by_side(Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE), tmp_path / "0.png")
    [a_to_b] = _examples(pair_dataset(tmp_path, OPTIONS))
    [b_to_a] = _examples(pair_dataset(tmp_path, OPTIONS, direction="BtoA"))
    np.testing.assert_allclose(a_to_b["input"].mean(axis=(0, 1)), [1, -1, -1], atol=1e-5)
    np.testing.assert_allclose(a_to_b["target"].mean(axis=(0, 1)), [-1, -1, 1], atol=1e-5)
    np.testing.assert_array_equal(b_to_a["input"], a_to_b["target"])
    with pytest.raises(ValueError, match="Received: direction='AB'"):
        pair_dataset(tmp_path, OPTIONS, direction="AB")


def test_pair_fixture_gives_sketch_inputs_and_photo_targets(ab_pairs):
    examples = _examples(pair_dataset(ab_pairs, OPTIONS))
    assert len(examples) == 4 and examples[0]["input"].shape == (16, 16, 3)
    sketch, photo = examples[1]["input"], examples[1]["target"]
    assert np.abs(sketch[..., 0] - sketch[..., 2]).max() < 0.2  # grey lines
    assert np.abs(photo[..., 0] - photo[..., 2]).max() > 0.5  # coloured shoe


def test_pair_jitter_and_flip_are_shared_by_both_halves(tmp_path):
    for index in range(6):
        shoe = shoe_image(16, (30 * index, 200, 60))
        _side_by_side(shoe, shoe, tmp_path / f"{index}.png")
    plain = _examples(pair_dataset(tmp_path, OPTIONS))
    augmented = _examples(pair_dataset(tmp_path, OPTIONS.replace(flip=True, jitter=True)))
    for example in augmented:
        np.testing.assert_array_equal(example["input"], example["target"])
    changed = sum(not np.allclose(a["input"], b["input"]) for a, b in zip(plain, augmented))
    assert changed >= 3


def test_corrupt_pairs_are_skipped(ab_pairs):
    write_corrupt(ab_pairs / "9_AB.jpg")
    table = pair_table(ab_pairs)
    assert len(table) == 4 and table.report.count == 1


def test_triplets_match_by_name_and_keep_the_mask_separate(triplets):
    examples = _examples(triplet_dataset(triplets, OPTIONS))
    assert len(examples) == 3
    first = examples[0]
    assert first["input"].shape == (16, 16, 3) and first["target"].shape == (16, 16, 3)
    assert first["mask"].shape == (16, 16, 1)
    shoe = first["target"].min(axis=-1) < 0.9  # not white
    assert np.mean((first["mask"][..., 0] > 0) == shoe) > 0.95


def test_triplet_jitter_and_flip_are_shared_by_all_three(tmp_path):
    for index in range(6):
        mask = shoe_image(16, (255, 255, 255), background=(0, 0, 0), width=16 + index).resize((16, 16)).convert("L")
        for key in ("input", "target"):
            write_image(tmp_path / key / f"{index}.png", mask.convert("RGB"))
        write_image(tmp_path / "mask" / f"{index}.png", mask)
    plain = _examples(triplet_dataset(tmp_path, OPTIONS))
    augmented = _examples(triplet_dataset(tmp_path, OPTIONS.replace(flip=True, jitter=True)))
    for example in augmented:
        np.testing.assert_array_equal(example["input"], example["target"])
        np.testing.assert_allclose(example["input"][..., :1], example["mask"], atol=1e-6)
    assert sum(not np.allclose(a["mask"], b["mask"]) for a, b in zip(plain, augmented)) >= 3


def test_triplet_names_ignore_extensions_and_pad_masks_with_background(tmp_path):
    target = shoe_image(16, width=32)
    write_image(tmp_path / "input" / "sub" / "a.jpg", target)
    write_image(tmp_path / "target" / "sub" / "a.png", target)
    write_image(tmp_path / "mask" / "sub" / "a.png", Image.new("L", (32, 16), 255))
    table = triplet_table(tmp_path)
    assert table.names == ("sub/a",)
    [example] = _examples(triplet_dataset(table, OPTIONS))
    np.testing.assert_allclose(example["mask"][:4], -1.0)  # padding is background
    np.testing.assert_allclose(example["input"][:4], 1.0)  # images are padded white
    np.testing.assert_allclose(example["mask"][6:10], 1.0, atol=1e-5)


def test_mismatched_triplet_folders_list_missing_names(triplets):
    (triplets / "mask" / "1.png").unlink()
    write_image(triplets / "target" / "extra.png", shoe_image(16))
    with pytest.raises(ValueError) as error:
        triplet_table(triplets)
    message = str(error.value)
    assert "missing in" in message and "mask" in message and "['1', 'extra']" in message
    assert "['extra']" in message  # missing from input/ as well


def test_unreadable_triplet_file_drops_its_triplet(triplets):
    write_corrupt(triplets / "mask" / "1.png")
    table = triplet_table(triplets)
    assert table.names == ("0", "2") and table.report.count == 1
    for key in ("input", "mask", "target"):
        (triplets / key / "0.png").unlink()
        (triplets / key / "2.png").unlink()
    with pytest.raises(EmptySelectionError, match="1 unreadable"):
        triplet_table(triplets)
