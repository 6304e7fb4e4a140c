"""Hostile entries in a source folder, for every `shoes-data` command that reads one.

Symlink loops, dangling links and FIFOs named like images are skipped and
counted (never opened, never a hang or a traceback); renaming is idempotent for
names holding newlines; a huge but tiny-on-disk PNG is skipped (over
``--max-pixels``) or decoded reduced, in bounded memory.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from data_tools.cli import build_parser
from data_tools.dominant_color import original_stem
from shoes_generator.imaging.colors import REFERENCE_RGB
from tests.harness import shoe_image, write_image

ROOT = Path(__file__).resolve().parents[2]
HANG_SECONDS = 20


def commands(src: Path, out: Path) -> dict[str, list]:
    """Every command that reads a source folder, with arguments that keep it fast."""
    return {
        "flatten": ["flatten", src, out / "flat"],
        "flatten --no-check": ["flatten", src, out / "flat", "--no-check"],
        "resize-pad": ["resize-pad", src, out / "padded", "--size", "8"],
        "dominant-color": ["dominant-color", src, "--manifest", out / "manifest.csv"],
        "stats": ["stats", src, "--out", out / "stats"],
        "downsample": ["downsample", src, out / "small", "-s", "8"],
        "edges": ["edges", src, out / "edges"],
        "masks": ["masks", src, out / "masks"],
        "to-tfrecords": ["to-tfrecords", src, out / "tfr"],
    }


COMMANDS = list(commands(Path("src"), Path("out")))


def make_hostile(path: Path, kind: str) -> None:
    """A non-image entry named like an image: a FIFO, a symlink loop or a dangling symlink."""
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "loop":
        path.symlink_to(path.name)  # points at itself: ELOOP, and Path.resolve() raised RuntimeError
    else:
        path.symlink_to("nowhere.png")


def run_guarded(cli, argv: list, fifo: Path) -> tuple[int, dict | None, str]:
    """Runs `cli(argv)` in a thread; fails when it is still running after HANG_SECONDS.

    A command stuck opening `fifo` is released afterwards (a writer that opens
    and closes at once gives it end-of-file), so a failing test ends too.
    """
    result: dict = {}

    def target():
        try:
            result["out"] = cli(argv)
        except BaseException as error:  # noqa: BLE001 - reported below
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(HANG_SECONDS)
    hung = thread.is_alive()
    deadline = time.monotonic() + 60
    while thread.is_alive() and time.monotonic() < deadline:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        thread.join(0.2)
    assert not hung, f"`shoes-data {argv[0]}` hung for {HANG_SECONDS} s on {fifo.name}"
    if "error" in result:
        raise result["error"]
    return result["out"]


@pytest.mark.parametrize("kind", ["fifo", "loop", "dangling"])
@pytest.mark.parametrize("command", COMMANDS)
def test_non_regular_files_are_skipped_and_counted(cli, tmp_path, command, kind):
    src = tmp_path / "shoes"
    write_image(src / "a.png", shoe_image(16, REFERENCE_RGB["red"]))
    write_image(src / "sub" / "b.jpg", shoe_image(16, REFERENCE_RGB["blue"]))
    hostile = src / "sub" / "pipe.png"
    make_hostile(hostile, kind)
    argv = commands(src, tmp_path / "out")[command]
    code, summary, err = run_guarded(cli, argv, hostile)
    assert code == 0, err
    assert summary["skipped"] == 1, summary
    (skipped,) = summary["skipped_files"]
    assert skipped["path"].endswith("pipe.png")
    if kind == "fifo":
        assert "not a regular file" in skipped["reason"]
    if command == "flatten --no-check":
        assert sorted(p.name for p in (tmp_path / "out" / "flat").iterdir()) == ["a.png", "flatten_mapping.csv", "sub_b.jpg"]


def test_original_stem_reads_names_with_newlines():
    assert original_stem("red_new\nline_0") == "new\nline"
    assert original_stem("red_shoe_3\n") == "red_shoe_3\n"  # not of the form <color>_<stem>_<n>
    assert original_stem("red_shoe_3") == "shoe"


def test_rename_twice_keeps_names_with_newlines(cli, tmp_path):
    src = tmp_path / "shoes"
    write_image(src / "new\nline.png", shoe_image(16, REFERENCE_RGB["red"]))
    write_image(src / "trailing_0\n.png", shoe_image(16, REFERENCE_RGB["red"]))
    code, first, err = cli(["dominant-color", src, "--rename"])
    assert code == 0 and first["renamed"] == 2, err
    names = sorted(path.name for path in src.glob("*.png"))
    assert names == ["red_new\nline_0.png", "red_trailing_0\n_0.png"]
    code, again, err = cli(["dominant-color", src, "--rename"])
    assert code == 0 and again["renamed"] == 0, err
    assert sorted(path.name for path in src.glob("*.png")) == names


def write_bilevel_png(path: Path, width: int, height: int) -> Path:
    """A 1-bit greyscale PNG, white with a black box in the middle, written row by row.

    Never held decoded here: 13000x13000 is ~37 KB on disk (169 megapixels).
    """
    row_bytes = (width + 7) // 8
    white = b"\x00" + b"\xff" * row_bytes  # filter byte 0, then the row
    box = bytearray(white)
    box[1 + row_bytes // 4 : 1 + 3 * row_bytes // 4] = bytes(3 * row_bytes // 4 - row_bytes // 4)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(box if height // 4 <= y < 3 * height // 4 else white) for y in range(height))
    data += compressor.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))
    return path


# Runs shoes-data commands one after another in this fresh process and records
# its peak resident memory (ru_maxrss, KiB on Linux) and the time after each.
MEASURE = """
import json, resource, sys, time
from data_tools.cli import main
runs = []
for argv in json.loads(sys.argv[1]):
    start = time.monotonic()
    code = main(argv)
    runs.append({"code": code, "seconds": time.monotonic() - start,
                 "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
with open(sys.argv[2], "w") as handle:
    json.dump(runs, handle)
"""
MiB = 2**20
# The bound the docs state: decoding takes at most 4 bytes per decoded pixel
# (Pillow's storage; 1 byte for 1-bit and grey images) plus a fixed working set.
WORKING_SET = 96 * MiB


@pytest.mark.parametrize("command", ["dominant-color", "resize-pad"])
def test_huge_png_is_skipped_or_reduced_in_bounded_memory(tmp_path, command):
    tiny, huge, large = tmp_path / "tiny", tmp_path / "huge", tmp_path / "large"
    write_image(tiny / "a.png", shoe_image(16))
    write_bilevel_png(huge / "huge.png", 13000, 13000)  # 169 Mpx: over the default cap
    write_bilevel_png(large / "large.png", 6000, 6000)  # 36 Mpx: under it, decoded then reduced
    from shoes_generator.imaging.io import DEFAULT_MAX_PIXELS

    assert 13000 * 13000 > DEFAULT_MAX_PIXELS > 6000 * 6000
    assert (huge / "huge.png").stat().st_size < 64 * 1024

    def argv(src: Path) -> list[str]:
        summary = str(tmp_path / f"{src.name}.json")
        if command == "dominant-color":
            return ["dominant-color", str(src), "--summary", summary]
        return ["resize-pad", str(src), str(tmp_path / f"{src.name}-out"), "--size", "64", "--summary", summary]

    runs_file = tmp_path / "runs.json"
    process = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps([argv(tiny), argv(huge), argv(large)]), str(runs_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    warm, on_huge, on_large = json.loads(runs_file.read_text())
    summaries = {path.stem: json.loads(path.read_text()) for path in tmp_path.glob("*.json") if path.stem in ("huge", "large")}

    # The 169-megapixel PNG: skipped with a message naming its size and the cap, counted; nothing decoded.
    if command == "dominant-color":
        assert on_huge["code"] == 2  # all (one) files skipped: an error, as for any folder without a readable image
        assert "13000x13000" in process.stderr and "exceeds the limit" in process.stderr
    else:
        assert on_huge["code"] == 0 and summaries["huge"]["skipped"] == 1
        (skipped,) = summaries["huge"]["skipped_files"]
        assert skipped["path"] == "huge.png" and "13000x13000" in skipped["reason"] and "exceeds the limit" in skipped["reason"]
    assert on_huge["seconds"] < 20
    assert on_huge["peak"] - warm["peak"] < WORKING_SET, (warm, on_huge)

    # The 36-megapixel PNG: processed, from a reduced copy, within 1 byte per pixel (1-bit) + the working set.
    assert on_large["code"] == 0 and summaries["large"]["skipped"] == 0
    if command == "dominant-color":
        assert summaries["large"]["counts"]["black"] == 1
    assert on_large["seconds"] < 20
    assert on_large["peak"] - warm["peak"] < 6000 * 6000 + WORKING_SET, (warm, on_large)


@pytest.mark.parametrize("command", [None, *dict.fromkeys(name.split()[0] for name in COMMANDS)])
def test_help_mentions_skipped_non_regular_files_and_the_pixel_cap(command):
    parser = build_parser()
    if command is None:
        text = parser.format_help()
    else:
        subparsers = next(action for action in parser._actions if action.choices and command in action.choices)
        text = subparsers.choices[command].format_help()
    text = " ".join(text.split())
    assert "regular file" in text
    decodes = command in (None, "flatten", "resize-pad", "dominant-color", "downsample", "edges", "masks")
    assert ("--max-pixels" in text) == decodes
