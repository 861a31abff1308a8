"""The Providers page's admin doors against fakes: a key or a server is tried before it is saved
(nothing is kept by a Test, whatever it answers), a failure carries its reason by name; saving puts
the key in the secret store and the rest in config.toml, the server serves at once, and removing
it takes both away. The status document says how many models a provider lists and why its list
failed."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import aiohttp
import pytest
from conftest import ANTHROPIC_KEY, FAKE_KEY, StartGateway, free_ports
from fakes.anthropic_upstream import FakeAnthropic
from fakes.ollama_upstream import FakeOllama
from fakes.openai_upstream import FakeOpenAI

from gateway import Control, GatewayServer, ServerDefinition, load_settings
from gateway.config.editing import SettingsFile
from gateway.errors import InvalidRequest
from gateway.store.provider_keys import stored_keys
from gateway.store.secrets import MemorySecrets


async def _models(url: str) -> set[str]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/v1/models") as r:
        return {m["id"] for m in (await r.json())["data"]}


async def _started(start_gateway: StartGateway, tmp_path: Path) -> tuple[GatewayServer, Control, MemorySecrets]:
    """A gateway with no provider, its settings file editable through the admin door as the app's is."""
    secrets = MemorySecrets()
    path = tmp_path / "config0.toml"  # the fixture's first file
    check = SettingsFile(
        path, lambda staged: load_settings(staged, {}, explicit=True, stored_keys=stored_keys(secrets))
    )
    server = await start_gateway("", {}, secrets=secrets, settings_file=check)
    assert server.control is not None
    return server, server.control, secrets


def _config(server: GatewayServer) -> dict[str, object]:
    control = server.control
    assert control is not None and control.settings_edits.file is not None
    return tomllib.loads(control.settings_edits.file.path.read_text(encoding="utf-8"))


async def test_a_key_is_tried_before_it_is_saved_and_saved_to_the_secret_store(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    server, control, secrets = await _started(start_gateway, tmp_path)
    good = await control.try_provider_key("groq", FAKE_KEY, upstream.url)
    assert good == {"ok": True, "models": len(upstream.models), "error": None, "reason": None}
    refused = await control.try_provider_key("groq", "sk-not-this-one-0000", upstream.url)
    assert not refused["ok"] and refused["reason"] == "credential_refused"
    assert refused["error"] is not None and "sk-not-this-one-0000" not in refused["error"]
    (closed,) = free_ports(1)
    offline = await control.try_provider_key("groq", FAKE_KEY, f"http://127.0.0.1:{closed}/v1")
    assert not offline["ok"] and offline["reason"] == "unreachable"
    assert stored_keys(secrets) == {} and "groq" not in json.dumps(_config(server))  # a Test keeps nothing

    assert await control.save_provider_key("groq", FAKE_KEY, upstream.url, "test")
    assert stored_keys(secrets) == {"groq": (FAKE_KEY,)}
    config = _config(server)
    assert config["providers"]["groq"] == {"base_url": upstream.url}  # type: ignore[index] # the address, not the key
    assert FAKE_KEY not in json.dumps(config)
    await server.gateway.sync.refresh()
    assert {f"groq/{m}" for m in upstream.models} <= await _models(server.url)
    groq = next(r for r in await control.providers() if r["id"] == "groq")
    assert groq["keys_from"] == ["stored"] and groq["source"] == "config"  # its key is stored, its address in config
    status = next(p for p in control.status()["providers"] if p["id"] == "groq")
    assert status["models"] == len(upstream.models) and status["list_failure"] is None
    assert status["host"] == "127.0.0.1"


async def test_a_refused_key_shows_in_the_status_by_its_reason(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    server = await start_gateway(
        f'[providers.fake]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\napi_key_env = "FAKE_KEY"\n',
        {"FAKE_KEY": "sk-revoked-key-00000001"},
    )
    assert server.control is not None
    await server.gateway.sync.refresh()
    status = next(p for p in server.control.status()["providers"] if p["id"] == "fake")
    assert status["list_failure"] == "credential_refused" and status["models"] == 0
    row = next(r for r in await server.control.providers() if r["id"] == "fake")
    assert row["keys_from"] == ["environment"] and row["custom"]
    test = await server.control.test_provider("fake")
    assert not test["ok"] and test["reason"] == "credential_refused"


@pytest.mark.parametrize("kind", ["openai-compatible", "anthropic", "ollama"])
async def test_a_server_is_tried_then_saved_serves_and_is_removed(
    start_gateway: StartGateway, kind: str, tmp_path: Path
) -> None:
    fake: FakeOpenAI | FakeAnthropic | FakeOllama
    if kind == "anthropic":
        fake, key = await FakeAnthropic(key=ANTHROPIC_KEY).start(), ANTHROPIC_KEY
    elif kind == "ollama":
        fake, key = await FakeOllama().start(), ""  # a server that takes no key
    else:
        fake, key = await FakeOpenAI(key=FAKE_KEY).start(), FAKE_KEY
    try:
        server, control, secrets = await _started(start_gateway, tmp_path)
        definition: ServerDefinition = {"name": "My Box", "base_url": fake.url, "kind": kind, "key": key}
        tried = await control.try_server(definition)
        assert tried["ok"] and tried["models"] > 0, tried
        assert stored_keys(secrets) == {} and "my-box" not in _config(server)["providers"]  # type: ignore[operator]

        added = await control.add_server(definition, "test")
        assert added == {"id": "my-box", "applied": True}
        table = _config(server)["providers"]["my-box"]  # type: ignore[index]
        assert table["kind"] == kind and table["name"] == "My Box" and table["local"] is True
        assert key == "" or key not in json.dumps(_config(server))
        assert stored_keys(secrets) == ({"my-box": (key,)} if key else {})
        await server.gateway.sync.refresh()
        assert any(m.startswith("my-box/") for m in await _models(server.url))
        row = next(r for r in await control.providers() if r["id"] == "my-box")
        assert row["custom"] and row["configured"]

        assert await control.remove_server("my-box", "test")
        assert "my-box" not in _config(server)["providers"] and stored_keys(secrets) == {}  # type: ignore[operator]
        assert not any(m.startswith("my-box/") for m in await _models(server.url))
    finally:
        await fake.stop()


async def test_a_second_server_of_the_same_name_gets_its_own_id_and_bad_input_is_said_in_words(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    _, control, _ = await _started(start_gateway, tmp_path)
    definition: ServerDefinition = {
        "name": "box",
        "base_url": upstream.url,
        "kind": "openai-compatible",
        "key": FAKE_KEY,
    }
    assert (await control.add_server(definition, "test"))["id"] == "box"
    assert (await control.add_server(definition, "test"))["id"] == "box-2"
    for bad, words in (
        ({**definition, "base_url": "ftp://x"}, "address"),
        ({**definition, "name": " "}, "name"),
        ({**definition, "key": "two words"}, "key"),
    ):
        with pytest.raises(InvalidRequest) as refused:
            await control.try_server(bad)  # type: ignore[arg-type]
        assert words in refused.value.message and "--" not in refused.value.message


async def test_a_refused_address_puts_the_keys_stored_before_back(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, control, secrets = await _started(start_gateway, tmp_path)
    assert await control.save_provider_key("groq", FAKE_KEY, upstream.url, "test")

    async def refused(*args: object) -> object:
        raise InvalidRequest("Not applied, so nothing changed: refused for the test", param="changes")

    monkeypatch.setattr(control.settings_edits, "change", refused)
    with pytest.raises(InvalidRequest, match="refused for the test"):
        await control.save_provider_key("groq", "sk-a-newer-key-00000002", f"{upstream.url}/", "test")
    assert stored_keys(secrets) == {"groq": (FAKE_KEY,)}  # the key that worked, not none
