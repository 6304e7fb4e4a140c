"""The studio in a real browser (Debian's headless Chromium through Selenium) over shoes-serve with tiny models:
every tab's main action shows an image and lands in the history strip; an uploaded sketch draws its shoe; a
server that is down is said on the page, which keeps retrying and shows the tabs once it answers; an
oversize upload is refused with its message; a name the server does not serve is said."""

import shutil
import socket

import numpy as np
import pytest
from PIL import Image

from serving.studio.browser import TABS, StudioPage, browser_missing, chromium, sample_files, serving

pytestmark = [pytest.mark.slow, pytest.mark.skipif(browser_missing() is not None, reason=f"no browser: {browser_missing()}")]


@pytest.fixture(scope="module")
def driver():
    browser = chromium()
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return sample_files(tmp_path_factory.mktemp("uploads"))


def studio_url(studio_base, models_server, **options):
    """A context manager serving a studio app over the models; yields its URL."""
    from serving.studio.app import create_app
    from tests.studio.conftest import new_studio

    return serving(create_app(new_studio(studio_base, models_server, **options)))


def test_every_tab_makes_its_image_and_the_history_keeps_each_with_its_command(driver, studio_base, models_server, files):
    with studio_url(studio_base, models_server) as url:
        page = StudioPage(driver, url).open()
        assert page.tabs() == list(TABS)
        made = []
        for tab in TABS:
            for timing in page.make(tab, files):
                assert timing["images"] >= 1, (tab, timing)
                made.append(timing["action"])
            assert page.images(f"#{tab}") >= 1, tab
        assert made == ["generate", "sketch", "translate", "combine", "edit", "redesign", "pattern"]
        items = driver.execute_script("return [...document.querySelectorAll('#history li')].map(li => "
                                      "[li.dataset.action, li.querySelector('a.download').download, li.querySelector('pre').textContent])")
        assert [item[0] for item in items] == made[::-1]  # newest first
        assert all(name.endswith(".png") for _, name, _ in items)
        commands = {action: command for action, _, command in items}
        assert commands["generate"].startswith("shoes-client --server 127.0.0.1:") and "generate --label" in commands["generate"]
        assert "translate sneaker.jpg --alpha 0.5" in commands["translate"] and "pattern bag.webp --category" in commands["pattern"]
        assert commands["sketch"].endswith("translate sketch-1.png -o studio/0002_shoe.png")
        drawn = driver.execute_script("return [...document.querySelectorAll('#history li[data-action=sketch] .buttons a')].map(a => a.download)")
        assert drawn == ["0002_sketch.png", "sketch-1.png"]  # the drawn sketch is offered beside the shoe
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert severe == []


def test_an_uploaded_sketch_draws_its_shoe(driver, studio_base, models_server, files):
    with studio_url(studio_base, models_server) as url:
        page = StudioPage(driver, url).open()
        page.select("sketch")
        done = len(page.timings())
        page.upload("#sketch input[type=file]", files["sketch"])
        assert page.finished(done, "the uploaded sketch")["action"] == "sketch"
        assert driver.execute_script("return document.querySelector('#history pre').textContent").endswith("translate sketch.png -o studio/0001_shoe.png")


def test_the_page_says_the_server_is_down_and_picks_it_up_when_it_answers(driver, studio_base, tmp_path):
    from serving.server.app import ShoesServer
    from serving.server.model_store import entries_from_base
    from serving.studio.actions import Target
    from serving.studio.app import create_app
    from serving.studio.backend import Studio

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    studio = Studio(Target(server=f"127.0.0.1:{port}"), ["shoes", "stylegan"], timeout=2)
    with serving(create_app(studio)) as url:
        page = StudioPage(driver, url).open()
        banner = page.banner()
        assert f"The model server (--server 127.0.0.1:{port}) is not answering: UNAVAILABLE" in banner and "retries every 3 s" in banner
        assert page.tabs() == []
        shutil.copytree(studio_base[0] / "shoes", tmp_path / "shoes")
        server = ShoesServer(entries_from_base(tmp_path), port=port, rest_port=0, poll_seconds=0).start()
        try:
            page.wait(lambda: page.tabs() == ["generate"], "the generate tab after the server started", timeout=30)
            assert page.banner() == ""
            absent = driver.execute_script("const a = document.querySelector('#absent'); return a.hidden ? '' : a.textContent")
            assert absent.startswith("Not served (yet): stylegan.")
            assert page.click("#generate .go")["images"] == 16
        finally:
            server.stop(grace=1)
            studio.close()


def test_an_oversize_upload_is_refused_with_its_message(driver, studio_base, models_server, tmp_path):
    big = tmp_path / "big_sneaker.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (120, 120, 3), dtype=np.uint8)).save(big)
    with studio_url(studio_base, models_server, max_upload_mb=0.01) as url:
        page = StudioPage(driver, url).open()
        page.select("translate")
        page.upload("#translate input[type=file]", big)  # refused unread, said at once
        said = page.error("#translate")
        assert said.startswith("The sneaker big_sneaker.png is 0.0") and "takes images up to 0.01 MB (shoes-studio --max-upload-mb)" in said
        page.css("#translate .go").click()
        page.wait(lambda: driver.execute_script("return !document.querySelector('#translate .go').disabled"), "the click's answer")
        assert page.error("#translate") == said
        assert driver.execute_script("return document.querySelectorAll('#history li').length") == 0


def test_a_slow_call_shows_the_busy_indicator_and_disables_its_button(driver, studio_base, models_server, monkeypatch):
    import threading

    from serving.client import ShoesClient

    released = threading.Event()
    generate = ShoesClient.generate

    def slow(self, *args, **kwargs):
        released.wait(timeout=30)
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(ShoesClient, "generate", slow)
    with studio_url(studio_base, models_server) as url:
        page = StudioPage(driver, url).open()
        done = len(page.timings())
        page.css("#generate .go").click()
        state = page.wait(lambda: driver.execute_script(
            "const m = document.querySelector('#generate .message'); return m.classList.contains('busy') && "
            "[m.textContent, document.querySelector('#generate .go').disabled]"), "the busy indicator")
        assert state[0].startswith("Working") and state[1] is True
        released.set()
        assert page.finished(done, "the slow generate")["images"] == 16
        assert driver.execute_script("return document.querySelector('#generate .go').disabled") is False


def test_the_screenshot_script_and_the_latency_benchmark_run(studio_base, models_server, tmp_path, capsys):
    import importlib.util
    import json
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]

    def load(path):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    server = ["--server", f"127.0.0.1:{models_server.port}", "--model-base", str(studio_base[0])]
    shots = load(repo / "scripts" / "studio_screenshots.py")
    assert shots.main([*server, "--direction", str(studio_base[1][0]), "--prefix", "studio_", "-o", str(tmp_path)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["tabs"] == list(TABS) and sorted(p.name for p in tmp_path.glob("studio_*.png")) == sorted(f"studio_{t}.png" for t in TABS)
    bench = load(repo / "benchmarks" / "studio_latency.py")
    assert bench.main([*server, "--clicks", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["generate_1"]["model"] == "shoes" and report["translate"]["model"] == "sneaker2boot"
    assert report["generate_4x4"]["click_to_image_ms"]["n"] == 2 and report["generate_4x4"]["shoes"] == 16
