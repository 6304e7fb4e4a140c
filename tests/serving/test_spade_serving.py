"""A SPADE run and a part segmenter behind shoes-serve, the user's path: shoes-export publishes both, and the
thin clients (gRPC, REST, shoes-client) draw shoes from part maps, with a style image, and redesign a photo by
editing its parts; every answer equals the SavedModel's own; a bad map is INVALID_ARGUMENT and the server serves on."""

import io
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.client import ServingError, ShoesClient, encode_image
from serving.client_cli import main as shoes_client
from serving.export_cli import main as shoes_export
from serving.part_maps import encode_part_map
from serving.rest_client import RestClient
from serving.server.model_store import entries_from_base
from shoes_generator.imaging.parts import PART_CLASSES
from tests.serving.helpers import running_server
from tests.test_export_spade import boot_map


@pytest.fixture(scope="module")
def served(spade_run, tmp_path_factory):
    """``(server, spade version path)``: the tiny SPADE preset as ``spade`` and a tiny part segmenter as ``parts``."""
    from shoes_generator.configs import get_preset
    from shoes_generator.trainer import train

    segmenter_run = train(get_preset("segment_fmnist_parts_tiny"), out=tmp_path_factory.mktemp("parts_runs"), verbose=0).run_dir
    base = tmp_path_factory.mktemp("model_base")
    assert shoes_export([str(spade_run), "--model-base", str(base), "--model", "spade"]) == 0
    assert shoes_export([str(segmenter_run), "--model-base", str(base), "--model", "parts"]) == 0
    with running_server(entries_from_base(base)) as server:
        yield server, base / "spade" / "1"


def clients(server):
    return (ShoesClient(f"127.0.0.1:{server.port}", model="spade"), RestClient(f"http://127.0.0.1:{server.rest_port}", model="spade"))


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def saved_answer(path, signature, **inputs) -> np.ndarray:
    model = tf.saved_model.load(str(path))
    return model.signatures[signature](**{name: tf.constant(value) for name, value in inputs.items()})["images"].numpy()


def photo() -> bytes:
    shoe = np.full((24, 24, 3), 255, np.uint8)
    shoe[12:20, 3:21] = (200, 30, 30)
    shoe[4:12, 13:21] = (200, 30, 30)
    return encode_image(Image.fromarray(shoe))


def test_both_clients_draw_the_saved_models_shoe_from_a_map_and_a_style(served):
    server, path = served
    map_png = encode_part_map(boot_map())
    expected = saved_answer(path, "serving_default", label_map_bytes=np.asarray([map_png], object), seed=np.array([7], np.int64))
    styled = saved_answer(path, "with_style", label_map_bytes=np.asarray([map_png], object), seed=np.array([7], np.int64),
                          style_bytes=np.asarray([photo()], object))
    for client in clients(server):
        with client:
            np.testing.assert_array_equal(pixels(client.synthesize(boot_map(), seed=7)), expected[0])
            np.testing.assert_array_equal(pixels(client.synthesize(boot_map(), seed=7, style=photo())), styled[0])
            assert client.part_classes() == list(PART_CLASSES)


def test_redesign_segments_edits_and_redraws_in_the_photos_look(served):
    server, path = served
    for client in clients(server):
        with client:
            result = client.redesign(photo(), grow={"heel": 2}, seed=3)
            heel = PART_CLASSES.index("heel")
            assert (result.edited == heel).sum() >= (result.parts == heel).sum()
            expected = saved_answer(path, "with_style", label_map_bytes=np.asarray([encode_part_map(result.edited)], object),
                                    seed=np.array([3], np.int64), style_bytes=np.asarray([photo()], object))
            np.testing.assert_array_equal(pixels(result.shoe), expected[0])


def test_shoes_client_synthesize_and_redesign_write_their_files(served, tmp_path, capsys):
    server, _ = served
    (tmp_path / "map.png").write_bytes(encode_part_map(boot_map()))
    (tmp_path / "photo.png").write_bytes(photo())
    target = ["--server", f"127.0.0.1:{server.port}", "--model", "spade"]
    assert shoes_client([*target, "synthesize", str(tmp_path / "map.png"), "--seed", "2", "--style", str(tmp_path / "photo.png"),
                         "-o", str(tmp_path / "shoe.png")]) == 0
    assert Image.open(tmp_path / "shoe.png").size == (16, 16)
    assert shoes_client([*target, "redesign", str(tmp_path / "photo.png"), "--grow", "shaft=1", "--shrink", "sole=1",
                         "-o", str(tmp_path / "redesign")]) == 0
    written = {p.name for p in (tmp_path / "redesign").iterdir()}
    assert {"shoe.png", "redesign.png"} <= written
    capsys.readouterr()
    assert shoes_client([*target, "redesign", str(tmp_path / "photo.png"), "--grow", "lace=1", "-o", str(tmp_path / "bad")]) == 2
    assert "lace" in capsys.readouterr().err


def test_a_bad_map_is_invalid_argument_and_the_server_serves_on(served):
    server, _ = served
    client = ShoesClient(f"127.0.0.1:{server.port}", model="spade")
    rgb = io.BytesIO()
    Image.new("RGB", (8, 8)).save(rgb, "PNG")
    request = {"label_map_bytes": np.asarray([encode_part_map(np.full((8, 8), 9, np.uint8))], object), "seed": np.array([0], np.int64)}
    with pytest.raises(ServingError) as raised:
        client.predict(request, "serving_default")
    assert raised.value.code == "INVALID_ARGUMENT" and "class index outside" in raised.value.message
    request["label_map_bytes"] = np.asarray([rgb.getvalue()], object)
    with pytest.raises(ServingError) as raised:
        client.predict(request, "serving_default")
    assert raised.value.code == "INVALID_ARGUMENT" and "single-channel" in raised.value.message
    assert client.synthesize(boot_map(), seed=1).size == (16, 16)
    assert json.loads(json.dumps(client.part_classes())) == list(PART_CLASSES)
