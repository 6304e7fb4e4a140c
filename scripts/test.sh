#!/usr/bin/env bash
# Sets everything up and runs the whole test suite, slow end-to-end tests included.
# Extra arguments go to pytest (e.g. -m "not slow" for the quick ones only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" tests "$@"
