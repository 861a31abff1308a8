"""A real third-party local server behind the gateway: llama-cpp-python's OpenAI-compatible server,
reached the way the README says (``LLAMACPP_URL``), serving a tiny GGUF model this module writes.
Its weights are random: what is checked is the server's real HTTP behaviour through the gateway,
not what the model writes. ``scripts/llamacpp-wheel.sh`` installs the server (scripts/test.sh runs
it); elsewhere the module is skipped, but never in CI."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway import GatewayServer, load_settings
from gateway.store.secrets import MemorySecrets

_INSTALLED = all(importlib.util.find_spec(name) is not None for name in ("llama_cpp", "gguf"))
pytestmark = pytest.mark.skipif(
    not _INSTALLED and os.environ.get("CI") != "true",
    reason="llama-cpp-python is not installed: bash scripts/llamacpp-wheel.sh installs it (in CI this fails instead)",
)

MODEL = "llamacpp/tiny"
# Greedy: the same answer every run (a sampled one could end at its first token).
ASK = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8, "temperature": 0}
STARTUP_SECONDS = 30.0
# The other local servers the gateway looks for on their usual ports stay off, so what runs on
# the machine does not matter.
OTHERS_OFF = "".join(f"[providers.{p}]\nenabled = false\n" for p in ("ollama", "lmstudio", "vllm"))


def write_tiny_model(path: Path) -> None:
    """A llama-architecture GGUF with the least llama.cpp loads: the hyperparameters it requires,
    a SentencePiece vocabulary (its three special tokens, the 256 byte tokens it falls back to,
    some letters) and float32 weights, the output projection tied to the embeddings."""
    # Imported here, not at the top: without them the module is still collected, and skipped.
    import gguf
    import numpy

    n_embd, n_ff, n_layer = 64, 128, 2
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = [
        ("<unk>", gguf.TokenType.UNKNOWN),
        ("<s>", gguf.TokenType.CONTROL),
        ("</s>", gguf.TokenType.CONTROL),
        *((f"<0x{b:02X}>", gguf.TokenType.BYTE) for b in range(256)),
        *((piece, gguf.TokenType.NORMAL) for piece in ["▁", *letters, *(f"▁{c}" for c in letters)]),
    ]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(512)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(2)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_tokenizer_model("llama")
    writer.add_token_list([piece for piece, _ in vocab])
    writer.add_token_scores([0.0] * len(vocab))
    writer.add_token_types([int(kind) for _, kind in vocab])
    rng = numpy.random.default_rng(0)
    for name, shape in _tensor_shapes(len(vocab), n_embd, n_ff, n_layer):
        weights = numpy.ones(shape) if name.endswith("norm.weight") else rng.standard_normal(shape) * 0.02
        writer.add_tensor(name, weights.astype(numpy.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _tensor_shapes(n_vocab: int, n_embd: int, n_ff: int, n_layer: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Each tensor's name and numpy shape (ggml's dimensions reversed)."""
    yield "token_embd.weight", (n_vocab, n_embd)
    yield "output_norm.weight", (n_embd,)
    for i in range(n_layer):
        yield f"blk.{i}.attn_norm.weight", (n_embd,)
        for part in ("attn_q", "attn_k", "attn_v", "attn_output"):
            yield f"blk.{i}.{part}.weight", (n_embd, n_embd)
        yield f"blk.{i}.ffn_norm.weight", (n_embd,)
        yield f"blk.{i}.ffn_gate.weight", (n_ff, n_embd)
        yield f"blk.{i}.ffn_up.weight", (n_ff, n_embd)
        yield f"blk.{i}.ffn_down.weight", (n_embd, n_ff)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_listing(root: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"llama-cpp-python's server exited ({server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{root}/v1/models", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    pytest.fail(f"llama-cpp-python's server did not answer within {STARTUP_SECONDS:.0f} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def llamacpp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The root URL of a llama-cpp-python server serving the tiny model as ``tiny``, started once
    for the module."""
    folder = tmp_path_factory.mktemp("llamacpp")
    write_tiny_model(folder / "tiny.gguf")
    port, log = _free_port(), folder / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(folder / "tiny.gguf"),
                "--model_alias",
                "tiny",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "512",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    root = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listing(root, server, log)
        yield root
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
async def gateway(llamacpp: str, tmp_path: Path) -> AsyncIterator[GatewayServer]:
    config = tmp_path / "config.toml"
    config.write_text(OTHERS_OFF, encoding="utf-8")
    server = GatewayServer(
        load_settings(config, {"LLAMACPP_URL": llamacpp}, port=0), data_dir=tmp_path, secrets=MemorySecrets()
    )
    await server.start()
    yield server
    await server.stop()


async def test_the_server_s_model_is_listed(gateway: GatewayServer) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/v1/models") as answer:
        assert answer.status == 200
        assert MODEL in [model["id"] for model in (await answer.json())["data"]]


async def test_a_chat_completion_answers_with_a_choice_and_usage(gateway: GatewayServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=ASK) as answer,
    ):
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["choices"][0]["finish_reason"] in ("stop", "length")
    assert body["usage"]["prompt_tokens"] > 0 and 0 < body["usage"]["completion_tokens"] <= 8
    await gateway.gateway.counted()
    assert (gateway.gateway.totals.requests, gateway.gateway.totals.estimated) == (1, 0)  # the server's own count


async def _stream(gateway: GatewayServer) -> list[Any]:
    """The chunks of a streamed completion that asked for usage, checked to end with [DONE]."""
    ask = {**ASK, "stream": True, "stream_options": {"include_usage": True}}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}/v1/chat/completions", json=ask) as answer,
    ):
        assert answer.status == 200, await answer.text()
        assert answer.headers["Content-Type"].startswith("text/event-stream")
        raw = await answer.read()
    events = [block.removeprefix(b"data: ") for block in raw.split(b"\n\n") if block.startswith(b"data: ")]
    assert events[-1] == b"[DONE]"
    return [json.loads(event) for event in events[:-1]]


async def test_a_stream_comes_in_chunks_and_is_counted(gateway: GatewayServer) -> None:
    chunks = [chunk for chunk in await _stream(gateway) if chunk["choices"]]  # the usage chunk aside
    assert len(chunks) > 2 and "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    await gateway.gateway.counted()
    totals = gateway.gateway.totals
    # llama-cpp-python sends no usage in streams (it ignores stream_options): the gateway counts.
    assert (totals.requests, totals.estimated) == (1, 1) and totals.prompt_tokens > 0


async def test_a_stream_that_asked_for_usage_ends_with_it(gateway: GatewayServer) -> None:
    chunks = await _stream(gateway)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
