"""`shoes-data stats`: distributions from the manifest and from UT-Zappos paths, charts and JSON."""

import json
from collections import Counter

from shoes_generator.data.manifest import write_manifest
from tests.harness import ZAPPOS_TREE, shoe_image, write_image

PNG = b"\x89PNG\r\n\x1a\n"


def test_zappos_tree_gives_category_subcategory_brand(cli, zappos_tree, tmp_path):
    out = tmp_path / "stats"
    code, summary, err = cli(["stats", zappos_tree, "--out", out])
    assert code == 0, err
    dists = summary["distributions"]
    assert dists["category"] == dict(Counter(row[0] for row in ZAPPOS_TREE).most_common())
    assert dists["subcategory"]["Sneakers and Athletic Shoes"] == 4
    assert dists["brand"] == {"Nike": 2, "Teva": 2, "Timberland": 2, "adidas": 2}  # count desc, then name
    assert summary["images"] == 8 and summary["skipped"] == 2  # the two corrupt files are not counted
    for column in ("category", "subcategory", "brand"):
        assert (out / f"{column}.png").read_bytes()[:8] == PNG
    assert json.loads((out / "label_stats.json").read_text())["distributions"] == dists


def test_manifest_columns_with_few_values_and_default_out_dir(cli, tmp_path):
    src = tmp_path / "shoes"
    rows = []
    for index, (color, category) in enumerate([("red", "sneaker"), ("red", "sandal"), ("blue", "sneaker"), ("white", "ankle_boot")]):
        path = f"train/{index}.png"
        write_image(src / path, shoe_image(16))
        rows.append({"path": path, "color": color, "category": category, "split": "train", "id": f"x{index}", "note": ""})
    write_manifest(src, rows, ["path", "color", "category", "split", "id", "note"])
    code, summary, _ = cli(["stats", src, "--max-values", 3])
    assert code == 0
    dists = summary["distributions"]
    assert dists["color"] == {"red": 2, "blue": 1, "white": 1}
    assert dists["category"] == {"sneaker": 2, "ankle_boot": 1, "sandal": 1}
    assert dists["split"] == {"train": 4}
    assert set(dists) == {"color", "category", "split"}  # folder train/ repeats split; id has 4 values; note is empty
    assert summary["left_out_columns"] == {"id": 4}
    assert (tmp_path / "shoes_stats" / "color.png").exists() and not list(src.rglob("color.png"))


def test_flat_folder_without_labels(cli, tmp_path):
    for name in ("a.png", "b.png"):
        write_image(tmp_path / "flat" / name, shoe_image(16))
    code, summary, _ = cli(["stats", tmp_path / "flat", "--out", tmp_path / "o"])
    assert code == 0 and summary["images"] == 2 and summary["distributions"] == {}


def test_errors_name_the_argument(cli, tmp_path):
    code, _, err = cli(["stats", tmp_path / "missing"])
    assert code == 2 and "Received: SRC=" in err
    code, _, err = cli(["stats", tmp_path, "--max-values", 0])
    assert code == 2 and "Received: --max-values=0" in err
