"""`shoes-generate`: requested shoes as PNGs, clear errors for bad requests and labels, exit codes."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shoes_generator.export import export_generator
from shoes_generator.generate import main as generate
from shoes_generator.labels import Vocabularies
from shoes_generator.models.conditional import build_conditional_generator

VOCAB = Vocabularies({"color": ["black", "red"], "category": ["sandal", "sneaker"]})


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    generator = build_conditional_generator(VOCAB.sizes, latent_dim=8, embed_dim=4, image_size=16, base_filters=4)
    return export_generator(generator, 8, VOCAB, ("color", "category"), tmp_path_factory.mktemp("gen") / "model")


def test_writes_one_png_per_shoe_and_a_contact_sheet(model_dir, tmp_path):
    out = tmp_path / "shoes"
    assert generate([str(model_dir), "--out", str(out), "--request", "red:sneaker", "--request", "black:sandal", "--count", "3"]) == 0
    files = {p.name for p in out.glob("*.png")}
    assert files == {f"{c}_seed{i}.png" for c in ("red_sneaker", "black_sandal") for i in range(3)} | {"requests.png"}
    assert np.asarray(Image.open(out / "red_sneaker_seed0.png")).shape == (16, 16, 3)


@pytest.mark.parametrize("request_text, message", [("teal:sneaker", "Valid color values: black, red"), ("red", "one value per label")])
def test_bad_requests_say_what_is_valid(model_dir, tmp_path, request_text, message, capsys):
    assert generate([str(model_dir), "--out", str(tmp_path), "--request", request_text]) == 2
    assert message in capsys.readouterr().err


def test_labels_ask_for_every_combination_of_their_values(model_dir, tmp_path, capsys):
    out = tmp_path / "shoes"
    argv = [str(model_dir), "-o", str(out), "--label", "category=sneaker", "--label", "color=red", "--label", "color=black", "-n", "2"]
    assert generate(argv) == 0
    files = {p.name for p in out.glob("*.png")}
    assert files == {f"{c}_seed{i}.png" for c in ("red_sneaker", "black_sneaker") for i in range(2)} | {"requests.png"}


@pytest.mark.parametrize("labels, message", [
    (["color=red"], "Missing label(s) category"),
    (["color=red", "category=sneaker", "size=9"], "Unknown label(s) size"),
    (["color=teal", "category=sneaker"], "Valid color values: black, red"),
])
def test_bad_labels_exit_2_and_say_what_is_valid(model_dir, tmp_path, labels, message, capsys):
    assert generate([str(model_dir), "-o", str(tmp_path), *(f"--label={label}" for label in labels)]) == 2
    assert message in capsys.readouterr().err


def test_model_must_be_a_saved_model_and_a_broken_one_fails_at_run_time(model_dir, tmp_path, capsys):
    assert generate([str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    assert "MODEL must be a SavedModel directory" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    assert generate([str(broken), "-o", str(tmp_path / "out")]) == 1


def test_python_m_still_runs_with_a_deprecation_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "shoes_generator.generate", str(tmp_path), "-o", str(tmp_path)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "use shoes-generate; the old spelling goes in the next release" in done.stderr
