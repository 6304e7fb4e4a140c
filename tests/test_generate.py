"""`python -m shoes_generator.generate`: requested shoes as PNGs, clear errors for bad requests."""

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
