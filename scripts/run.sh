#!/usr/bin/env bash
# Install Switchboard into .venv (the first time, or when it changed) and start it.
# Today this starts the headless gateway; extra arguments go to it (e.g. --port 0, --home DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/python -m gateway "$@"
