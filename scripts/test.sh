#!/usr/bin/env bash
# Install everything the tests need into .venv, then run the whole suite:
# lint, type check, and pytest (unit, end-to-end, a smoke run of the benchmark).
# Extra arguments go to pytest (e.g. -k guard).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/python.sh
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
.venv/bin/ruff check gateway tests
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
