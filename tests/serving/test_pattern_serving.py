"""A pattern-transfer run behind shoes-serve, the user's path: shoes-export publishes it, and the thin clients (gRPC,
REST, shoes-client) draw shoes in the print of a PNG and a JPEG exemplar, of a type or from a sketch; every answer
equals the SavedModel's own; an unknown type is INVALID_ARGUMENT and the server serves on."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.client import ServingError, ShoesClient, encode_image
from serving.client_cli import main as shoes_client
from serving.export_cli import main as shoes_export
from serving.rest_client import RestClient
from serving.server.model_store import entries_from_base
from tests.serving.helpers import running_server
from tests.test_export_pattern import encoded, leopard_bag, sketch


@pytest.fixture(scope="module")
def served(pattern_run, tmp_path_factory):
    """``(server, version path)``: the tiny preset published by shoes-export as ``pattern`` and served."""
    base = tmp_path_factory.mktemp("model_base")
    assert shoes_export([str(pattern_run), "--model-base", str(base), "--model", "pattern"]) == 0
    with running_server(entries_from_base(base)) as server:
        yield server, base / "pattern" / "1"


def clients(server):
    return (ShoesClient(f"127.0.0.1:{server.port}", model="pattern"), RestClient(f"http://127.0.0.1:{server.rest_port}", model="pattern"))


def saved_answer(path, signature, **inputs) -> np.ndarray:
    model = tf.saved_model.load(str(path))
    return model.signatures[signature](**{name: tf.constant(value) for name, value in inputs.items()})["images"].numpy()


@pytest.mark.parametrize("format_", ["PNG", "JPEG"])
def test_both_clients_draw_the_saved_models_shoe_in_the_print_of_an_exemplar(served, format_):
    server, path = served
    exemplar = encoded(leopard_bag(), format_)
    sent = encode_image(exemplar)  # The thin client sends every image as PNG (a JPEG decoded by Pillow).
    by_type = saved_answer(path, "serving_default", pattern_bytes=np.asarray([sent] * 2, object),
                           category=np.asarray(["sandal"] * 2, object), seed=np.array([5, 6], np.int64))
    by_sketch = saved_answer(path, "with_sketch", pattern_bytes=np.asarray([sent], object),
                             image_bytes=np.asarray([encoded(sketch())], object))
    raw = {"pattern_bytes": np.asarray([exemplar], object), "category": np.asarray(["sneaker"], object), "seed": np.array([1], np.int64)}
    for client in clients(server):
        with client:
            np.testing.assert_array_equal(  # The exemplar's own bytes (JPEG too) through the server, decoded by TensorFlow.
                client.predict(raw, "serving_default", output_filter=["images"])["images"], saved_answer(path, "serving_default", **raw)
            )
            shoes = client.pattern(exemplar, category="sandal", seed=[5, 6])
            np.testing.assert_array_equal(np.stack([np.asarray(shoe.convert("RGB")) for shoe in shoes]), by_type)
            drawn = client.pattern(exemplar, sketch=encoded(sketch()))
            np.testing.assert_array_equal(np.asarray(drawn.convert("RGB")), by_sketch[0])
            assert client.labels() == {"category": ["sandal", "sneaker", "ankle_boot"]}


def test_shoes_client_pattern_writes_shoes_and_an_unknown_type_fails_while_the_server_serves_on(served, tmp_path, capsys):
    server, _ = served
    (tmp_path / "bag.jpg").write_bytes(encoded(leopard_bag(), "JPEG"))
    (tmp_path / "sketch.png").write_bytes(encoded(sketch()))
    target = ["--server", f"127.0.0.1:{server.port}", "--model", "pattern"]
    assert shoes_client([*target, "pattern", str(tmp_path / "bag.jpg"), "--category", "ankle_boot", "-n", "2", "-o", str(tmp_path / "out")]) == 0
    assert len(list((tmp_path / "out").glob("*.png"))) == 2
    assert shoes_client([*target, "pattern", str(tmp_path / "bag.jpg"), "--sketch", str(tmp_path / "sketch.png"),
                         "-o", str(tmp_path / "sketched.png")]) == 0
    assert Image.open(tmp_path / "sketched.png").size == (16, 16)
    capsys.readouterr()
    assert shoes_client([*target, "pattern", str(tmp_path / "bag.jpg"), "--category", "loafer", "-o", str(tmp_path / "x.png")]) == 1
    assert "ankle_boot" in capsys.readouterr().err
    with ShoesClient(f"127.0.0.1:{server.port}", model="pattern") as client:
        with pytest.raises(ServingError) as raised:
            client.pattern(encoded(leopard_bag()), category="loafer")
        assert raised.value.code == "INVALID_ARGUMENT"
        assert client.pattern(encoded(leopard_bag()), category="sneaker").size == (16, 16)
