"""``doctor`` and local model servers: each chat model of Ollama, llama.cpp and LM Studio with the
context the server gives it, as the server says; a window too small for coding tools (under 16k
tokens) is a note with what would help; embedding models are left out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import FAKE_KEY, provider_table
from fakes.local_servers import LLAMACPP_MODEL, FakeLlamaCpp, FakeLMStudio
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI
from test_doctor import home_with

from gateway.cli import main as cli


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FakeOllama, FakeLlamaCpp, FakeLMStudio]]:
    fakes = (FakeOllama(), FakeLlamaCpp(n_ctx=4096), FakeLMStudio(loaded_context=8192))
    for fake in fakes:
        await fake.start()
    yield fakes
    for fake in fakes:
        await fake.stop()


async def test_each_local_model_with_its_context(
    servers: tuple[FakeOllama, FakeLlamaCpp, FakeLMStudio],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ollama, llamacpp, lmstudio = servers
    config = (
        provider_table("home", ollama, extra='local = true\nnum_ctx = {"qwen3:8b" = 8192}')
        + provider_table("box", llamacpp, extra="local = true")
        + provider_table("studio", lmstudio, extra="local = true")
    )
    home = home_with(tmp_path, monkeypatch, config)
    for name in ("HOME_KEY", "BOX_KEY", "STUDIO_KEY"):
        monkeypatch.setenv(name, "")
    code = await asyncio.to_thread(cli.main, ["doctor", "--json", "--home", str(home)])
    found = {f["subject"]: f for f in json.loads(capsys.readouterr().out) if f["area"] == "context"}
    assert code == 0  # a small window is worth knowing, not broken
    assert set(found) == {
        "home/llama3.2:latest",
        "home/qwen3:8b",
        f"box/{LLAMACPP_MODEL}",
        "studio/qwen2.5-7b-instruct",
        "studio/llama-3.2-3b-instruct",
    }  # the embedding models are not there
    ok = {s: f["words"] for s, f in found.items() if f["verdict"] == "ok"}
    assert ok == {
        "home/llama3.2:latest": "home gives llama3.2:latest a context of 131,072 tokens.",
        "studio/llama-3.2-3b-instruct": "studio gives llama-3.2-3b-instruct a context of 131,072 tokens.",
    }
    small = {s: (f["verdict"], f["advice"]) for s, f in found.items() if s not in ok}
    assert small == {
        "home/qwen3:8b": ("note", "Give it a larger context window in Switchboard's settings for Ollama."),
        f"box/{LLAMACPP_MODEL}": ("note", "Start the llama.cpp server with a larger context size."),
        "studio/qwen2.5-7b-instruct": ("note", "In LM Studio, load it with a larger context length."),
    }
    assert "only 4,096 tokens" in found[f"box/{LLAMACPP_MODEL}"]["words"]
    assert "Claude Code and Codex" in found["studio/qwen2.5-7b-instruct"]["words"]


async def test_ollama_without_its_own_api_and_a_server_that_does_not_say(
    servers: tuple[FakeOllama, FakeLlamaCpp, FakeLMStudio],
    upstream: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Through Ollama's OpenAI-compatible API alone no window is asked for: a model gets the server's
    default (4096); a server whose list says nothing of context is listed as not saying."""
    config = provider_table("home", servers[0], extra='local = true\nprotocols = ["openai-chat"]') + provider_table(
        "plain", upstream, extra="local = true"
    )
    home = home_with(tmp_path, monkeypatch, config)
    monkeypatch.setenv("HOME_KEY", "")
    monkeypatch.setenv("PLAIN_KEY", FAKE_KEY)
    assert await asyncio.to_thread(cli.main, ["doctor", "--json", "--home", str(home)]) == 0
    found = {f["subject"]: f for f in json.loads(capsys.readouterr().out) if f["area"] == "context"}
    llama = found["home/llama3.2:latest"]
    assert llama["verdict"] == "note" and "only 4,096 tokens" in llama["words"]
    assert "Ollama's own API" in llama["advice"]
    assert found["plain/gpt-test"]["words"] == "plain lists gpt-test, without saying how much context it holds."
