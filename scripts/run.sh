#!/usr/bin/env bash
# Install Switchboard into .venv (the first time, or when it changed) and start it: the tray app
# where there is a display, the headless gateway where there is none. Extra arguments go to it
# (e.g. --port 0, --home DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    # What Qt needs on X11/Wayland (shared/platform.md §1); nothing without a display.
    ensure_debian_packages libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 libxkbcommon0 \
        libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-shape0
fi
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/python -m app "$@"
