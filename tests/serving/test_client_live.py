"""shoes-client against a running shoes-serve: the grid of every label combination, truncation over REST."""

import json

import numpy as np
from PIL import Image

from serving.client import ShoesClient
from serving.client_cli import main


def test_grid_writes_every_combination_and_a_contact_sheet(server, tmp_path, capsys):
    out = tmp_path / "grid"
    code = main(["--server", f"127.0.0.1:{server.port}", "grid", "-n", "2", "--values", "color=red,blue", "-o", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["combinations"] == 4 and summary["files"] == 8
    assert summary["labels"] == {"color": ["red", "blue"], "category": ["sandal", "sneaker"]}
    assert sorted(p.name for p in out.glob("*_seed*.png"))[:2] == ["blue_sandal_seed0000.png", "blue_sandal_seed0001.png"]
    sheet = Image.open(out / "grid.png")
    assert sheet.size == (150 + 2 * 96, 4 * 96)
    with ShoesClient(f"127.0.0.1:{server.port}") as client:
        expected = client.generate(1, seed=1, color="red", category="sneaker")[0].resize((96, 96), Image.NEAREST)
    cell = np.asarray(sheet.convert("RGB"))[96:192, 150 + 96 :]  # Row 2 ("red sneaker"), seed 1.
    np.testing.assert_array_equal(cell, np.asarray(expected.convert("RGB")))


def test_grid_with_an_unknown_label_fails_with_the_model_labels(server, tmp_path, capsys):
    code = main(["--server", f"127.0.0.1:{server.port}", "grid", "--values", "size=40", "-o", str(tmp_path)])
    assert code == 1 and "Unknown label 'size'" in capsys.readouterr().err


def test_truncated_shoes_over_rest_differ_from_untruncated_ones(server, tmp_path, capsys):
    url = f"http://127.0.0.1:{server.rest_port}"
    assert main(["--rest", url, "generate", "--color", "red", "--category", "sandal", "-n", "2", "--truncation", "0.3", "-o", str(tmp_path / "t")]) == 0
    assert main(["--rest", url, "generate", "--color", "red", "--category", "sandal", "-n", "2", "-o", str(tmp_path / "p")]) == 0
    truncated = np.asarray(Image.open(tmp_path / "t" / "red_sandal_seed0000.png"))
    plain = np.asarray(Image.open(tmp_path / "p" / "red_sandal_seed0000.png"))
    assert truncated.shape == plain.shape == (16, 16, 3) and not np.array_equal(truncated, plain)
