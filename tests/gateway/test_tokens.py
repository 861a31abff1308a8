from __future__ import annotations

import hashlib
import shutil
import threading
from pathlib import Path

import pytest
import tiktoken
from tiktoken.load import load_tiktoken_bpe

from gateway.core.chat import ChatRequest, ImagePart, Message, TextPart, Tool
from gateway.pipeline import tokens
from gateway.pipeline.tokens import count_request, count_text, encoding, encoding_for, resources_dir

SAMPLE = "Hello, wörld! 🌍 def f(x):\n    return x ** 2  # <|endoftext|> 12345 'll've"


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_bundled_files_are_the_known_ones(name: str) -> None:
    path = resources_dir() / "tokenizers" / f"{name}.tiktoken"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tokens._ENCODINGS[name][0]


@pytest.mark.parametrize(
    ("name", "cache_name"),
    [
        ("o200k_base", "fb374d419588a4632f3f557e76b4b70aebbca790"),
        ("cl100k_base", "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"),
    ],
)
def test_ids_equal_tiktokens_own_encoding(
    name: str, cache_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tiktoken's own route, fed from a cache folder so it never goes to the network.
    shutil.copy(resources_dir() / "tokenizers" / f"{name}.tiktoken", tmp_path / cache_name)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    theirs = tiktoken.get_encoding(name)
    ours = encoding(name)
    assert ours.encode(SAMPLE, allowed_special="all") == theirs.encode(SAMPLE, allowed_special="all")
    assert ours.n_vocab == theirs.n_vocab


def test_model_families() -> None:
    assert encoding_for("openai/gpt-4o-mini") == "o200k_base"
    assert encoding_for("gpt-4-turbo") == encoding_for("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_for("anthropic/claude-sonnet-4") == "o200k_base"


def test_counts() -> None:
    assert count_text("hello world", "gpt-4o") == 2
    request = ChatRequest(
        "gpt-4o",
        (Message("user", (TextPart("hello world"), ImagePart("image/png", "AAAA"))),),
        system=(TextPart("be brief"),),
        tools=(Tool("f", "does f", {"type": "object"}),),
    )
    assert count_request(request) > tokens.PER_IMAGE + count_text("hello world", "gpt-4o")


def test_a_burst_of_first_counts_loads_the_encoding_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []

    def load(path: str, expected_hash: str) -> dict[bytes, int]:
        loads.append(path)
        return load_tiktoken_bpe(path, expected_hash=expected_hash)

    tokens._loaded.cache_clear()
    monkeypatch.setattr(tokens, "load_tiktoken_bpe", load)
    counts: list[int] = []
    burst = [threading.Thread(target=lambda: counts.append(count_text("hello world", "gpt-4o"))) for _ in range(8)]
    for thread in burst:
        thread.start()
    for thread in burst:
        thread.join()
    tokens._loaded.cache_clear()  # the next test loads it as usual
    assert counts == [2] * 8
    assert len(loads) == 1
