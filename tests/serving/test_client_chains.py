"""The thin client's part-map calls with the transport faked: synthesize (SPADE), part_classes, for_model, redesign
(part segmenter -> edit -> SPADE with the photo as style), extract (shoe segmenter -> photo + mask model), the
deprecated synthesize(w), and shoes-client synthesize / redesign / extract against an in-test gRPC fake."""

import io
import json
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorflow_serving.apis import predict_pb2

from serving import client_cli, part_maps
from serving.client import BaseClient, RestClient, ServingError, ShoesClient, encode_image
from tests.harness import shoe_image
from tests.serving.test_client import grpc_server, rest_server  # noqa: F401 (fixtures)
from tests.serving.test_part_maps import NAMES, boot

ROOT = Path(__file__).resolve().parents[2]
OUT_OF_RANGE = f"class_id must lie in [0, {len(NAMES)})"


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def decoded(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image


def answer(model: str, signature: str, inputs: dict, names=NAMES, error: str = OUT_OF_RANGE, legacy: bool = False) -> dict:
    """What the served models answer: part/shoe segmenters (segment, class_names: ``name`` and ``num_classes``,
    or ``name`` alone for a `legacy` export), SPADE (one grey shoe per seed, grey = seed), a photo + mask model
    (its mask back as the shot) and StyleGAN2's synthesis; no model named ``missing...``."""
    if model.startswith("missing"):
        raise ServingError("NOT_FOUND", f"Servable not found for request: Latest({model})")
    if signature == "class_names":
        ids = np.asarray(inputs["class_id"])
        if ids.max() >= len(names):
            raise ServingError("INVALID_ARGUMENT", error)
        found = {"name": np.array([names[i].encode() for i in ids], dtype=object)}
        return found if legacy else {**found, "num_classes": np.full(len(ids), len(names), np.int64)}
    if signature == "segment":
        return {"classes": boot()[None]}
    if "label_map_bytes" in inputs:
        seeds = np.asarray(inputs["seed"])
        return {"image_bytes": np.array([png(np.full((8, 8, 3), seed, np.uint8)) for seed in seeds], dtype=object)}
    if "mask_bytes" in inputs:
        return {"image_bytes": np.array([inputs["mask_bytes"][0]], dtype=object)}
    if signature == "synthesis":
        return {"image_bytes": np.array([png(np.zeros((4, 4, 3), np.uint8))] * len(inputs["w"]), dtype=object)}
    raise ServingError("FAILED_PRECONDITION", f"no signature {signature!r} in the fake {model!r}")


class FakeTransport(BaseClient):
    """A client whose sending is `answer`; every request, of it and its `for_model` copies, lands in `requests`."""

    def __init__(self, model: str = "spade", **answer_options):
        super().__init__(model, None, None, timeout=5.0, retries=0, backoff=0.0)
        self.requests, self.answer_options = [], answer_options

    def _send_predict(self, inputs, signature_name, output_filter):
        self.requests.append((self.model, signature_name, dict(inputs), output_filter))
        return answer(self.model, signature_name, inputs, **self.answer_options)


def signatures(client) -> list[tuple[str, str]]:
    return [(model, signature) for model, signature, _, _ in client.requests]


def test_synthesize_sends_the_map_as_a_greyscale_png_of_indices_and_int64_seeds():
    client = FakeTransport()
    shoe = client.synthesize(boot(), seed=7)
    assert isinstance(shoe, Image.Image) and shoe.getpixel((0, 0)) == (7, 7, 7)
    ((model, signature, inputs, output_filter),) = client.requests
    assert (model, signature, output_filter) == ("spade", "serving_default", ["image_bytes"])
    assert sorted(inputs) == ["label_map_bytes", "seed"]
    assert inputs["seed"].dtype == np.int64 and inputs["seed"].tolist() == [7]
    assert inputs["label_map_bytes"].dtype == object and inputs["label_map_bytes"].shape == (1,)
    sent = decoded(inputs["label_map_bytes"][0])
    assert sent.mode == "L" and np.array_equal(np.asarray(sent), boot())


def test_synthesize_takes_paths_bytes_and_palette_images_and_a_style_for_with_style(tmp_path):
    client = FakeTransport()
    indexed = Image.fromarray(boot()).convert("P")  # TF would decode a palette PNG to its colours: sent as L instead.
    indexed.putdata(boot().ravel().tolist())
    indexed.putpalette([value for index in range(256) for value in (index * 40 % 256, 90, 200)])
    (tmp_path / "map.png").write_bytes(part_maps.encode_part_map(boot()))
    style = shoe_image(20, color=(0, 0, 250))
    shoes = client.synthesize(tmp_path / "map.png", seed=[3, 4, 5], style=style)
    assert [shoe.getpixel((0, 0))[0] for shoe in shoes] == [3, 4, 5]
    client.synthesize(indexed, style=str(tmp_path / "map.png"))
    client.synthesize(part_maps.encode_part_map(boot()))
    (first, second, third) = client.requests
    assert first[1] == "with_style" and sorted(first[2]) == ["label_map_bytes", "seed", "style_bytes"]
    assert first[2]["seed"].tolist() == [3, 4, 5] and first[2]["style_bytes"].shape == (3,) and first[2]["label_map_bytes"].shape == (3,)
    assert np.array_equal(np.asarray(decoded(first[2]["style_bytes"][2]).convert("RGB")), np.asarray(style))
    for request in (first, second, third):
        assert decoded(request[2]["label_map_bytes"][0]).mode == "L"
        assert np.array_equal(np.asarray(decoded(request[2]["label_map_bytes"][0])), boot())
    assert (second[1], third[1]) == ("with_style", "serving_default")


def test_synthesize_refuses_colour_maps_and_bad_seeds_before_sending():
    client = FakeTransport()
    with pytest.raises(ValueError, match="single-channel image whose pixel values are class indices .* mode 'RGB'"):
        client.synthesize(part_maps.colorize(boot()))
    with pytest.raises(ValueError, match=r"Received: seed=\[\]"):
        client.synthesize(boot(), seed=[])
    with pytest.raises(ValueError, match="Received: seed=1.5"):
        client.synthesize(boot(), seed=1.5)
    assert client.requests == []


def test_synthesize_of_a_w_is_from_w_with_a_deprecation_warning():
    client = FakeTransport("stylegan")
    w = np.zeros((6, 8), np.float32)
    with pytest.warns(DeprecationWarning, match=r"use from_w\(w\)"):
        shoes = client.synthesize(w)
    with pytest.warns(DeprecationWarning):
        client.synthesize(np.zeros((2, 6, 8)).tolist())  # A batch, as nested lists of floats.
    assert len(shoes) == 1 and len(client.from_w(w)) == 1
    assert [(signature, inputs["w"].dtype, inputs["w"].shape) for _, signature, inputs, _ in client.requests] == [
        ("synthesis", np.float32, (1, 6, 8)), ("synthesis", np.float32, (2, 6, 8)), ("synthesis", np.float32, (1, 6, 8))]
    with pytest.raises(TypeError, match="from_w"):
        client.synthesize(w, style=shoe_image(8))


def test_part_classes_reads_the_count_from_the_answer_for_id_0():
    client = FakeTransport()
    assert client.part_classes() == list(NAMES)
    asked = [(signature, inputs["class_id"].tolist(), output_filter) for _, signature, inputs, output_filter in client.requests]
    assert asked == [("class_names", [0], []), ("class_names", list(range(len(NAMES))), ["name"])]
    assert all(inputs["class_id"].dtype == np.int64 for _, _, inputs, _ in client.requests)


def test_part_classes_of_an_export_without_num_classes_reads_the_out_of_range_answer_or_bisects():
    old = FakeTransport(legacy=True)
    assert old.part_classes() == list(NAMES)
    assert [inputs["class_id"].tolist() for _, _, inputs, _ in old.requests] == [[0], list(range(256)), list(range(len(NAMES)))]
    quiet = FakeTransport(legacy=True, error="index out of range")  # A server that does not say the count: bisection.
    assert quiet.part_classes() == list(NAMES) and 4 <= len(quiet.requests) <= 12


@pytest.mark.parametrize("legacy", [False, True])
def test_part_classes_of_old_and_new_exports_behind_shoes_serve(legacy, tmp_path):
    """A real ``class_names`` SavedModel (with ``num_classes``, or ``name`` alone as exports before it: REST then
    answers an unnamed lone output) through the local TF-Serving-compatible server, over gRPC and REST."""
    from serving.server.model_store import entries_from_base
    from shoes_generator.export.inputs import TensorInput
    from shoes_generator.export.signatures import Signature, export_signatures, named_outputs
    from shoes_generator.segmentation.export import ClassNames, class_names_signature
    from tests.serving.helpers import running_server

    names = ClassNames(NAMES)
    signature = class_names_signature(names)
    if legacy:
        ids = TensorInput("class_id", tf.int64, fixed=np.arange(len(NAMES), dtype=np.int64))
        signature = Signature("class_names", (ids,), lambda x: {"name": names(x["class_id"])}, named_outputs)
    export_signatures([signature], tmp_path / "base" / "parts" / "1", [names])
    with running_server(entries_from_base(tmp_path / "base")) as server:
        for client in (ShoesClient(f"127.0.0.1:{server.port}", model="parts"), RestClient(f"http://127.0.0.1:{server.rest_port}", model="parts")):
            with client:
                assert sorted(client.metadata()["class_names"]["outputs"]) == (["name"] if legacy else ["name", "num_classes"])
                assert client.part_classes() == list(NAMES)


def test_for_model_addresses_another_model_and_shares_the_connection(grpc_server, rest_server):
    seen = []

    def predict(request, context):
        seen.append(request.model_spec)
        response = predict_pb2.PredictResponse()
        response.outputs["name"].CopyFrom(tf.make_tensor_proto([b"background"]))
        return response

    with ShoesClient(grpc_server(Predict=predict), model="spade", version=3) as client:
        parts = client.for_model("parts")
        assert parts._channel is client._channel and (parts.model, parts.version, parts.timeout) == ("parts", None, client.timeout)
        with parts:
            parts.predict({"class_id": np.array([0], np.int64)}, "class_names")
        client.predict({"class_id": np.array([0], np.int64)}, "class_names")  # Closing the copy left the channel open.
    assert [(spec.name, spec.version.value) for spec in seen] == [("parts", 0), ("spade", 3)]
    with pytest.raises(ValueError, match="Received: model=''"):
        client.for_model("")
    rest = RestClient("http://127.0.0.1:1", model="spade", version_label="stable")
    rest._signatures = object()
    other = rest.for_model("parts", version=2)
    assert other.model_url == "http://127.0.0.1:1/v1/models/parts/versions/2" and other._signatures is None
    assert rest.model_url == "http://127.0.0.1:1/v1/models/spade/labels/stable" and rest._signatures is not None


def test_redesign_segments_the_photo_edits_the_map_and_draws_it_in_the_photos_look():
    client = FakeTransport()
    photo = shoe_image(24, width=30)
    result = client.redesign(photo, grow={"heel": 2}, shrink={"upper": 1}, seed=11)
    expected = part_maps.edit(boot(), NAMES, grow={"heel": 2}, shrink={"upper": 1})
    assert np.array_equal(result.parts, boot()) and np.array_equal(result.edited, expected)
    assert result.class_names == list(NAMES) and result.shoe.getpixel((0, 0)) == (11, 11, 11)
    assert signatures(client) == [("parts", "class_names")] * 2 + [("spade", "class_names")] * 2 + [
        ("parts", "segment"), ("spade", "with_style")]
    _, _, segment, segment_filter = client.requests[4]
    assert sorted(segment) == ["image_bytes"] and segment_filter == ["classes"]
    _, _, spade, spade_filter = client.requests[5]
    assert sorted(spade) == ["label_map_bytes", "seed", "style_bytes"] and spade_filter == ["image_bytes"]
    assert spade["seed"].dtype == np.int64 and spade["seed"].tolist() == [11]
    assert spade["label_map_bytes"].dtype == object and np.array_equal(np.asarray(decoded(spade["label_map_bytes"][0])), expected)
    assert spade["style_bytes"][0] == segment["image_bytes"][0]  # The style is the photo itself,
    assert np.array_equal(np.asarray(decoded(spade["style_bytes"][0])), np.asarray(photo))  # unchanged.


def test_redesign_draws_a_painted_map_instead_of_edits(tmp_path):
    client = FakeTransport()
    painted = boot()
    painted[4:8, 6:14] = 5  # An opening atop the shaft.
    (tmp_path / "edited.png").write_bytes(part_maps.encode_part_map(painted))
    result = client.redesign(encode_image(shoe_image(16)), edited_map=tmp_path / "edited.png", segmenter="parts_v2")
    assert np.array_equal(result.edited, painted) and np.array_equal(result.parts, boot())
    assert np.array_equal(np.asarray(decoded(client.requests[-1][2]["label_map_bytes"][0])), painted)
    assert ("parts_v2", "segment") in signatures(client)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"grow": {"toe": 1}}, part_maps.UnknownPartError, "Unknown part 'toe'. The model's parts: background, sole, heel"),
        ({"shrink": {"heel": -1}}, ValueError, "Received: -1"),
        ({"grow": {"heel": 1}, "edited_map": boot()}, ValueError, "edits or a painted map, not both"),
        ({"edited_map": np.full((4, 4), 6, np.uint8)}, ValueError, r"class indices \[6\], but the model has 6 classes"),
    ],
)
def test_redesign_refuses_bad_edits_before_segmenting(options, error, message):
    client = FakeTransport()
    with pytest.raises(error, match=message):
        client.redesign(shoe_image(16), **options)
    assert ("parts", "segment") not in signatures(client)


def test_redesign_refuses_a_segmenter_whose_parts_differ_from_the_spade_models():
    class Mismatched(FakeTransport):
        def _send_predict(self, inputs, signature_name, output_filter):
            names = NAMES if self.model == "spade" else NAMES[:4]
            error = f"class_id must lie in [0, {len(names)})"
            self.requests.append((self.model, signature_name, dict(inputs), output_filter))
            return answer(self.model, signature_name, inputs, names=names, error=error)

    with pytest.raises(ValueError, match=r"segmenter 'parts' labels the parts \['background', 'sole', 'heel', 'upper'\], but the model 'spade'"):
        Mismatched().redesign(shoe_image(16), grow={"heel": 1})


def test_extract_masks_the_shoe_and_sends_photo_and_mask_to_the_clients_model():
    client = FakeTransport("mask2product")
    photo = shoe_image(20, width=28)
    mask, product = client.extract(photo)
    assert signatures(client) == [("segmenter", "segment"), ("mask2product", "serving_default")]
    _, _, inputs, output_filter = client.requests[1]
    assert sorted(inputs) == ["image_bytes", "mask_bytes"] and output_filter == ["image_bytes"]
    assert np.array_equal(np.asarray(decoded(inputs["image_bytes"][0]).convert("RGB")), np.asarray(photo))
    assert mask.mode == "L" and np.array_equal(np.asarray(mask), np.where(boot() != 0, 255, 0))
    assert np.array_equal(np.asarray(decoded(inputs["mask_bytes"][0])), np.asarray(mask))
    assert np.array_equal(np.asarray(product), np.asarray(mask))  # The fake shot is the mask it received.


# shoes-client over gRPC (an in-test fake server answering with `answer`)


def fake_predict(requests: list, answer):
    """A gRPC ``Predict`` handler that keeps each request in `requests` and answers ``answer(model_spec, inputs)``
    (``{name: array}``); a `ServingError` it raises is the call's status and message."""

    def predict(request, context):
        requests.append(request)
        inputs = {name: tf.make_ndarray(tensor) for name, tensor in request.inputs.items()}
        try:
            outputs = answer(request.model_spec, inputs)
        except ServingError as error:
            context.abort(getattr(grpc.StatusCode, error.code), error.message)
        response = predict_pb2.PredictResponse()
        for name, value in outputs.items():
            response.outputs[name].CopyFrom(tf.make_tensor_proto(value))
        return response

    return predict


@pytest.fixture
def fake_models(grpc_server):
    """``(target, requests)``: a gRPC fake of every model `answer` plays."""
    requests = []
    return grpc_server(Predict=fake_predict(requests, lambda spec, inputs: answer(spec.name, spec.signature_name, inputs))), requests


def run(argv, capsys) -> tuple[int, dict | None, str]:
    code = client_cli.main(argv)
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if code == 0 else None, captured.err


def test_cli_redesign_writes_the_maps_the_shoe_and_the_strip(fake_models, tmp_path, capsys):
    target, requests = fake_models
    shoe_image(24, width=30).save(tmp_path / "photo.jpg")
    argv = ["--server", target, "--model", "spade", "redesign", str(tmp_path / "photo.jpg"), "--grow", "heel=2", "--shrink", "upper=1",
            "--seed", "9", "-o", str(tmp_path / "out")]
    code, summary, _ = run(argv, capsys)
    assert code == 0
    out = tmp_path / "out"
    names = ["photo.png", "parts.png", "edited.png", "parts_index.png", "edited_index.png", "shoe.png", "redesign.png"]
    assert summary["files"] == [str(out / name) for name in names] and summary["grow"] == {"heel": 2} and summary["seed"] == 9
    assert summary["pixels_changed"]["heel"] > 0 and summary["pixels_changed"]["upper"] < 0
    expected = part_maps.edit(boot(), NAMES, grow={"heel": 2}, shrink={"upper": 1})
    assert np.array_equal(part_maps.read_part_map(out / "edited_index.png", len(NAMES)), expected)
    assert np.array_equal(part_maps.read_part_map(out / "parts_index.png", len(NAMES)), boot())
    assert np.array_equal(np.asarray(Image.open(out / "edited.png")), np.asarray(part_maps.colorize(expected)))
    strip = Image.open(out / "redesign.png")
    assert strip.size[0] == 4 * 128 and strip.size[1] > 128
    spade = requests[-1]
    assert (spade.model_spec.name, spade.model_spec.signature_name) == ("spade", "with_style")
    assert tf.make_ndarray(spade.inputs["seed"]).dtype == np.int64  # On the wire, as TF Serving reads it.
    code, summary, _ = run(["--server", target, "--model", "spade", "redesign", str(tmp_path / "photo.jpg"), "--map",
                            str(out / "edited_index.png"), "-o", str(tmp_path / "again")], capsys)
    assert code == 0 and summary["map"] == str(out / "edited_index.png")
    assert np.array_equal(part_maps.read_part_map(tmp_path / "again" / "edited_index.png", len(NAMES)), expected)


def test_cli_synthesize_and_extract(fake_models, tmp_path, capsys):
    target, requests = fake_models
    (tmp_path / "map.png").write_bytes(part_maps.encode_part_map(boot()))
    shoe_image(16).save(tmp_path / "style.png")
    code, summary, _ = run(["--server", target, "--model", "spade", "synthesize", str(tmp_path / "map.png"), "--seed", "4", "--style",
                            str(tmp_path / "style.png"), "-o", str(tmp_path / "shoe.png")], capsys)
    assert code == 0 and summary["style"] == str(tmp_path / "style.png") and summary["seed"] == 4
    assert requests[-1].model_spec.signature_name == "with_style" and Image.open(tmp_path / "shoe.png").getpixel((0, 0)) == (4, 4, 4)
    code, summary, _ = run(["--server", target, "--model", "mask2product", "extract", str(tmp_path / "style.png"), "--segmenter", "seg",
                            "-o", str(tmp_path / "shot")], capsys)
    assert code == 0 and summary["mask"] == str(tmp_path / "shot" / "mask.png") and 0 < summary["shoe_share"] < 1
    assert [(r.model_spec.name, r.model_spec.signature_name) for r in requests[-2:]] == [("seg", "segment"), ("mask2product", "serving_default")]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "shot" / "product.png")), np.asarray(Image.open(tmp_path / "shot" / "mask.png")))


@pytest.mark.parametrize(
    "extra",
    [["--grow", "heel"], ["--grow", "heel=-1"], ["--shrink", "=2"], ["--grow", "heel=2", "--map", "edited.png"], []],
)
def test_cli_redesign_usage_errors_exit_2(extra, tmp_path, capsys):
    out = [] if not extra else ["-o", str(tmp_path / "out")]  # [] : -o/--out is required.
    with pytest.raises(SystemExit) as exit_info:
        client_cli.main(["redesign", str(tmp_path / "photo.png"), *out, *extra])
    assert exit_info.value.code == 2 and "usage: shoes-client" in capsys.readouterr().err


def test_cli_unknown_parts_exit_2_and_server_errors_1(fake_models, tmp_path, capsys):
    target, _ = fake_models
    shoe_image(16).save(tmp_path / "photo.png")
    redesign = ["--server", target, "--model", "spade", "redesign", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out")]
    code, _, error = run([*redesign, "--grow", "toe=2"], capsys)
    assert code == 2 and error == ("shoes-client redesign: error: Unknown part 'toe'. The model's parts: "
                                   "background, sole, heel, upper, shaft, opening\n")
    extract = ["--server", target, "--model", "mask2product", "extract", str(tmp_path / "photo.png"), "-o", str(tmp_path / "x")]
    code, _, error = run([*extract, "--segmenter", "missing"], capsys)
    assert code == 1 and error == "shoes-client: error: NOT_FOUND: Servable not found for request: Latest(missing)\n"
    assert not (tmp_path / "x").exists()
    (tmp_path / "rgb.png").write_bytes(png(np.zeros((4, 4, 3), np.uint8)))
    code, _, error = run(["--server", target, "synthesize", str(tmp_path / "rgb.png"), "-o", str(tmp_path / "s.png")], capsys)
    assert code == 1 and "mode 'RGB'" in error and not (tmp_path / "s.png").exists()


def test_every_new_subcommand_answers_help(capsys):
    for command in ("synthesize", "redesign", "extract", "pattern"):
        with pytest.raises(SystemExit) as exit_info:
            client_cli.main([command, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: shoes-client {command}" in capsys.readouterr().out
    assert "redesign photo.jpg --grow heel=3" in client_cli.build_parser().format_help()



NO_TENSORFLOW_HELP = """
import contextlib, io, sys
sys.modules["tensorflow"] = None
sys.modules["keras"] = None
from serving import client_cli
for command in ("synthesize", "redesign", "extract", "pattern"):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            client_cli.main([command, "--help"])
        except SystemExit as done:
            assert done.code == 0, (command, done.code)
    assert f"usage: shoes-client {command}" in out.getvalue(), out.getvalue()
"""


def test_the_new_subcommands_answer_help_without_tensorflow():
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW_HELP], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
