"""Click-to-image time of the studio in a real browser, beside the served model's own latency; prints JSON.

    python benchmarks/studio_latency.py --server localhost:8500 --model shoes --model sneaker2boot

For Generate (one shoe, and a 4x4 grid) and Translate (the mixed design language, alpha 0.5): 20 clicks each in
headless Chromium (after 2 unmeasured ones), from the click to the result images decoded on the page
(``window.studioTimings``), and the same requests sent 20 times straight through the thin client (the model's
own latency as a client sees it); p50 and p90 of each. The studio runs in this process (uvicorn in a thread),
the models wherever --server / --rest point. Its first Generate and Translate models are used, or
--generate-model / --translate-model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serving.studio.browser import StudioPage, browser_missing, chromium, sample_files, serving  # noqa: E402
from serving.studio.cli import build_parser as studio_parser  # noqa: E402
from serving.studio.cli import build_studio  # noqa: E402

WARMUP = 2


def percentiles(values: list[float]) -> dict:
    return {"p50": round(float(np.percentile(values, 50)), 1), "p90": round(float(np.percentile(values, 90)), 1), "n": len(values)}


def clicks(page: StudioPage, button: str, count: int, before=None) -> tuple[list[float], list[float]]:
    """Clicks `button` WARMUP + `count` times (`before(i)` first each time); the measured click-to-image and
    studio-server milliseconds."""
    page_ms, server_ms = [], []
    for index in range(WARMUP + count):
        if before:
            before(index)
        timing = page.click(button)
        if index >= WARMUP:
            page_ms.append(timing["ms"])
            server_ms.append(timing["server_seconds"] * 1000)
    return page_ms, server_ms


def client_calls(call, count: int) -> list[float]:
    """Milliseconds of WARMUP + `count` calls of `call(i)`, the warm-up ones left out."""
    times = []
    for index in range(WARMUP + count):
        started = time.perf_counter()
        call(index)
        times.append((time.perf_counter() - started) * 1000)
    return times[WARMUP:]


def set_value(page: StudioPage, selector: str, value) -> None:
    page.driver.execute_script("const e = document.querySelector(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('change'))",
                               selector, str(value))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[studio_parser()], add_help=False, conflict_handler="resolve")
    parser.add_argument("--clicks", type=int, default=20, help="measured clicks per action (default: %(default)s)")
    parser.add_argument("--generate-model", help="the Generate model (default: the tab's first)")
    parser.add_argument("--translate-model", help="the Translate model (default: the tab's first)")
    args = parser.parse_args(argv)
    if args.clicks < 1:
        parser.error(f"--clicks must be at least 1 (its p50 and p90 need a click). Received: {args.clicks}")
    missing = browser_missing()
    if missing:
        print(f"studio_latency: error: no browser: {missing}", file=sys.stderr)
        return 1
    from serving.studio.app import create_app

    studio = build_studio(args)
    tabs = studio.state()["tabs"]
    generator = args.generate_model or (tabs["generate"] or [None])[0]
    translator = args.translate_model or (tabs["translate"] or [None])[0]
    if not studio.state()["server"]["up"] or not (generator or translator):
        print(f"studio_latency: error: no Generate or Translate model at {' '.join(studio.target.flags())}", file=sys.stderr)
        return 1
    report = {"server": " ".join(studio.target.flags()), "clicks": args.clicks, "warmup_clicks": WARMUP,
              "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}}
    with tempfile.TemporaryDirectory() as scratch, serving(create_app(studio)) as url:
        files = sample_files(scratch)
        driver = chromium()
        try:
            page = StudioPage(driver, url).open()
            if generator:
                page.select("generate")
                set_value(page, "#generate select[name=model]", generator)
                labels = studio.catalog().models[generator].labels
                chosen = {name: values[0] for name, values in labels.items()}
                client = studio.client.for_model(generator)
                for count, key in ((1, "generate_1"), (16, "generate_4x4")):
                    set_value(page, "#generate select[name=count]", count)
                    page_ms, server_ms = clicks(page, "#generate .go", args.clicks,
                                                lambda i: set_value(page, "#generate input[name=seed]", i))
                    own = client_calls(lambda i: client.generate(count, seed=i, **chosen), args.clicks)
                    report[key] = {"model": generator, "shoes": count, "click_to_image_ms": percentiles(page_ms),
                                   "studio_backend_ms": percentiles(server_ms), "client_call_ms": percentiles(own)}
            if translator:
                page.select("translate")
                set_value(page, "#translate select[name=model]", translator)
                page.upload("#translate input[type=file]", files["sneaker"])
                page_ms, server_ms = clicks(page, "#translate .go", args.clicks)
                client = studio.client.for_model(translator)
                sneaker = files["sneaker"].read_bytes()
                own = client_calls(lambda i: client.translate(sneaker, alpha=0.5), args.clicks)
                report["translate"] = {"model": translator, "alpha": 0.5, "click_to_image_ms": percentiles(page_ms),
                                       "studio_backend_ms": percentiles(server_ms), "client_call_ms": percentiles(own)}
        finally:
            driver.quit()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
