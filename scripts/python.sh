# Shared by run.sh and test.sh: find a Python 3.11+ and make .venv with it.

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return
        fi
    done
    echo "Switchboard needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)." >&2
    exit 1
}

ensure_venv() {
    [ -x .venv/bin/python ] && return
    local python
    python=$(find_python)
    if ! "$python" -m venv .venv 2>/dev/null; then
        # Debian and Ubuntu ship venv separately.
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            rm -rf .venv
            "$python" -m venv .venv
        else
            echo "Cannot create a virtual environment: install python3-venv (Debian/Ubuntu) and retry." >&2
            exit 1
        fi
    fi
}
