"""The thin client's pattern transfer with the transport faked: `BaseClient.pattern` (``serving_default``:
``pattern_bytes`` + ``category`` + int64 ``seed``; ``with_sketch``: ``pattern_bytes`` + the sketch as
``image_bytes``), its refusals, `labels` of a model whose ``serving_default`` also takes encoded images, the
REST body, and ``shoes-client pattern`` against an in-test gRPC fake (the end-to-end test through
``shoes-serve`` with a trained model lives with the pattern family)."""

import base64

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from serving import client_cli, wire
from serving.client import BaseClient, RestClient, ServingError
from tests.serving.test_client import grpc_server, rest_server  # noqa: F401 (fixtures)
from tests.serving.test_client_chains import decoded, fake_predict, png, run

CATEGORIES = ("sandal", "sneaker", "ankle_boot")
UNKNOWN_CATEGORY = "Unknown category label. Valid category labels: sandal, sneaker, ankle_boot"


def leopard(width: int = 20, height: int = 14) -> Image.Image:
    """A pattern exemplar: dark spots on tan, not square."""
    pixels = np.full((height, width, 3), (200, 150, 80), np.uint8)
    pixels[2::5, 3::6] = (40, 25, 10)
    return Image.fromarray(pixels)


def sketch(size: int = 16) -> Image.Image:
    pixels = np.full((size, size), 255, np.uint8)
    pixels[size // 2, 2:-2] = 0
    return Image.fromarray(pixels)


def answer(signature: str, inputs: dict) -> dict:
    """A pattern-transfer model: one 8x8 shoe per seed, coloured (seed, category index, 7); a sketched shoe
    coloured (the pattern's first pixel) at the sketch's size; ``labels`` names the categories."""
    if signature == "labels":
        names = [name.decode() if isinstance(name, bytes) else name for name in np.asarray(inputs["name"]).ravel()]
        if any(name != "category" for name in names):
            raise ServingError("INVALID_ARGUMENT", "Unknown label name. Valid label names: category")
        return {"values": np.array([[category.encode() for category in CATEGORIES]] * len(names), dtype=object),
                "counts": np.array([len(CATEGORIES)] * len(names), np.int64)}
    if signature == "with_sketch":
        if sorted(inputs) != ["image_bytes", "pattern_bytes"]:
            raise ServingError("INVALID_ARGUMENT", f"with_sketch takes image_bytes and pattern_bytes. Received: {sorted(inputs)}")
        pattern, drawn = decoded(inputs["pattern_bytes"][0]).convert("RGB"), decoded(inputs["image_bytes"][0])
        return {"image_bytes": np.array([png(np.full((drawn.height, drawn.width, 3), pattern.getpixel((0, 0)), np.uint8))], dtype=object)}
    if signature == "serving_default":
        if sorted(inputs) != ["category", "pattern_bytes", "seed"]:
            raise ServingError("INVALID_ARGUMENT", f"serving_default takes category, pattern_bytes, seed. Received: {sorted(inputs)}")
        categories = [c.decode() if isinstance(c, bytes) else c for c in np.asarray(inputs["category"]).ravel()]
        if any(category not in CATEGORIES for category in categories):
            raise ServingError("INVALID_ARGUMENT", UNKNOWN_CATEGORY)
        shoes = [png(np.full((8, 8, 3), (seed % 256, CATEGORIES.index(c), 7), np.uint8)) for seed, c in zip(inputs["seed"], categories)]
        return {"image_bytes": np.array(shoes, dtype=object)}
    raise ServingError("FAILED_PRECONDITION", f"no signature {signature!r} in the fake pattern model")


def pattern_signatures():
    """The metadata of the pattern export's contract (serving_default, with_sketch, labels)."""
    signatures = wire.SignatureDefMap()

    def add(infos, name, dtype, *shape):
        infos[name].dtype = wire.DataType.Value(dtype)
        for size in shape:
            infos[name].tensor_shape.dim.add(size=size)

    default, with_sketch, labels = (signatures.signature_def[name] for name in ("serving_default", "with_sketch", "labels"))
    for name, dtype in [("pattern_bytes", "DT_STRING"), ("category", "DT_STRING"), ("seed", "DT_INT64")]:
        add(default.inputs, name, dtype, -1)
    for name in ("pattern_bytes", "image_bytes"):
        add(with_sketch.inputs, name, "DT_STRING", -1)
    for signature in (default, with_sketch):
        add(signature.outputs, "images", "DT_UINT8", -1, 8, 8, 3)
        add(signature.outputs, "image_bytes", "DT_STRING", -1)
    add(labels.inputs, "name", "DT_STRING", -1)
    add(labels.outputs, "values", "DT_STRING", -1, -1)
    add(labels.outputs, "counts", "DT_INT64", -1)
    return signatures


class FakeTransport(BaseClient):
    """A client whose sending is `answer`; every request lands in `requests`."""

    def __init__(self, model: str = "pattern"):
        super().__init__(model, None, None, timeout=5.0, retries=0, backoff=0.0)
        self.requests = []

    def _send_predict(self, inputs, signature_name, output_filter):
        self.requests.append((signature_name, dict(inputs), output_filter))
        return answer(signature_name, inputs)

    def _send_metadata(self):
        return pattern_signatures()


def test_pattern_sends_pattern_bytes_category_and_an_int64_seed_to_serving_default():
    client = FakeTransport()
    shoe = client.pattern(leopard(), category="ankle_boot", seed=7)
    assert isinstance(shoe, Image.Image) and shoe.getpixel((0, 0)) == (7, 2, 7)
    ((signature, inputs, output_filter),) = client.requests
    assert (signature, output_filter) == ("serving_default", ["image_bytes"])
    assert sorted(inputs) == ["category", "pattern_bytes", "seed"]
    assert inputs["seed"].dtype == np.int64 and inputs["seed"].tolist() == [7]
    assert inputs["category"].dtype == object and inputs["category"].tolist() == ["ankle_boot"]
    assert inputs["pattern_bytes"].dtype == object and inputs["pattern_bytes"].shape == (1,)
    sent = decoded(inputs["pattern_bytes"][0])
    assert sent.format == "PNG" and np.array_equal(np.asarray(sent), np.asarray(leopard()))  # Any size: sent as it is.
    assert client.pattern(leopard(), category="sandal").getpixel((0, 0)) == (0, 0, 7)  # seed 0 unless given
    assert client.requests[-1][1]["seed"].tolist() == [0]


def test_pattern_with_a_sequence_of_seeds_gives_a_list_and_takes_paths_and_bytes(tmp_path):
    client = FakeTransport()
    leopard().save(tmp_path / "bag.jpg", quality=95)
    shoes = client.pattern(tmp_path / "bag.jpg", category="sneaker", seed=[3, 4, 5])
    assert isinstance(shoes, list) and [shoe.getpixel((0, 0)) for shoe in shoes] == [(3, 1, 7), (4, 1, 7), (5, 1, 7)]
    assert len(client.pattern(str(tmp_path / "bag.jpg"), category="sneaker", seed=range(2))) == 2
    assert isinstance(client.pattern(png(np.asarray(leopard())), category="sneaker", seed=np.int64(9)), Image.Image)
    assert isinstance(client.pattern(leopard(), category="sneaker", seed=[9]), list)  # A sequence of one: a list of one.
    inputs = client.requests[0][1]
    assert inputs["seed"].dtype == np.int64 and inputs["seed"].tolist() == [3, 4, 5]
    assert inputs["category"].tolist() == ["sneaker"] * 3 and inputs["pattern_bytes"].shape == (3,)
    assert len(set(inputs["pattern_bytes"])) == 1 and decoded(inputs["pattern_bytes"][0]).format == "PNG"  # The JPEG, as PNG.
    assert decoded(client.requests[2][1]["pattern_bytes"][0]).size == (20, 14)


def test_pattern_with_a_sketch_sends_it_as_image_bytes_to_with_sketch():
    client = FakeTransport()
    shoe = client.pattern(leopard(), sketch=sketch(12))
    assert isinstance(shoe, Image.Image) and shoe.size == (12, 12) and shoe.getpixel((0, 0)) == (200, 150, 80)
    ((signature, inputs, output_filter),) = client.requests
    assert (signature, output_filter) == ("with_sketch", ["image_bytes"])
    assert sorted(inputs) == ["image_bytes", "pattern_bytes"]  # No seed, no category.
    assert inputs["image_bytes"].dtype == object and inputs["image_bytes"].shape == (1,) and inputs["pattern_bytes"].shape == (1,)
    assert np.array_equal(np.asarray(decoded(inputs["image_bytes"][0])), np.asarray(sketch(12)))
    assert np.array_equal(np.asarray(decoded(inputs["pattern_bytes"][0])), np.asarray(leopard()))


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"sketch": sketch(), "category": "sneaker"}, TypeError, r"sketch or a category .* Received: category='sneaker', seed=None"),
        ({"sketch": sketch(), "seed": 3}, TypeError, r"Received: category=None, seed=3 and a sketch"),
        ({"sketch": sketch(), "seed": 0}, TypeError, r"seed=0"),
        ({}, ValueError, r"needs a category .* or a sketch. Received: category=None, sketch=None"),
        ({"seed": 3}, ValueError, r"needs a category"),
        ({"category": ""}, ValueError, r"Received: category=''"),
        ({"category": ["sneaker"]}, ValueError, r"Received: category=\['sneaker'\]"),
        ({"category": "sneaker", "seed": []}, ValueError, r"Received: seed=\[\]"),
        ({"category": "sneaker", "seed": 1.5}, ValueError, r"Received: seed=1.5"),
        ({"category": "sneaker", "seed": True}, ValueError, r"Received: seed=True"),
    ],
)
def test_pattern_refuses_bad_arguments_before_sending(options, error, message):
    client = FakeTransport()
    with pytest.raises(error, match=message):
        client.pattern(leopard(), **options)
    assert client.requests == []


def test_pattern_refuses_what_is_not_an_image_and_keeps_the_servers_unknown_category_message():
    client = FakeTransport()
    with pytest.raises(TypeError, match="Received: int"):
        client.pattern(3, category="sneaker")
    with pytest.raises(ServingError) as raised:
        client.pattern(leopard(), category="loafer")
    assert (raised.value.code, raised.value.message) == ("INVALID_ARGUMENT", UNKNOWN_CATEGORY)


def test_labels_of_a_pattern_model_name_the_categories_not_the_encoded_images():
    client = FakeTransport()
    assert client.labels() == {"category": list(CATEGORIES)}
    ((signature, inputs, _),) = client.requests
    assert signature == "labels" and inputs["name"].tolist() == ["category"]  # pattern_bytes is no label.


def test_rest_pattern_sends_b64_pattern_and_sketch_and_plain_category(rest_server):
    def route(method, path, body):
        inputs = {name: np.array([base64.b64decode(v["b64"]) if isinstance(v, dict) else v for v in values], dtype=object)
                  for name, values in body["inputs"].items()}
        if "seed" in inputs:
            inputs["seed"] = inputs["seed"].astype(np.int64)
        outputs = answer(body["signature_name"], inputs)
        return 200, {"outputs": {"image_bytes": [{"b64": base64.b64encode(data).decode()} for data in outputs["image_bytes"]]}}

    url, requests = rest_server(route)
    with RestClient(url, model="pattern") as client:
        shoes = client.pattern(leopard(), category="sandal", seed=[1, 2])
        shoe = client.pattern(leopard(), sketch=sketch(10))
    assert [s.getpixel((0, 0)) for s in shoes] == [(1, 0, 7), (2, 0, 7)] and shoe.size == (10, 10)
    (_, path, first), (_, _, second) = requests
    assert path == "/v1/models/pattern:predict" and first["signature_name"] == "serving_default"
    assert first["inputs"]["category"] == ["sandal", "sandal"] and first["inputs"]["seed"] == [1, 2]
    assert [set(value) for value in first["inputs"]["pattern_bytes"]] == [{"b64"}] * 2
    assert second["signature_name"] == "with_sketch" and sorted(second["inputs"]) == ["image_bytes", "pattern_bytes"]
    assert np.array_equal(np.asarray(decoded(base64.b64decode(second["inputs"]["image_bytes"][0]["b64"]))), np.asarray(sketch(10)))


# shoes-client pattern over gRPC (an in-test fake server answering with `answer`)


@pytest.fixture
def fake_pattern(grpc_server, tmp_path):
    """``(target, requests, pattern path, sketch path)``."""
    requests = []
    leopard().save(tmp_path / "bag.jpg", quality=95)
    sketch(12).save(tmp_path / "sketch.png")
    predict = fake_predict(requests, lambda spec, inputs: answer(spec.signature_name, inputs))
    return grpc_server(Predict=predict), requests, str(tmp_path / "bag.jpg"), str(tmp_path / "sketch.png")


def test_cli_pattern_one_seed_writes_out_and_sends_int64_seeds_on_the_wire(fake_pattern, tmp_path, capsys):
    target, requests, bag, _ = fake_pattern
    out = tmp_path / "shoes" / "boot.png"
    code, summary, _ = run(["--server", target, "--model", "pattern", "pattern", bag, "--category", "ankle_boot", "--seed", "3",
                            "-o", str(out)], capsys)
    assert code == 0 and summary == {"pattern": bag, "category": "ankle_boot", "seeds": [3], "files": [str(out)], "size": [8, 8]}
    assert Image.open(out).getpixel((0, 0)) == (3, 2, 7)
    (request,) = requests
    assert (request.model_spec.name, request.model_spec.signature_name) == ("pattern", "serving_default")
    assert sorted(request.inputs) == ["category", "pattern_bytes", "seed"]
    assert tf.make_ndarray(request.inputs["seed"]).dtype == np.int64  # As TF Serving reads it.
    assert tf.make_ndarray(request.inputs["category"]).tolist() == [b"ankle_boot"]
    assert list(request.output_filter) == ["image_bytes"]


def test_cli_pattern_several_seeds_suffix_a_file_name_or_fill_a_folder(fake_pattern, tmp_path, capsys):
    target, requests, bag, _ = fake_pattern
    base = ["--server", target, "pattern", bag]
    code, summary, _ = run([*base, "--category", "sneaker", "--seed", "4", "--seed", "9", "-o", str(tmp_path / "s.png")], capsys)
    assert code == 0 and summary["files"] == [str(tmp_path / "s_seed0004.png"), str(tmp_path / "s_seed0009.png")]
    assert summary["seeds"] == [4, 9] and Image.open(tmp_path / "s_seed0009.png").getpixel((0, 0)) == (9, 1, 7)
    code, summary, _ = run([*base, "--label", "category=sandal", "--seed", "100", "-n", "3", "-o", str(tmp_path / "out")], capsys)
    names = ["sandal_seed0100.png", "sandal_seed0101.png", "sandal_seed0102.png"]
    assert code == 0 and summary["files"] == [str(tmp_path / "out" / name) for name in names]  # As generate names them.
    assert summary["category"] == "sandal" and tf.make_ndarray(requests[-1].inputs["seed"]).tolist() == [100, 101, 102]
    (tmp_path / "existing.png").mkdir()  # An existing folder is a folder, whatever its name.
    code, summary, _ = run([*base, "--category", "sandal", "--label", "category=sandal", "-o", str(tmp_path / "existing.png")], capsys)
    assert code == 0 and summary["files"] == [str(tmp_path / "existing.png" / "sandal_seed0000.png")]
    assert len(requests) == 3


def test_cli_pattern_sketch_calls_with_sketch(fake_pattern, tmp_path, capsys):
    target, requests, bag, drawn = fake_pattern
    code, summary, _ = run(["--server", target, "pattern", bag, "--sketch", drawn, "-o", str(tmp_path / "sketched.png")], capsys)
    assert code == 0 and summary == {"pattern": bag, "sketch": drawn, "files": [str(tmp_path / "sketched.png")], "size": [12, 12]}
    assert requests[-1].model_spec.signature_name == "with_sketch" and sorted(requests[-1].inputs) == ["image_bytes", "pattern_bytes"]
    assert np.array_equal(np.asarray(decoded(tf.make_ndarray(requests[-1].inputs["image_bytes"])[0])), np.asarray(sketch(12)))
    code, summary, _ = run(["--server", target, "pattern", bag, "--sketch", drawn, "-o", str(tmp_path / "folder")], capsys)
    assert code == 0 and summary["files"] == [str(tmp_path / "folder" / "shoe.png")]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--category", "sneaker", "--sketch", "s.png"], "argument --sketch: not allowed with argument --category"),
        (["--label", "category=sneaker", "--sketch", "s.png"], "--sketch or --category with --seed/-n, not both"),
        (["--sketch", "s.png", "--seed", "3"], "--sketch or --category with --seed/-n, not both"),
        (["--sketch", "s.png", "-n", "2"], "--sketch or --category with --seed/-n, not both"),
        ([], "needs --category NAME (or --label category=NAME) or --sketch SKETCH"),
        (["--seed", "3"], "needs --category NAME"),
        (["--label", "color=red"], "takes one label, category. Received: --label color=red"),
        (["--category", "sneaker", "--label", "category=sandal"], "one category. Received: sandal, sneaker"),
        (["--category", "sneaker", "--seed", "1", "--seed", "2", "-n", "2"], "Received: --seed 1 --seed 2 -n 2"),
        (["--category", "sneaker", "-n", "0"], "expected a positive integer"),
        (["--category", "sneaker", "--seed", "x"], "invalid int value"),
    ],
)
def test_cli_pattern_usage_errors_exit_2_before_any_call(extra, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        client_cli.main(["--server", "127.0.0.1:1", "pattern", str(tmp_path / "bag.png"), *extra, "-o", str(tmp_path / "o.png")])
    error = capsys.readouterr().err
    assert exit_info.value.code == 2 and "usage: shoes-client" in error and message in error
    assert not (tmp_path / "o.png").exists()


def test_cli_pattern_server_and_file_errors_exit_1(fake_pattern, tmp_path, capsys):
    target, _, bag, _ = fake_pattern
    code, _, error = run(["--server", target, "pattern", bag, "--category", "loafer", "-o", str(tmp_path / "o.png")], capsys)
    assert code == 1 and error == f"shoes-client: error: INVALID_ARGUMENT: {UNKNOWN_CATEGORY}\n"
    code, _, error = run(["--server", target, "--model", "missing", "pattern", bag, "--sketch", str(tmp_path / "nope.png"),
                          "-o", str(tmp_path / "o.png")], capsys)
    assert code == 1 and "nope.png" in error
    assert not (tmp_path / "o.png").exists()


def test_cli_pattern_help_and_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        client_cli.main(["pattern", "--help"])
    help_text = capsys.readouterr().out
    assert exit_info.value.code == 0 and help_text.startswith("usage: shoes-client pattern")
    for words in ("--category NAME | --sketch SKETCH", "--label NAME=VALUE", "with_sketch", "<category>_seed<NNNN>.png"):
        assert words in help_text
    assert "pattern leopard_bag.jpg --category ankle_boot" in client_cli.build_parser().format_help()
