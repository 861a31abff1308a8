"""What this computer already has, as the first-run welcome asks for it: a local server answering,
a Codex CLI login, a Copilot editor login, a provider key in the environment; each said to be in
use (or not) as the running gateway really serves it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import StartGateway, provider_table
from fakes.chatgpt import FakeChatGPT
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI

from gateway import Control, Found, GatewayServer
from gateway.errors import InvalidRequest
from gateway.store.provider_keys import stored_keys

GROQ_KEY = "gsk-discovery-test-key-01"


def local_ollama(fake: FakeOllama) -> str:
    """The fake as a local server of the user's own (the fixtures switch the catalog's Ollama off)."""
    return provider_table("box", fake, extra='local = true\nname = "Ollama"')


@pytest.fixture
async def ollama() -> AsyncIterator[FakeOllama]:
    fake = await FakeOllama().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def chatgpt() -> AsyncIterator[FakeChatGPT]:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


@pytest.fixture
async def groq() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=GROQ_KEY).start()
    yield fake
    await fake.stop()


def control_of(server: GatewayServer) -> Control:
    assert server.control is not None
    return server.control


def by_kind(found: list[Found]) -> dict[str, Found]:
    return {f["kind"]: f for f in found}


async def test_a_computer_with_nothing_has_nothing_to_offer(start_gateway: StartGateway, tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    server = await start_gateway(environ={}, home=home)
    assert await control_of(server).discover() == []


async def test_each_thing_found_says_whether_it_is_in_use(
    start_gateway: StartGateway, tmp_path: Path, ollama: FakeOllama, chatgpt: FakeChatGPT, groq: FakeOpenAI
) -> None:
    home = tmp_path / "home"
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text(json.dumps(chatgpt.auth_file(chatgpt.issue())), encoding="utf-8")
    copilot = home / ".config" / "github-copilot"
    copilot.mkdir(parents=True)
    hosts = {"github.com": {"oauth_token": "gho_editor_token_01", "user": "octocat"}}
    (copilot / "hosts.json").write_text(json.dumps(hosts), encoding="utf-8")
    env = {
        "CODEX_HOME": str(codex_home),
        "GROQ_API_KEY": GROQ_KEY,
        "GROQ_BASE_URL": groq.url,
        "SWITCHBOARD_CODEX_BASE_URL": chatgpt.url,
        "SWITCHBOARD_OPENAI_AUTH_URL": chatgpt.root,
    }
    server = await start_gateway(local_ollama(ollama), env, environ=env, home=home)
    control = control_of(server)

    found = by_kind(await control.discover())
    assert set(found) == {"local", "codex", "copilot", "key"}
    local = found["local"]
    assert (local["id"], local["name"], local["in_use"], local["kept"]) == ("box", "Ollama", True, True)
    assert local["detail"] == f"3 models at {ollama.url}"
    assert not found["codex"]["in_use"] and not found["copilot"]["in_use"]
    assert "octocat" in found["copilot"]["detail"]
    key = found["key"]
    assert (key["id"], key["in_use"], key["kept"]) == ("groq", True, False)  # served from the environment only
    assert "GROQ" not in key["detail"]

    await control.import_codex("test")
    await control.keep_env_keys("groq", "test")
    assert server.state is not None and stored_keys(server.state.secrets)["groq"] == (GROQ_KEY,)
    found = by_kind(await control.discover())
    assert found["codex"]["in_use"] and found["codex"]["kept"]
    assert found["key"]["in_use"] and found["key"]["kept"]


async def test_a_login_that_is_no_sign_in_and_a_server_that_stopped_are_not_offered(
    start_gateway: StartGateway, tmp_path: Path, ollama: FakeOllama
) -> None:
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-x", "tokens": None}), encoding="utf-8")
    env = {"CODEX_HOME": str(codex_home)}
    server = await start_gateway(local_ollama(ollama), env, environ=env, home=tmp_path)
    control = control_of(server)
    assert [f["kind"] for f in await control.discover()] == ["local"]
    await ollama.stop()
    assert await control.discover() == []
    with pytest.raises(InvalidRequest):
        await control.keep_env_keys("groq", "test")  # the environment holds none to keep
