"""Attribute probes: meta-data value parsing, probes on synthetic images with a known answer, shoes-explore meta:."""

import json

import numpy as np
import pytest
from PIL import Image

from shoes_generator import attribute_probe as ap
from shoes_generator.explore_cli import main
from tests.harness import fake_zappos, shoe_image
from tests.test_latent import model_base  # noqa: F401  (the tiny exported generator fixture)


def _brightness_shoes(values: np.ndarray, size: int = 16, seed: int = 0) -> np.ndarray:
    """Shoes on white whose grey level encodes `values` (0..5), jittered by a little noise."""
    rng = np.random.default_rng(seed)
    images = np.stack([np.asarray(shoe_image(size, (int(20 + 40 * v),) * 3)) for v in values]).astype(np.float64)
    return np.clip(images + rng.normal(0, 4, images.shape), 0, 255).astype(np.uint8)


def test_inches_reads_zappos_heel_heights():
    expected = {"Flat": 0.0, "Under 1in": 0.5, "1in - 1 3/4in": 1.375, "2in - 2 3/4in": 2.375, "5in & over": 5.0,
                "3/4in": 0.75, "2.5": 2.5, " 2 1/2 in ": 2.5}
    assert {text: ap.inches(text) for text in expected} == expected
    assert ap.inches("High heel") is None and ap.inches("") is None and ap.inches("1in 2in 3in") is None


def test_ordinal_and_categorical_targets_and_their_errors():
    targets, mapping = ap.ordinal_targets(["Flat", "", "1in - 1 3/4in"])
    np.testing.assert_array_equal(targets, [0.0, np.nan, 1.375])
    assert mapping == {"1in - 1 3/4in": 1.375, "Flat": 0.0}
    targets, _ = ap.ordinal_targets(["high", "Low", "mid"], order=["low", "high"])  # unlisted: left out
    np.testing.assert_array_equal(targets, [1.0, 0.0, np.nan])
    with pytest.raises(ValueError, match=r"not inches or numbers.*--order.*Values: 'Buckle', 'Lace up'"):
        ap.ordinal_targets(["Lace up", "Buckle"])
    with pytest.raises(ValueError, match=r"No value of the column is in the given order.*Received: order=\['a', 'b'\]"):
        ap.ordinal_targets(["Lace up"], order=["a", "b"])
    np.testing.assert_array_equal(ap.categorical_targets(["Lace up", "buckle", ""], "lace UP"), [1.0, 0.0, np.nan])
    with pytest.raises(ValueError, match="'Zip' does not occur in the column. Values: 'Buckle'"):
        ap.categorical_targets(["Buckle", "Lace up"], "Zip")
    with pytest.raises(ValueError, match="is the only value"):
        ap.categorical_targets(["Buckle", ""], "Buckle")


def test_parse_attribute_forms():
    assert ap.parse_attribute("height") == "height"
    assert ap.parse_attribute("meta:HeelHeight") == ap.MetaAttribute("heel_height")
    attribute = ap.parse_attribute("meta:closure=Lace up")
    assert attribute.kind == "categorical" and attribute.name == "meta:closure=Lace up"
    for bad in ("colour", "meta:", "meta:closure="):
        with pytest.raises(ValueError, match=rf"Valid forms: height, boot, meta:COLUMN.*Received: {bad!r}"):
            ap.parse_attribute(bad)


def test_stratified_split_holds_out_the_whole_range():
    targets = np.arange(100, dtype=float)
    train, held = ap.stratified_split(targets, 0.2, seed=0)
    assert len(held) == 20 and len(np.intersect1d(train, held)) == 0 and len(train) + len(held) == 100
    assert targets[held].min() < 5 and targets[held].max() > 95


def test_ordinal_probe_recovers_brightness_and_fails_honestly_on_shuffled_values():
    values = np.random.default_rng(1).uniform(0, 5, 150)
    images = _brightness_shoes(values)
    probe = ap.train_probe("meta:x", "ordinal", images, values)
    quality = probe.describe()["held_out"]
    assert quality["r2"] > 0.95 and quality["spearman"] > 0.95 and quality["trusted"]
    fresh = np.array([0.5, 2.5, 4.5])
    assert np.all(np.diff(probe(_brightness_shoes(fresh, seed=2))) > 0)  # the ordering carries to new images
    shuffled = ap.train_probe("meta:x", "ordinal", images, np.random.default_rng(2).permutation(values))
    quality = shuffled.describe()["held_out"]
    assert quality["r2"] < 0.3 and not quality["trusted"] and "barely reads" in quality["note"]


def test_categorical_probe_measures_a_probability():
    values = np.random.default_rng(3).uniform(0, 5, 120)
    labels = (values > 2.5).astype(float)
    probe = ap.train_probe("meta:x=dark", "categorical", _brightness_shoes(values), labels)
    info = probe.describe()
    assert info["held_out"]["accuracy"] >= 0.9 and info["held_out"]["trusted"] and info["regression"].startswith("logistic")
    probabilities = probe(_brightness_shoes(np.array([0.5, 4.5]), seed=4))
    assert 0 <= probabilities[0] < 0.5 < probabilities[1] <= 1


def test_meta_probe_errors_say_what_was_wrong(tmp_path):
    images = fake_zappos(tmp_path / "zappos", corrupt=False)
    with pytest.raises(ValueError, match=r"has no column 'closure'. Columns: category, subcategory, brand, heel_height"):
        ap.meta_probe(images, ap.MetaAttribute("closure"), 16)
    with pytest.raises(ValueError, match="'Spike' does not occur in the column. Values: '1in - 1 3/4in'"):
        ap.meta_probe(images, ap.MetaAttribute("heel_height", "Spike"), 16)
    with pytest.raises(ValueError, match="An order applies to ordinal columns"):
        ap.meta_probe(images, ap.MetaAttribute("heel_height", "Flat"), 16, order=["a", "b"])
    bare = fake_zappos(tmp_path / "bare", corrupt=False)
    (tmp_path / "bare" / "ut-zap50k-data" / "meta-data.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"No UT-Zappos meta-data.csv found. Looked at: .*bare/ut-zap50k-images-square/meta-data.csv"):
        ap.meta_probe(bare, ap.MetaAttribute("heel_height"), 16)


def test_cli_direction_on_a_meta_column_reports_the_probe(model_base, tmp_path, capsys):  # noqa: F811
    model = str(model_base / "shoes" / "1")
    zappos = fake_zappos(tmp_path / "zappos").parent  # the parent folder works too; two corrupt files are skipped
    out = tmp_path / "heel"
    assert main(["direction", model, "--attribute", "meta:HeelHeight", "--data", str(zappos), "--samples", "30",
                 "--seeds", "2", "--steps", "3", "--out", str(out)]) == 0
    report = json.loads((out / "direction.json").read_text())
    probe = report["probe"]
    assert report["attribute"] == "meta:heel_height" and probe["kind"] == "ordinal" and probe["column"] == "heel_height"
    assert probe["images_with_value"] == 8 and probe["train_images"] + probe["held_out_images"] == 8
    assert probe["mapping"]["1in - 1 3/4in"] == 1.375 and probe["image_size"] == 16
    assert {"r2", "spearman", "trusted"} <= set(probe["held_out"])
    assert (out / "edit_grid.png").is_file() and Image.open(out / "edit_grid.png").size[0] > 0
    capsys.readouterr()
    assert main(["direction", model, "--attribute", "meta:heel_height", "--out", str(out)]) == 2
    assert "needs --data ZAPPOS_ROOT" in capsys.readouterr().err
    assert main(["direction", model, "--attribute", "meta:toe_style", "--data", str(zappos), "--out", str(out)]) == 2
    assert "has no column 'toe_style'. Columns: category, subcategory, brand, heel_height" in capsys.readouterr().err
    assert main(["direction", model, "--attribute", "height", "--order", "a,b", "--out", str(out)]) == 2
    assert "apply to meta: attributes only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["direction", model, "--attribute", "heel", "--out", str(out)])
    assert "Valid forms: height, boot, meta:COLUMN" in capsys.readouterr().err


def test_cli_meta_direction_on_a_served_model(model_base, tmp_path, capsys):  # noqa: F811
    from serving.server.model_store import entries_from_base
    from tests.serving.helpers import running_server

    zappos = fake_zappos(tmp_path / "zappos", corrupt=False)
    out = tmp_path / "served"
    with running_server(entries_from_base(model_base)) as server:
        assert main(["direction", "--server", f"127.0.0.1:{server.port}", "--attribute", "meta:heel_height=Flat",
                     "--data", str(zappos), "--samples", "20", "--seeds", "2", "--steps", "3", "--out", str(out)]) == 0
    probe = json.loads((out / "direction.json").read_text())["probe"]
    assert probe["kind"] == "categorical" and probe["value"] == "Flat" and {"accuracy", "chance"} <= set(probe["held_out"])
    assert (out / "edit_grid.png").is_file()
