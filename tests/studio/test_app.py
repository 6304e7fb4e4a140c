"""The studio's web app over a real shoes-serve with a tiny model of every tabbed family: the tabs follow the
models' signatures, every action answers images, and the command it prints makes the same PNG bytes again;
bad settings, oversize uploads, server errors and a server that is down answer JSON messages."""

import base64
import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from serving.client import ServingError, ShoesClient
from serving.client_cli import main as shoes_client
from tests.studio.conftest import offline_studio

REPO = Path(__file__).resolve().parents[2]
RED_SNEAKER = {"color": "red", "category": "sneaker"}
TABS = {"generate": ["shoes", "stylegan"], "sketch": ["sketch2shoe"], "translate": ["sneaker2boot"], "combine": ["stylegan"],
        "edit": ["stylegan", "shoes", "spade"], "pattern": ["pattern"]}


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, data: bytes, kind: str = "image/png") -> dict:
    return {"name": name, "data": f"data:{kind};base64," + base64.b64encode(data).decode()}


def photo(seed: int = 0, size=(40, 28)) -> bytes:
    return png_bytes(Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size[::-1], 3), dtype=np.uint8)))


def decoded(url: str) -> bytes:
    return base64.b64decode(url.split(",", 1)[1])


def post(web, action: str, settings: dict) -> dict:
    response = web.post(f"/api/{action}", json=settings)
    assert response.status_code == 200, response.text
    return response.json()


def run_command(command: str, workdir: Path, files: dict[str, bytes], capsys) -> None:
    """Runs a printed shoes-client command in-process in `workdir`, with the uploads it names written there."""
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    words = shlex.split(command)
    assert words[0] == "shoes-client"
    assert shoes_client(words[1:]) == 0, capsys.readouterr().err


def run_python(command: str, workdir: Path, files: dict[str, bytes]) -> None:
    """Runs a printed ``python - <<'EOF' ... EOF`` recipe with this Python in `workdir`."""
    for name, data in files.items():
        (workdir / name).write_bytes(data)
    header, script = command.split("\n", 1)
    assert header == "python - <<'EOF'" and script.endswith("\nEOF")
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-"], input=script[: -len("EOF")], text=True, cwd=workdir, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_each_tab_lists_the_served_models_that_can_do_it(web):
    state = web.get("/api/state").json()
    assert state["server"]["up"] and state["missing"] == {}
    assert state["tabs"] == TABS
    assert state["edit"]["redesign"] == [{"model": "spade", "segmenters": ["parts"]}]
    assert [d["space"] for e in state["edit"]["latent"] for d in e["directions"]] == ["w", "z"]
    assert state["models"]["stylegan"]["num_ws"] > 1 and state["models"]["sneaker2boot"]["domains"] == ["sneaker", "boot"]
    assert state["models"]["shoes"]["labels"] == {"category": ["sandal", "sneaker"], "color": ["black", "blue", "red"]}
    assert web.get("/").text.startswith("<!doctype html>") and "studio.js" in web.get("/").text
    assert "function run(" in web.get("/static/studio.js").text


@pytest.mark.parametrize("rest", [False, True], ids=["grpc", "rest"])
def test_a_generated_grid_and_its_printed_command_give_the_same_png_bytes(make_studio, rest, tmp_path, monkeypatch, capsys):
    from starlette.testclient import TestClient

    from serving.studio.app import create_app

    with TestClient(create_app(make_studio(rest=rest))) as web:
        answer = post(web, "generate", {"model": "shoes", "labels": RED_SNEAKER, "seed": 5, "count": 4, "truncation": 1.5})
    assert answer["columns"] == 2 and [i["caption"] for i in answer["images"]] == ["seed 5", "seed 6", "seed 7", "seed 8"]
    assert ("--rest" in answer["command"]) == rest and "--truncation 1.5" in answer["command"]
    monkeypatch.chdir(tmp_path)
    run_command(answer["command"], tmp_path, {}, capsys)
    written = sorted((tmp_path / "studio" / "0001_generate").glob("*.png"))
    assert [path.name for path in written] == [f"red_sneaker_seed{seed:04d}.png" for seed in range(5, 9)]
    assert [path.read_bytes() for path in written] == [decoded(image["url"]) for image in answer["images"]]
    sheet = Image.open(io.BytesIO(decoded(answer["download"]["url"])))
    assert sheet.width > sheet.height  # the 2x2 contact sheet, its caption column beside it


CASES = {
    "sketch": ({"sketch": upload("sketch-1.png", photo(1)), "drawn": True}, "0001_shoe.png", 0),
    "translate-mixed": ({"image": upload("sneaker.png", photo(2)), "language": "mixed", "alpha": 0.25}, "0001_translate.png", 0),
    "translate-back": ({"image": upload("sneaker.png", photo(2)), "language": "a"}, "0001_translate.png", 0),
    "combine-seeds": ({"crossover": 2, "truncation": 0.7, "first": {"seed": 3, "labels": RED_SNEAKER},
                       "second": {"seed": 9, "labels": {"color": "blue", "category": "ankle_boot"}}}, "0001_combine.png", 2),
    "redesign": ({"photo": upload("boot.png", photo(3)), "edits": {"heel": 2, "shaft": -1}, "seed": 4}, "0001_redesign/shoe.png", 2),
    "pattern": ({"pattern": upload("bag.png", photo(4)), "labels": {"category": "sneaker"}, "seed": 2, "count": 2},
                "0001_pattern/sneaker_seed0003.png", 1),
}


@pytest.mark.parametrize("case", CASES)
def test_every_action_answers_images_and_its_shoes_client_command_remakes_them(make_studio, case, tmp_path, monkeypatch, capsys):
    from starlette.testclient import TestClient

    from serving.studio.app import create_app

    settings, written, index = CASES[case]
    action = case.split("-")[0]
    with TestClient(create_app(make_studio())) as web:
        answer = post(web, action, settings)
    uploads = {field["name"]: decoded(field["data"]) for field in settings.values() if isinstance(field, dict) and "data" in field}
    assert answer["command"].startswith("shoes-client --server 127.0.0.1:")
    assert [item["name"] for item in answer["inputs"]] == (["sketch-1.png"] if case == "sketch" else [])
    monkeypatch.chdir(tmp_path)
    run_command(answer["command"], tmp_path, uploads, capsys)
    assert (tmp_path / "studio" / written).read_bytes() == decoded(answer["images"][index]["url"])


@pytest.mark.parametrize("case", ["edit-z", "edit-w", "combine-photo"])
def test_edits_and_photo_combines_print_a_thin_client_recipe_that_remakes_them(make_studio, case, tmp_path):
    from starlette.testclient import TestClient

    from serving.studio.app import create_app

    files = {}
    if case == "combine-photo":
        files = {"mine.png": photo(5)}
        action, written = "combine", "0001_combine.png"
        settings = {"crossover": 1, "first": {"photo": upload("mine.png", files["mine.png"])}, "second": {"seed": 4, "labels": RED_SNEAKER}}
    else:
        action, written = "edit", "0001_edit.png"
        settings = {"model": "shoes" if case == "edit-z" else "stylegan", "seed": 7, "strength": -2.0, "labels": RED_SNEAKER, "truncation": 0.8}
    with TestClient(create_app(make_studio())) as web:
        answer = post(web, action, settings)
    assert len(answer["images"]) == 2 and answer["command"].startswith("python - <<'EOF'")
    run_python(answer["command"], tmp_path, files)
    assert (tmp_path / "studio" / written).read_bytes() == decoded(answer["images"][-1]["url"])
    if case.startswith("edit"):
        assert answer["images"][0]["url"] != answer["images"][1]["url"]  # the direction moved the shoe


def test_a_setting_out_of_range_is_400_and_says_what_was_received(web):
    cases = [
        ("generate", {"model": "shoes", "labels": {"color": "mauve", "category": "sneaker"}}, "color must be one of black, blue, red. Received: color='mauve'"),
        ("generate", {"model": "shoes", "count": 99}, "count must be a whole number from 1 to 16. Received: count=99"),
        ("translate", {"image": upload("s.png", photo()), "language": "klingon"}, "language must be one of a, b, mixed. Received: language='klingon'"),
        ("combine", {"crossover": 99, "first": {"seed": 1}, "second": {"seed": 2}}, "crossover must be a whole number from 0 to"),
        ("redesign", {"photo": upload("p.png", photo()), "edits": {"toe_cap": 2}}, "edits must map part names (sole, heel, upper, shaft, opening)"),
        ("translate", {}, "Choose the sneaker first"),
    ]
    for action, settings, message in cases:
        response = web.post(f"/api/{action}", json=settings)
        assert response.status_code == 400 and message in response.json()["error"], (action, response.json())
    missing = web.post("/api/generate", json={"model": "nope"})
    assert missing.status_code == 404 and "The model 'nope' is not served" in missing.json()["error"]
    assert web.post("/api/fly", json={}).status_code == 404


def test_an_oversize_upload_is_413_before_it_is_decoded(make_studio):
    from starlette.testclient import TestClient

    from serving.studio.app import create_app

    with TestClient(create_app(make_studio(max_upload_mb=0.01))) as web:
        big = web.post("/api/sketch", json={"sketch": upload("huge.png", b"not even an image" * 1000)})
        assert big.status_code == 413
        assert big.json()["error"] == ("The sketch huge.png is 0.0162 MB; the studio takes images up to 0.01 MB "
                                       "(shoes-studio --max-upload-mb). Choose a smaller file.")
        body = web.post("/api/sketch", content=b"{" + b" " * 1_200_000 + b"}", headers={"content-type": "application/json"})
        assert body.status_code == 413 and "--max-upload-mb" in body.json()["error"]


def test_server_errors_reach_the_page_as_their_code_and_message_and_nothing_else(web, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ServingError("INVALID_ARGUMENT", "seed must be >= 0")

    monkeypatch.setattr(ShoesClient, "generate", refuse)
    response = web.post("/api/generate", json={"model": "shoes"})
    assert response.status_code == 400 and response.json() == {"error": "INVALID_ARGUMENT: seed must be >= 0", "code": "INVALID_ARGUMENT"}

    def crash(self, *args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(ShoesClient, "generate", crash)
    response = web.post("/api/generate", json={"model": "shoes"})
    assert response.status_code == 500 and response.json()["error"] == "The studio failed: KeyError: 'boom'"
    assert "Traceback" not in response.text


def test_a_server_that_is_down_is_said_and_actions_answer_503(tmp_path):
    import socket

    from starlette.testclient import TestClient

    from serving.studio.actions import Target
    from serving.studio.app import create_app
    from serving.studio.backend import Studio

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with TestClient(create_app(Studio(Target(server=f"127.0.0.1:{port}"), ["shoes"], timeout=2))) as web:
        state = web.get("/api/state").json()
        assert not state["server"]["up"] and state["server"]["message"].startswith("UNAVAILABLE")
        assert all(not models for models in state["tabs"].values())
        response = web.post("/api/generate", json={})
        assert response.status_code == 503 and "is not answering" in response.json()["error"]


def test_names_the_server_does_not_serve_are_listed_as_missing(make_studio):
    state = make_studio(models=["shoes", "nope"], model_base=None).state()
    assert list(state["models"]) == ["shoes"] and state["missing"]["nope"].startswith("NOT_FOUND")


@pytest.mark.slow
def test_a_new_version_and_a_model_that_appears_are_picked_up_without_a_restart(tmp_path):
    from serving.server.model_store import ModelEntry
    from serving.studio.actions import Target
    from serving.studio.backend import Studio
    from shoes_generator.export import export_generator
    from shoes_generator.labels import Vocabularies
    from tests.serving.conftest import LATENT, export_shoes_version, tiny_generator
    from tests.serving.helpers import running_server
    from tests.studio.conftest import export_translators

    base = tmp_path / "models"
    export_shoes_version(base, 1)
    (base / "sketch2shoe").mkdir()
    entries = [ModelEntry("shoes", base / "shoes"), ModelEntry("sketch2shoe", base / "sketch2shoe")]
    with running_server(entries, poll_seconds=0.2) as server:
        studio = Studio(Target(server=f"127.0.0.1:{server.port}"), model_base=base, refresh_seconds=0.2)
        try:
            first = studio.state()
            assert first["tabs"]["generate"] == ["shoes"] and first["tabs"]["sketch"] == []
            assert first["models"]["shoes"]["version"] == 1
            vocabulary = Vocabularies({"color": ["green", "red"], "category": ["sandal", "sneaker"]})
            export_generator(tiny_generator(1), LATENT, vocabulary, ("color", "category"), base / "shoes" / "2")
            export_translators(tmp_path / "more")
            (tmp_path / "more" / "sketch2shoe" / "1").rename(base / "sketch2shoe" / "1")
            for _ in range(100):
                state = studio.state()
                if state["models"].get("shoes", {}).get("version") == 2 and state["tabs"]["sketch"]:
                    break
                __import__("time").sleep(0.1)
            assert state["models"]["shoes"]["labels"]["color"] == ["green", "red"] and state["tabs"]["sketch"] == ["sketch2shoe"]
            result = studio.run("generate", {"model": "shoes", "labels": {"color": "green", "category": "sandal"}})
            assert len(result["images"]) == 1
        finally:
            studio.close()


def test_the_studio_process_imports_no_tensorflow_and_explains_itself():
    code = ("import sys; import serving.studio.app, serving.studio.cli, serving.studio.browser; "
            "from serving.studio.cli import build_parser; build_parser().format_help(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    helped = subprocess.run([sys.executable, "-m", "serving.studio.cli", "--help"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert helped.returncode == 0 and "--model-base DIR" in helped.stdout and "Pattern" in helped.stdout


def test_a_wrong_model_base_or_direction_is_a_usage_error(tmp_path, capsys):
    from serving.studio.cli import main

    assert main(["--model-base", str(tmp_path / "nowhere")]) == 2
    assert "--model-base must be a folder" in capsys.readouterr().err
    assert main(["--direction", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "direction.json" in error and "is missing" in error


def test_nothing_is_written_outside_the_answers(web, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    post(web, "translate", {"image": upload("s.png", photo()), "language": "b"})
    post(web, "pattern", {"pattern": upload("bag.png", photo(1)), "labels": {"category": "sandal"}})
    assert list(tmp_path.iterdir()) == []


def test_hostile_requests_are_refused_with_what_was_wrong_in_a_few_words(web):
    def refused(action, status, message, **request):
        response = web.post(f"/api/{action}", **request)
        answer = response.json()
        assert response.status_code == status and message in answer["error"], (action, response.status_code, answer)
        assert len(answer["error"]) < 400  # what was received is shown, cut: never megabytes echoed back
        return answer

    deep = b"[" * 100_000 + b"]" * 100_000
    refused("generate", 400, "nests too deeply", content=deep, headers={"content-type": "application/json"})
    refused("generate", 415, "Received: Content-Type 'text/plain'", content=b'{"seed": 1}', headers={"content-type": "text/plain"})
    refused("generate", 415, "takes settings as application/json", data={"seed": "1"})
    refused("generate", 400, "seed must be a whole number from 0 to 2147483646. Received: seed='--5'", json={"model": "shoes", "seed": "--5"})
    refused("generate", 400, "seed must be a whole number", json={"model": "shoes", "seed": "9" * 5000})
    refused("generate", 400, "count must be a whole number from 1 to 16. Received: count=-3", json={"model": "shoes", "count": -3})
    refused("generate", 400, "labels must map label names to values", json={"model": "shoes", "labels": "x" * 100_000})
    refused("generate", 400, "model must be a model's name. Received: model={'a': [1, 2]}", json={"model": {"a": [1, 2]}})
    refused("generate", 404, "is not served", json={"model": "n" * 10_000})
    refused("x" * 5000, 404, "No action 'xxx")
    refused("redesign", 400, "edits must map part names", json={"photo": upload("p.png", photo()), "edits": [["heel", 2]] * 10_000})


def test_a_body_without_a_length_is_refused_once_the_limit_arrives_not_read_whole():
    """Through uvicorn on a socket (Starlette's TestClient reads a body whole before the app sees it)."""
    import select
    import socket
    from urllib.parse import urlsplit

    from serving.studio.app import create_app
    from serving.studio.browser import serving

    studio = offline_studio(max_upload_mb=0.01)  # a body limit of about 1 MB
    chunk, sent, answer = b" " * (1 << 20), 0, b""
    with serving(create_app(studio)) as url, socket.create_connection(urlsplit(url)[1].split(":")) as connection:
        connection.settimeout(10)
        connection.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < 64 and not select.select([connection], [], [], 0.05)[0]:  # 64 MB at most, were it all read
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += 1
        except OSError:
            pass  # the studio answered and closed while this was still sending
        while not answer.endswith(b"}") and (part := connection.recv(1 << 16)):
            answer += part
    assert answer.startswith(b"HTTP/1.1 413") and b"--max-upload-mb" in answer
    assert sent < 16


def test_another_sites_name_for_this_machine_is_refused_when_the_studio_listens_on_loopback():
    from starlette.testclient import TestClient

    from serving.studio.app import create_app, loopback_hosts

    assert loopback_hosts("0.0.0.0") is None and loopback_hosts("gpu-box") is None
    assert "127.0.0.2" in loopback_hosts("127.0.0.2") and "localhost" in loopback_hosts("::1")
    app = create_app(offline_studio(), loopback_hosts("127.0.0.1"))
    with TestClient(app, base_url="http://127.0.0.1:8080") as web:
        assert web.get("/").status_code == 200 and web.get("/", headers={"host": "localhost:8080"}).status_code == 200
        rebound = web.post("/api/generate", json={}, headers={"host": "attacker.example:8080"})  # DNS rebinding
        assert rebound.status_code == 400 and web.get("/api/state", headers={"host": "attacker.example"}).status_code == 400


def test_an_upload_named_like_an_option_or_with_spaces_gets_a_command_that_runs(web, tmp_path, monkeypatch, capsys):
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo(6))).save(buffer, format="MPO", save_all=True, append_images=[Image.new("RGB", (8, 8))])
    answer = post(web, "translate", {"image": upload("--seed DSCF 0001.JPG", buffer.getvalue(), "image/jpeg"), "language": "b"})
    assert "translate 'seed DSCF 0001.JPG' -o" in answer["command"]  # not an option to shoes-client, quoted for the shell
    offered = {item["name"]: decoded(item["url"]) for item in answer["inputs"]}  # the name changed: the page offers the file
    assert offered == {"seed DSCF 0001.JPG": buffer.getvalue()} and answer["inputs"][0]["url"].startswith("data:image/jpeg;base64,")
    monkeypatch.chdir(tmp_path)
    run_command(answer["command"], tmp_path, offered, capsys)
    assert (tmp_path / "studio" / f"{answer['id']:04d}_translate.png").read_bytes() == decoded(answer["images"][0]["url"])


def test_every_answer_forbids_other_scripts_framing_and_sniffing():
    from starlette.testclient import TestClient

    from serving.studio.app import create_app

    with TestClient(create_app(offline_studio())) as web:
        for response in (web.get("/"), web.get("/static/studio.js"), web.post("/api/fly", json={}), web.get("/api/state")):
            policy = response.headers["content-security-policy"]
            assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "img-src 'self' data:" in policy
            assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in (REPO / "serving/studio/static/index.html").read_text()  # no inline script for the policy to block


def test_slow_model_calls_run_side_by_side_and_the_page_still_answers_meanwhile(monkeypatch):
    import threading
    import time
    import urllib.request

    from serving.studio.app import create_app
    from serving.studio.backend import Studio
    from serving.studio.browser import serving

    def slow_run(self, action, settings):
        time.sleep(1.0)  # a model call blocking its thread
        return {"action": action}

    monkeypatch.setattr(Studio, "run", slow_run)
    studio = offline_studio()
    answers = []

    def click(url):
        request = urllib.request.Request(f"{url}api/generate", b"{}", {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append(response.status)

    with serving(create_app(studio)) as url:
        started = time.perf_counter()
        clicks = [threading.Thread(target=click, args=(url,)) for _ in range(8)]
        for thread in clicks:
            thread.start()
        time.sleep(0.2)
        with urllib.request.urlopen(f"{url}static/studio.css", timeout=30) as response:
            assert response.status == 200 and time.perf_counter() - started < 0.9  # the event loop is not blocked
        for thread in clicks:
            thread.join()
    assert answers == [200] * 8 and time.perf_counter() - started < 4.0  # in the thread pool, not one after another


def test_a_refusal_from_a_new_version_makes_the_next_call_look_the_models_up_again(monkeypatch):
    from serving.studio import actions
    from serving.studio.actions import SettingsError
    from serving.studio.discovery import Catalog

    studio = offline_studio()

    def refuse(context, settings):  # version 2 dropped the colour black that version 1's labels offered
        raise ServingError("INVALID_ARGUMENT", "color: unknown value 'black'")

    monkeypatch.setitem(actions.ACTIONS, "generate", refuse)
    studio._catalog = Catalog(up=True)  # found a moment ago: not due for a refresh
    with pytest.raises(ServingError):
        studio.run("generate", {})
    assert studio._catalog is None  # the next call (and the page, told by the code) asks for the models again
    monkeypatch.setitem(actions.ACTIONS, "generate", lambda context, settings: (_ for _ in ()).throw(SettingsError("seed must be ...")))
    studio._catalog = found = Catalog(up=True)
    with pytest.raises(SettingsError):
        studio.run("generate", {})
    assert studio._catalog is found  # the studio's own check: nothing changed on the server


def test_a_port_out_of_range_is_a_usage_error_and_an_ipv6_page_address_is_bracketed(capsys):
    from serving.studio.cli import main, page_url

    for port in ("99999", "0", "http"):
        with pytest.raises(SystemExit) as exited:
            main(["--port", port])
        assert exited.value.code == 2 and f"expected a port from 1 to 65535. Received: '{port}'" in capsys.readouterr().err
    assert page_url("::1", 8080) == "http://[::1]:8080/" == page_url("[::1]", 8080) and page_url("127.0.0.1", 80) == "http://127.0.0.1:80/"


def test_the_page_never_parses_strings_as_html_or_code():
    """Model names, labels, captions and file names reach the page from the server and the designer: it sets them
    as text and properties only (checked here in the source; the policy above blocks inline scripts besides)."""
    import re

    script = (REPO / "serving/studio/static/studio.js").read_text()
    assert not re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(\s*[\"'`]", script)
