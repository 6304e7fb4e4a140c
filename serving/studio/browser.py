"""The studio in a real browser: Debian's headless Chromium driven by Selenium, for the browser tests,
``benchmarks/studio_latency.py`` and the main job's screenshots (``scripts/studio_screenshots.py``).

Selenium and Chromium are tools of the tests and the scripts, not of the studio: Selenium is imported when a
browser starts, and only the system's ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` are used (Selenium
Manager never runs, nothing is downloaded).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

from PIL import Image, ImageDraw

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TABS = ("generate", "sketch", "translate", "combine", "edit", "pattern")


def browser_missing() -> str | None:
    """Why no browser can run here (None when one can): a missing binary or Selenium."""
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not binary.is_file():
            return f"{binary} is missing (apt-get install {package}; scripts/setup.sh --test does it as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@contextlib.contextmanager
def serving(app, host: str = "127.0.0.1"):
    """Serves the ASGI `app` with uvicorn in a thread on a free port; yields its URL, stops it on exit."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind((host, 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="studio-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium(width: int = 1280, height: int = 1000):
    """A headless Chromium WebDriver on Debian's binaries (call ``.quit()`` when done)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    missing = browser_missing()
    if missing:
        raise RuntimeError(f"No browser: {missing}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def sample_files(folder: str | Path) -> dict[str, Path]:
    """Pictures to upload, one per common format: ``sneaker`` (JPEG photo of a shoe), ``bag`` (WebP of a spotted
    bag, a pattern exemplar) and ``sketch`` (PNG, dark lines on white)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shoe = Image.new("RGB", (96, 64), "white")
    draw = ImageDraw.Draw(shoe)
    draw.polygon([(10, 46), (86, 46), (86, 36), (52, 28), (40, 10), (14, 10)], fill=(200, 40, 40))
    draw.rectangle([8, 46, 88, 54], fill=(60, 40, 30))
    bag = Image.new("RGB", (80, 80), (222, 184, 120))
    draw = ImageDraw.Draw(bag)
    for index in range(40):
        x, y = (index * 37) % 76, (index * 53) % 76
        draw.ellipse([x, y, x + 7, y + 6], fill=(60, 35, 20))
    sketch = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(sketch).line([(6, 48), (58, 48), (58, 38), (34, 30), (26, 10), (8, 10), (6, 48)], fill="black", width=2)
    files = {"sneaker": folder / "sneaker.jpg", "bag": folder / "bag.webp", "sketch": folder / "sketch.png"}
    shoe.save(files["sneaker"], quality=92)
    bag.save(files["bag"], quality=90)
    sketch.save(files["sketch"])
    return files


class StudioPage:
    """The studio's page in a WebDriver: select tabs, upload, click, wait for the image.

    Args:
        driver: a WebDriver (`chromium`).
        url: the studio's URL.
        timeout: seconds an action may take.
    """

    def __init__(self, driver, url: str, timeout: float = 60.0):
        self.driver, self.url, self.timeout = driver, url, timeout

    def css(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def wait(self, condition, what: str, timeout: float | None = None):
        """Polls `condition()` until it is truthy; returns it. TimeoutError naming `what` otherwise."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout or self.timeout} s for {what}")
            time.sleep(0.02)

    def open(self) -> "StudioPage":
        """Loads the page and waits until it knows the server's state (tabs shown, or the server named down)."""
        self.driver.get(self.url)
        self.wait(lambda: self.driver.execute_script("return document.querySelector('#server').className !== 'server'"), "the first /api/state")
        return self

    def tabs(self) -> list[str]:
        """The tabs shown."""
        return self.driver.execute_script("return [...document.querySelectorAll('nav button')].filter(b => !b.hidden).map(b => b.dataset.tab)")

    def select(self, tab: str) -> None:
        self.css(f"#tab-{tab}").click()

    def banner(self) -> str:
        return self.driver.execute_script("const b = document.querySelector('#banner'); return b.hidden ? '' : b.textContent")

    def upload(self, selector: str, path: str | Path) -> None:
        """Chooses the file `path` in the file input `selector` and waits until the page has read it."""
        reads = self.driver.execute_script("return window.studioReads()")
        self.css(selector).send_keys(str(Path(path).resolve()))
        self.wait(lambda: self.driver.execute_script("return window.studioReads()") > reads, f"{Path(path).name} read in {selector}")

    def timings(self) -> list[dict]:
        """``window.studioTimings``: one ``{action, ms, server_seconds, images}`` per finished action."""
        return self.driver.execute_script("return window.studioTimings")

    def click(self, selector: str) -> dict:
        """Clicks the button `selector` and waits for its action: returns its timing entry.

        Raises:
            RuntimeError: the page showed an error instead (its message).
        """
        done = len(self.timings())
        self.css(selector).click()
        return self.finished(done, selector)

    def finished(self, done: int, where: str) -> dict:
        """Waits until more than `done` actions finished (their timing) or an error shows; returns the timing."""
        script = ("const t = window.studioTimings; if (t.length > arguments[0]) return t[t.length - 1];"
                  "const e = document.querySelector('.panel:not([hidden]) .message.error'); return e ? {error: e.textContent} : null")
        result = self.wait(lambda: self.driver.execute_script(script, done), f"the result of {where}")
        if "error" in result:
            raise RuntimeError(f"{where}: {result['error']}")
        return result

    def error(self, scope: str) -> str:
        """The error message shown in `scope` (waits for it)."""
        return self.wait(lambda: self.driver.execute_script(
            "const e = document.querySelector(arguments[0] + ' .message.error'); return e && e.textContent", scope), f"an error in {scope}")

    def draw(self, points=((40, 200), (220, 200), (220, 150), (130, 120), (100, 40), (50, 40))) -> dict:
        """Draws one stroke through `points` (canvas pixels) with the mouse; the shoe follows when it ends."""
        from selenium.webdriver.common.action_chains import ActionChains

        canvas = self.css("#canvas")
        done = len(self.timings())
        box = canvas.size
        chain = ActionChains(self.driver, duration=10)
        offset = [(x * box["width"] / 256 - box["width"] / 2, y * box["height"] / 256 - box["height"] / 2) for x, y in points]
        chain.move_to_element_with_offset(canvas, *map(int, offset[0])).click_and_hold()
        for x, y in offset[1:]:
            chain.move_to_element_with_offset(canvas, int(x), int(y))
        chain.release().perform()
        return self.finished(done, "the sketch stroke")

    def images(self, scope: str) -> int:
        """How many result images `scope` shows, each loaded."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' .result img')].filter(i => i.complete && i.naturalWidth > 0).length", scope)

    def make(self, tab: str, files: dict[str, Path]) -> list[dict]:
        """Runs the main action(s) of `tab` with the `sample_files`; returns their timings."""
        self.select(tab)
        if tab == "sketch":
            return [self.draw()]
        if tab in ("translate", "pattern"):
            self.upload(f"#{tab} input[type=file]", files["sneaker" if tab == "translate" else "bag"])
        if tab != "edit":
            return [self.click(f"#{tab} .go")]
        timings = []
        if self.css("#edit form.latent").is_displayed():
            timings.append(self.click("#edit form.latent .go"))
        if self.css("#edit form.redesign").is_displayed():
            self.upload("#edit form.redesign input[type=file]", files["sneaker"])
            self.driver.execute_script(  # grow the part drawn last (shaft, when the model has one) by 3 pixels
                "const parts = [...document.querySelectorAll('#edit .parts input')];"
                "const part = parts.find(p => p.name === 'part:shaft') || parts[parts.length - 1];"
                "if (part) { part.value = 3; part.dispatchEvent(new Event('input')); }")
            timings.append(self.click("#edit form.redesign .go"))
        return timings

    def screenshot(self, path: str | Path) -> Path:
        """A PNG of the whole page (the window grown to its height)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        width = self.driver.get_window_size()["width"]
        self.driver.set_window_size(width, min(max(height + 140, 600), 4000))
        self.driver.save_screenshot(str(path))
        return path
