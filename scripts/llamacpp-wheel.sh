#!/usr/bin/env bash
# Installs llama-cpp-python's OpenAI-compatible server into .venv, for the test that puts a real
# local server behind the gateway (tests/clients/test_llamacpp_server.py). It is a test tool, not
# a dependency of Switchboard. PyPI has it only as source and building it takes minutes, so the
# wheel is built once per machine into a cache outside the repo, and later runs install that.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

version=0.3.36
gguf_version=0.19.0  # the test writes its tiny model with it; the release llama.cpp vendors
# The smallest build that serves a model: CPU only, no BLAS, no multimodal library (a third of
# the compiling), none of llama.cpp's programs. Not -march=native, so the cached wheel runs on
# any x86-64 with AVX2, not only the CPU that built it.
build_flags="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DLLAVA_BUILD=OFF \
-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
-DLLAMA_OPENSSL=OFF"
# Keyed by the flags too: a wheel built another way is not reused.
cache="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/wheels/llama-cpp-python-$(printf '%s' "$build_flags" | cksum | cut -d' ' -f1)"

build_wheel() {
    ensure_debian_packages cmake build-essential
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "Building llama-cpp-python $version once for this machine (minutes)..." >&2
    # --no-binary: always our build, even should PyPI one day carry a wheel built otherwise.
    CMAKE_ARGS="$build_flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
        .venv/bin/pip wheel --quiet --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
        "llama-cpp-python==$version" -w "$work"
    mkdir -p "$cache"
    # Moved in whole, so a run stopped half way leaves no broken wheel in the cache.
    mv "$work"/llama_cpp_python-"$version"-*.whl "$cache"/
}

cached_wheel() {
    compgen -G "$cache/llama_cpp_python-$version-*.whl" | head -n 1
}

ensure_venv
[ -n "$(cached_wheel)" ] || build_wheel
.venv/bin/pip install --quiet --disable-pip-version-check "$(cached_wheel)[server]" "gguf==$gguf_version"
