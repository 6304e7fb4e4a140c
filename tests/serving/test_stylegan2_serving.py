"""A StyleGAN2 run behind shoes-serve, the user's path: shoes-export publishes version 1, its warm-up records
replay, and the thin clients (gRPC, REST, shoes-client) generate, truncate, mix, invert and draw shoes from w (from_w)
that equal the SavedModel's own answers; TF Serving's REST JSON takes the ``w`` latents."""

import io
import json
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving.client import ServingError, ShoesClient, encode_image
from serving.client_cli import main as shoes_client
from serving.export_cli import main as shoes_export
from serving.rest_client import RestClient
from serving.server.errors import clean_message
from serving.server.model_store import entries_from_base
from shoes_generator.warmup import read_warmup_requests
from tests.serving.helpers import running_server

SIGNATURES = {"serving_default", "truncated", "mapping", "synthesis", "mix", "invert", "labels"}
RED_BOOT = {"color": "red", "category": "ankle_boot"}


@pytest.fixture(scope="module")
def served(stylegan2_run, tmp_path_factory):
    """``(server, version path)``: the tiny preset trained, published by shoes-export as stylegan/1 and served."""
    run_dir = stylegan2_run
    base = tmp_path_factory.mktemp("model_base")
    assert shoes_export([str(run_dir), "--model-base", str(base), "--model", "stylegan"]) == 0
    with running_server(entries_from_base(base)) as server:
        yield server, base / "stylegan" / "1"


@pytest.fixture(scope="module")
def saved_model(served):
    return tf.saved_model.load(str(served[1]))


def clients(server):
    return (ShoesClient(f"127.0.0.1:{server.port}", model="stylegan"), RestClient(f"http://127.0.0.1:{server.rest_port}", model="stylegan"))


def photo_png() -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (40, 24, 3), dtype=np.uint8)  # Not square: fitted with white.
    return encode_image(Image.fromarray(pixels))


def pixels(image) -> np.ndarray:
    return np.asarray(image.convert("RGB") if isinstance(image, Image.Image) else Image.open(io.BytesIO(image)).convert("RGB"))


def test_an_assertion_keeps_its_own_brackets():
    raw = ("Graph execution error:\n\nDetected at node a defined at (most recent call last):\n<stack traces unavailable>\n"
           "assertion failed: [crossover must lie in [0, 6] (the first of the 6 layers)] [Condition x <= y did not hold:] "
           "[x (crossover:0) = ] [99]\n\t [[{{node assert_less_equal/Assert/AssertGuard/Assert}}]] [Op:__inference_x_1]")
    assert clean_message(raw) == "crossover must lie in [0, 6] (the first of the 6 layers)"
    assert clean_message("assertion failed: [seed must be >= 0] [x] [1]") == "seed must be >= 0"


@pytest.mark.slow
def test_the_published_version_warms_up_and_lists_its_signatures(served):
    server, path = served
    grpc_client, rest_client = clients(server)
    with grpc_client, rest_client:
        assert grpc_client.status() == [{"version": 1, "state": "AVAILABLE", "error": None}]  # Loading replayed the warm-up.
        assert SIGNATURES <= set(grpc_client.metadata()) and SIGNATURES <= set(rest_client.metadata())
        assert grpc_client.metadata()["synthesis"]["inputs"]["w"]["shape"][0] == -1
        requests = read_warmup_requests(path)
        assert {r.model_spec.signature_name for r in requests} == SIGNATURES
        for request in requests:  # And each record answers through the server too.
            assert grpc_client.predict(dict(request.inputs), request.model_spec.signature_name)
        labels = grpc_client.labels()
        assert labels == rest_client.labels() and "ankle_boot" in labels["category"] and "red" in labels["color"]


@pytest.mark.slow
@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_clients_generate_mix_invert_and_synthesize_as_the_saved_model(served, saved_model, transport):
    server, _ = served
    client = clients(server)[transport == "rest"]
    with client:
        shoes = client.generate(2, seed=5, color="red", category="sneaker")
        tamer = client.generate(2, seed=5, color="red", category="sneaker", truncation=0.7)  # The truncated signature.
        assert [s.size for s in shoes + tamer] == [(16, 16)] * 4
        assert not np.array_equal(pixels(shoes[0]), pixels(tamer[0]))
        mixed = client.mix(seed=3, style_seed=7, crossover=3, labels=RED_BOOT, style_labels={"category": "sneaker"}, truncation=0.7)
        expected = saved_model.signatures["mix"](
            seed=tf.constant([3], tf.int64), color=tf.constant(["red"]), category=tf.constant(["ankle_boot"]),
            style_seed=tf.constant([7], tf.int64), style_color=tf.constant(["red"]), style_category=tf.constant(["sneaker"]),
            crossover=tf.constant([3], tf.int64), truncation=tf.constant([0.7]),
        )
        np.testing.assert_array_equal(pixels(mixed), expected["images"].numpy()[0])
        photo = photo_png()
        w, reconstruction = client.invert(photo)
        inverted = saved_model.signatures["invert"](image_bytes=tf.constant([photo]))
        assert w.shape == tuple(inverted["w"].shape[1:]) and w.dtype == np.float32
        np.testing.assert_array_equal(w, inverted["w"].numpy()[0])
        np.testing.assert_array_equal(pixels(reconstruction), inverted["images"].numpy()[0])
        np.testing.assert_array_equal(pixels(client.from_w(w)[0]), pixels(reconstruction))
        with pytest.raises(ServingError) as raised:
            client.mix(seed=3, crossover=99, labels=RED_BOOT)
        assert raised.value.code == "INVALID_ARGUMENT" and f"crossover must lie in [0, {w.shape[0]}]" in raised.value.message


@pytest.mark.slow
def test_shoes_client_mix_and_invert_write_their_files_and_fail_in_one_line(served, saved_model, tmp_path, capsys):
    server, _ = served
    target = ["--server", f"127.0.0.1:{server.port}", "--model", "stylegan"]
    mix = ["mix", "--seed", "3", "--label", "color=red", "--label", "category=ankle_boot", "--style-seed", "7",
           "--style-label", "category=sneaker", "--crossover", "3", "-o", str(tmp_path / "out" / "mixed.png")]
    assert shoes_client(target + mix) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["style_labels"] == {"color": "red", "category": "sneaker"} and summary["crossover"] == 3
    (tmp_path / "photo.png").write_bytes(photo_png())
    rest = ["--rest", f"http://127.0.0.1:{server.rest_port}", "--model", "stylegan"]
    invert = ["invert", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out" / "recon.png"), "--w-out", str(tmp_path / "out" / "w")]
    assert shoes_client(rest + invert) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["w"] == str(tmp_path / "out" / "w.npy")  # Where np.save put it.
    w = np.load(tmp_path / "out" / "w.npy")
    assert list(w.shape) == summary["w_shape"] and w.dtype == np.float32
    expected = saved_model.signatures["invert"](image_bytes=tf.constant([(tmp_path / "photo.png").read_bytes()]))
    np.testing.assert_array_equal(pixels(Image.open(tmp_path / "out" / "recon.png")), expected["images"].numpy()[0])
    for bad, fragment in ((["--crossover", "99"], "crossover must lie in"), (["--label", "color=mauve", "--crossover", "2"], "Unknown color")):
        labels = ["--label", "color=red", "--label", "category=sandal"]  # A later --label color=... wins.
        assert shoes_client(target + ["mix", *labels, *bad, "-o", str(tmp_path / "bad.png")]) == 1
        error = capsys.readouterr().err.strip()
        assert error.startswith("shoes-client: error: INVALID_ARGUMENT: ") and fragment in error and "\n" not in error
    assert not (tmp_path / "bad.png").exists()


def post(server, body) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{server.rest_port}/v1/models/stylegan:predict", data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_rest_json_takes_w_in_rows_and_columns(served, saved_model):
    server, _ = served
    w = np.random.default_rng(1).standard_normal((2, *saved_model.signatures["synthesis"].structured_input_signature[1]["w"].shape[1:]))
    w = w.astype(np.float32)
    expected = saved_model.signatures["synthesis"](w=tf.constant(w))["images"].numpy()
    rows = post(server, {"signature_name": "synthesis", "instances": [{"w": latent} for latent in w.tolist()]})["predictions"]
    columns = post(server, {"signature_name": "synthesis", "inputs": {"w": w.tolist()}})["outputs"]
    np.testing.assert_array_equal(np.asarray([row["images"] for row in rows], np.uint8), expected)
    np.testing.assert_array_equal(np.asarray(columns["images"], np.uint8), expected)
    mapped = post(server, {"signature_name": "mapping", "instances": [{"seed": 3, "truncation": 0.7, **RED_BOOT}]})["predictions"]
    assert np.asarray(mapped, np.float32).shape == (1, *w.shape[1:])  # A lone output: its rows, unnamed.
