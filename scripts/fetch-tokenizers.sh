#!/usr/bin/env bash
# Re-derive resources/tokenizers/*.tiktoken from the llama-index-core wheel on the package index
# and check them against tiktoken's expected sha256 (see resources/tokenizers/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps llama-index-core==0.14.25 -d "$work"
unzip -j -o -q "$work"/llama_index_core-0.14.25-py3-none-any.whl 'llama_index/core/_static/tiktoken_cache/*' -d "$work/files"
cp "$work/files/fb374d419588a4632f3f557e76b4b70aebbca790" resources/tokenizers/o200k_base.tiktoken
cp "$work/files/9b5ad71b2ce5302211f9c61530b329a4922fc6a4" resources/tokenizers/cl100k_base.tiktoken
sha256sum -c <<SUMS
446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d  resources/tokenizers/o200k_base.tiktoken
223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7  resources/tokenizers/cl100k_base.tiktoken
SUMS
