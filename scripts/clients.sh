#!/usr/bin/env bash
# Installs the real client programs tests/clients drives, at the versions tests/clients pins: the
# npm packages of package-lock.json into a cache folder outside the repo named by the lock file's
# hash (a second run on one machine installs nothing), and LiteLLM (requirements.txt) into .venv.
# Prints the folder, which scripts/test.sh hands the tests as SWITCHBOARD_TEST_CLIENTS.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

lock=tests/clients/package-lock.json
cache="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/clients"
folder="$cache/$(sha256sum "$lock" | cut -d ' ' -f 1)"

install_packages() {
    if ! command -v npm >/dev/null 2>&1; then
        echo "The client tests need Node.js 20 or newer with npm (apt-get install nodejs npm)." >&2
        exit 1
    fi
    mkdir -p "$cache"
    local work
    work=$(mktemp -d "$cache/.installing.XXXXXX")
    cp tests/clients/package.json "$lock" "$work"/
    echo "Installing the pinned client programs into $folder (once per machine)..." >&2
    # Packages that ask for a newer node only warn, and run on 20 (tests/clients says which).
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >&2) || { rm -rf "$work"; exit 1; }
    # Moved in whole, so a run that stops half way leaves no half-installed folder.
    mv -T "$work" "$folder" 2>/dev/null || rm -rf "$work"  # or another run got there first
}

[ -d "$folder/node_modules" ] || install_packages
ensure_venv
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt
echo "$folder"
