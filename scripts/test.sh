#!/usr/bin/env bash
# Install everything the tests need into .venv, then run the whole suite:
# lint, format check, type check, and pytest (unit, end-to-end, a smoke run of the benchmark).
# Extra arguments go to pytest (e.g. -k guard).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
# Qt, which pytest-qt loads, needs these libraries even offscreen (shared/platform.md §1); the
# packaging tests sign with gpg, build the Windows installer with NSIS and sign it with osslsigncode;
# team mode's tests start real PostgreSQL and Redis servers on loopback (tests/servers), never the system's,
# and an nginx running deploy/nginx.conf in front of two gateways.
ensure_debian_packages libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxkbcommon0 gnupg nsis osslsigncode \
    postgresql redis-server nginx
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
# The real client programs tests/clients drives, at their pinned versions (installed once per machine).
SWITCHBOARD_TEST_CLIENTS=$(bash scripts/clients.sh)
export SWITCHBOARD_TEST_CLIENTS
bash scripts/llamacpp-wheel.sh  # a real local server for tests/clients (built once per machine)
.venv/bin/ruff check gateway app tests installers
.venv/bin/ruff format --check gateway app tests installers
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
