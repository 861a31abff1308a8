# Shared by run.sh and test.sh: system packages, a Python 3.11+, and .venv made with it.

# Installs the Debian packages named, when missing, on a Debian-family machine run as root.
# Elsewhere it names them, so a person can install them.
ensure_debian_packages() {
    local missing=()
    command -v dpkg >/dev/null 2>&1 || return 0
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "Missing system packages: ${missing[*]} (install them with apt-get as root)." >&2
        exit 1
    fi
}

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
        rm -rf .venv
        ensure_debian_packages python3-venv  # Debian and Ubuntu ship venv separately
        "$python" -m venv .venv
    fi
}
