"""Screenshots of every studio tab the served models offer, each after its main action, in headless Chromium.

    python scripts/studio_screenshots.py --server localhost:8500 --model-base outputs/models -o outputs/studio
    python scripts/studio_screenshots.py --model-base models --direction shoes=explore/height \\
        --sneaker my_sneaker.jpg --pattern leopard_bag.jpg --prefix studio_ -o docs/

Starts shoes-studio in this process (uvicorn in a thread) over the given server, opens it in Debian's Chromium
(Selenium, nothing downloaded), runs each shown tab's main action with the sample pictures (or the given ones)
and writes <prefix><tab>.png per tab into OUT. Prints JSON: the files, the tabs, each action's click-to-image ms.
Exits 1 with one line when no browser or no served model is there.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serving.studio.browser import StudioPage, browser_missing, chromium, sample_files, serving  # noqa: E402
from serving.studio.cli import build_studio  # noqa: E402
from serving.studio.cli import build_parser as studio_parser  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], parents=[studio_parser()], add_help=False,
                                     conflict_handler="resolve")
    parser.add_argument("-o", "--out", required=True, help="folder for the PNGs (created)")
    parser.add_argument("--prefix", default="", help="file name prefix, e.g. studio_ (default: none)")
    for name, what in (("sneaker", "a shoe photo (Translate, Redesign)"), ("pattern", "a pattern exemplar"), ("sketch", "a sketch")):
        parser.add_argument(f"--{name}", type=Path, help=f"{what} to upload instead of the drawn sample")
    parser.add_argument("--width", type=int, default=1280, help="window width in pixels (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    missing = browser_missing()
    if missing:
        print(f"studio_screenshots: error: no browser: {missing}", file=sys.stderr)
        return 1
    from serving.studio.app import create_app

    with tempfile.TemporaryDirectory() as scratch:
        files = sample_files(scratch)
        given = {"sneaker": args.sneaker, "bag": args.pattern, "sketch": args.sketch}
        files.update({key: path for key, path in given.items() if path})
        driver = chromium(width=args.width)
        try:
            with serving(create_app(build_studio(args))) as url:
                page = StudioPage(driver, url).open()
                tabs = page.tabs()
                if not tabs:
                    print(f"studio_screenshots: error: no tab to show ({page.banner() or 'no served model can be used'})", file=sys.stderr)
                    return 1
                shots, timings = {}, {}
                for tab in tabs:
                    timings[tab] = [round(t["ms"], 1) for t in page.make(tab, files)]
                    if tab == "sketch" and args.sketch:
                        done = len(page.timings())
                        page.upload("#sketch input[type=file]", args.sketch)
                        timings[tab].append(round(page.finished(done, "the uploaded sketch")["ms"], 1))
                    shots[tab] = str(page.screenshot(Path(args.out) / f"{args.prefix}{tab}.png"))
                    driver.set_window_size(args.width, 1000)
        finally:
            driver.quit()
    print(json.dumps({"tabs": tabs, "files": shots, "click_to_image_ms": timings}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
