"""The studio ships: a wheel of the working tree holds the page's static files and the shoes-studio entry point,
and the studio extra pulls in no TensorFlow."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIG_OR_BUILT = shutil.ignore_patterns(".git", ".venv", "outputs", "runs", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")


@pytest.mark.slow
def test_a_wheel_holds_the_page_and_the_command(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(REPO, source, ignore=BIG_OR_BUILT)  # a copy: the build leaves nothing in the checkout
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "wheels"), str(source)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = zipfile.ZipFile(next((tmp_path / "wheels").glob("shoes_generator-*.whl")))
    names = set(wheel.namelist())
    assert {f"serving/studio/static/{name}" for name in ("index.html", "studio.css", "studio.js")} <= names
    entry_points = wheel.read(next(name for name in names if name.endswith("entry_points.txt"))).decode()
    assert "shoes-studio = serving.studio.cli:main" in entry_points
    metadata = wheel.read(next(name for name in names if name.endswith("METADATA"))).decode()
    studio = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:") and "extra == \"studio\"" in line]
    assert any(line.startswith("Requires-Dist: starlette==") for line in studio) and any("uvicorn==" in line for line in studio)
    assert not [line for line in studio if "tensorflow" in line or "keras" in line]
