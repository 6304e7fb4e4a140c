#!/usr/bin/env bash
# Sets up a fresh machine: the Fashion-MNIST files (Debian package, when root),
# a virtual environment in .venv and the package installed into it (train + studio extras);
# --test adds the test extra and, when root, Debian's chromium + chromium-driver for the
# studio's browser tests (nothing is downloaded by Selenium itself).
# Usage: bash scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

FMNIST_DIR=/usr/share/datasets/fashion-mnist
if [ ! -f "$FMNIST_DIR/train-images-idx3-ubyte.gz" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's dataset-fashion-mnist into $FMNIST_DIR" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) >&2 \
      || echo "setup: apt-get failed; the loader will fall back to the Keras cache or download" >&2
  else
    echo "setup: not root; Fashion-MNIST will come from ~/.keras/datasets or Keras's download" >&2
  fi
fi

if [ "${1:-}" = "--test" ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian's chromium and chromium-driver for the studio's browser tests" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >&2 \
      || echo "setup: apt-get failed; the studio's browser tests will be skipped" >&2
  else
    echo "setup: not root; without /usr/bin/chromium and /usr/bin/chromedriver the studio's browser tests are skipped" >&2
  fi
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
extras="[train,studio]"
if [ "${1:-}" = "--test" ]; then extras="[train,studio,test]"; fi
.venv/bin/python -m pip install -q --upgrade pip >&2
.venv/bin/python -m pip install -q -e ".${extras}" >&2
echo "setup: ready (.venv, $(.venv/bin/python --version))" >&2
