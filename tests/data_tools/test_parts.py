"""`shoes-data parts`: class-index PNGs, classes.json and the parts' shares per type folder."""

import json

import numpy as np
from PIL import Image

from shoes_generator.imaging.parts import PART_CLASSES, label_parts
from tests.harness import write_corrupt, write_image
from tests.imaging.test_parts import BLACK, boot_image, sneaker_image


def test_parts_writes_class_maps_and_reports_shares_per_type(cli, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "parts"
    boot = boot_image(64)
    write_image(src / "ankle_boot" / "boot.png", Image.fromarray(boot))
    write_image(src / "sneaker" / "runner.png", Image.fromarray(sneaker_image(48, background=BLACK)))
    write_image(src / "blank.png", Image.new("RGB", (16, 16), "white"))
    write_corrupt(src / "sneaker" / "broken.jpg", "truncated")
    write_corrupt(src / "sneaker" / "empty.png", "empty")
    code, summary, _ = cli(["parts", src, dst])
    assert code == 0
    assert (summary["found"], summary["written"], summary["skipped"], summary["empty_maps"]) == (5, 3, 2, 1)
    assert {entry["path"] for entry in summary["skipped_files"]} == {"sneaker/broken.jpg", "sneaker/empty.png"}
    assert not (dst / "sneaker" / "broken.png").exists() and not (dst / "sneaker" / "empty.png").exists()
    assert json.loads((dst / "classes.json").read_text()) == list(PART_CLASSES)
    with Image.open(dst / "ankle_boot" / "boot.png") as written:
        assert written.mode == "L" and written.size == (64, 64)
        np.testing.assert_array_equal(np.asarray(written), label_parts(boot))
    with Image.open(dst / "sneaker" / "runner.png") as written:
        assert set(np.unique(written)) >= {0, 1, 2, 3} and np.asarray(written).max() < len(PART_CLASSES)
    by_folder = summary["part_shares_by_folder"]
    assert set(by_folder) == {"ankle_boot", "sneaker"} and by_folder["sneaker"]["maps"] == 1
    assert by_folder["ankle_boot"]["shaft"] > 0.1 and by_folder["sneaker"]["shaft"] == 0  # boots have shafts, sneakers do not
    mean = summary["mean_part_shares"]
    assert set(mean) == set(PART_CLASSES[1:]) and abs(sum(mean.values()) - 1) < 1e-3
    assert mean["shaft"] == round(by_folder["ankle_boot"]["shaft"] / 2, 4)


def test_threshold_is_checked(cli, tmp_path):
    write_image(tmp_path / "src" / "a.png", Image.fromarray(boot_image()))
    code, _, err = cli(["parts", tmp_path / "src", tmp_path / "out", "--threshold", "255"])
    assert code == 2 and "Received: --threshold=255" in err
