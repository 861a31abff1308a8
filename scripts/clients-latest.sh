#!/usr/bin/env bash
# Runs tests/clients against the NEWEST releases of the clients it pins, so a client update that
# breaks Switchboard is seen the day it ships: the npm packages of tests/clients/package.json and
# LiteLLM go into a temporary folder (LiteLLM in a venv of its own there), the versions are
# printed, and the same tests run against them. Extra arguments go to pytest (e.g. -k codex).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

ensure_venv
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
mapfile -t packages < <(node -p "Object.keys(require('./tests/clients/package.json').dependencies).map(p => p + '@latest').join('\n')")
echo "Installing the newest ${packages[*]} and litellm into $folder..." >&2
(cd "$folder" && npm init --yes >/dev/null && npm install --no-audit --no-fund --loglevel=error "${packages[@]}" >&2)
"$(find_python)" -m venv "$folder/python"
"$folder/python/bin/pip" install --quiet --disable-pip-version-check --upgrade "$(sed 's/[=<>~!].*//' tests/clients/requirements.txt)"

echo "Client versions under test:"
for package in "${packages[@]%@latest}"; do
    echo "  $package $(node -p "require('$folder/node_modules/$package/package.json').version")"
done
"$folder/python/bin/python" -c "import importlib.metadata as m; print('  litellm', m.version('litellm'))"
SWITCHBOARD_TEST_CLIENTS="$folder" .venv/bin/python -m pytest -p no:cacheprovider tests/clients/test_real_clients.py "$@"
