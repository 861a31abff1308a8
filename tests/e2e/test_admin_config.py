"""The admin routes for providers, settings and the audit export: what the app's pages do, over
HTTP for a headless gateway, with the same checks (a bad setting never lands, a key is never
answered back, every change audited)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
from conftest import LOCAL_OFF, StartGateway, free_ports
from test_cli import run, start

from gateway import GatewayServer, load_settings
from gateway.config.editing import SettingsFile
from gateway.store import audit
from gateway.store.provider_keys import set_keys, stored_keys
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-config-test-token-0000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PROVIDER_KEY = "sk-proj-admin-route-provider-key-0001"


async def call(
    gateway: GatewayServer, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{gateway.url}{path}", json=body, headers=ADMIN if headers is None else headers) as r,
    ):
        text = await r.text()
        return r.status, json.loads(text) if r.content_type == "application/json" else text


async def with_settings_file(start_gateway: StartGateway, tmp_path: Path, config: str) -> tuple[GatewayServer, Path]:
    path = tmp_path / "config0.toml"  # the fixture's first file
    check = SettingsFile(path, lambda staged: load_settings(staged, {}, explicit=True))
    gateway = await start_gateway(config, {}, admin_token=TOKEN, settings_file=check)
    return gateway, path


def audited(gateway: GatewayServer) -> list[tuple[str, dict[str, Any]]]:
    assert gateway.state is not None
    gateway.state.db.writer.flush()
    conn = sqlite3.connect(gateway.state.db.path)
    try:
        return [(e.action, e.payload) for e in audit.events(conn, 0, 1000)]
    finally:
        conn.close()


async def test_settings_are_read_and_changed_with_comments_kept_and_audited(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    gateway, path = await with_settings_file(start_gateway, tmp_path, "# our team's gateway\n[server]\nport = 0\n")
    status, answer = await call(gateway, "GET", "/admin/settings")
    assert status == 200 and answer["file"] == str(path) and answer["config"]["server"] == {"port": 0}
    assert answer["config"]["providers"]["ollama"] == {"enabled": False}
    changes = [
        {"table": "server", "key": "log_level", "value": "debug"},
        {"table": "app", "key": "theme", "value": "dark"},
        {"table": "aliases", "key": "fast", "value": ["openai/gpt-4o", "groq/llama-3.3-70b"]},
    ]
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": changes})
    assert status == 200 and answer == {"changed": True, "applied": True, "applies": "now"}, answer
    text = path.read_text()
    assert "# our team's gateway" in text and 'log_level = "debug"' in text and 'theme = "dark"' in text
    assert load_settings(path, {}).app.theme == "dark"
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": changes[:1]})
    assert status == 200 and answer["changed"] is False  # already so: nothing written, nothing audited
    status, answer = await call(
        gateway, "PATCH", "/admin/settings", {"changes": [{"table": "app", "key": "theme", "value": None}]}
    )
    assert status == 200 and "theme" not in path.read_text()
    edits = [payload for action, payload in audited(gateway) if action == "config.edited"]
    assert edits == [
        {
            "file": "config0.toml",
            "keys": ["aliases.fast", "app.theme", "server.log_level"],
            "values": {
                "server.log_level": "debug",
                "app.theme": "dark",
                "aliases.fast": ["openai/gpt-4o", "groq/llama-3.3-70b"],
            },
            "applied": True,
        },
        {"file": "config0.toml", "keys": ["app.theme"], "values": {"app.theme": None}, "applied": True},
    ]


async def test_an_edit_is_audited_with_its_credentials_masked(start_gateway: StartGateway, tmp_path: Path) -> None:
    gateway, _ = await with_settings_file(start_gateway, tmp_path, "[server]\nport = 0\n")
    secrets = ("pw-plain-0123", "plain-query-key", "plain-header-value")
    changes = [
        {"table": "providers.mine", "key": "kind", "value": "openai-compatible"},
        {"table": "providers.mine", "key": "auth", "value": "none"},
        {"table": "providers.mine", "key": "base_url", "value": "https://mine.invalid/v1"},
        {"table": "providers.mine", "key": "headers", "value": {"X-Custom-Auth": secrets[2]}},
        {"table": "app", "key": "update_feed", "value": f"https://ada:{secrets[0]}@feed.invalid/f?key={secrets[1]}"},
    ]
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": changes})
    assert status == 200 and answer["changed"] is True, answer
    (edit,) = [payload for action, payload in audited(gateway) if action == "config.edited"]
    assert not any(secret in json.dumps(edit) for secret in secrets)
    assert edit["values"]["app.update_feed"] == "https://****@feed.invalid/f?key=****"
    assert edit["values"]["providers.mine.headers"] == {"X-Custom-Auth": "****"}
    assert edit["values"]["providers.mine.base_url"] == "https://mine.invalid/v1"

    # An address the settings refuse for the password in it is not said back with that password.
    refused = [{"table": "providers.mine", "key": "base_url", "value": f"https://ada:{secrets[0]}@mine.invalid/v1"}]
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": refused})
    assert status == 400 and "user name or password" in answer["error"]["message"], answer
    assert secrets[0] not in json.dumps(answer)


async def test_a_setting_the_gateway_could_not_start_from_is_refused_and_the_file_kept(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    gateway, path = await with_settings_file(start_gateway, tmp_path, "[server]\nport = 0\n")
    before = path.read_text()
    refused = [
        ({"table": "server", "key": "port", "value": "eleven"}, "[server].port must be"),
        ({"table": "server", "key": "colour", "value": 1}, "unknown key 'colour'"),
        (
            {"table": "providers.ollama", "key": "headers", "value": {"Authorization": f"Bearer {PROVIDER_KEY}"}},
            "credentials do not belong in the config file",
        ),
        ({"table": "aliases", "key": "fast", "value": ["a", None]}, "null is allowed only"),
        ({"table": "server]\n[x", "key": "port", "value": 1}, "'table' names a table"),
        ({"table": "server", "key": "port", "value": 1, "extra": 2}, "each change is"),
    ]
    for change, message in refused:
        status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": [change]})
        assert status == 400 and answer["error"]["type"] == "invalid_request_error", (change, answer)
        assert message in answer["error"]["message"], (message, answer)
        assert PROVIDER_KEY not in json.dumps(answer)
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": []})
    assert status == 400
    assert path.read_text() == before and not list(tmp_path.glob("*.new"))
    assert not [a for a, _ in audited(gateway) if a == "config.edited"]


async def test_an_app_setting_rebuilds_nothing_and_a_log_level_takes_effect(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    """Only the app reads ``[app]`` (its theme, its update checks): a change of it is checked and
    audited but rebuilds no pipeline (which asks every provider and account for its models again).
    A log level is the gateway's own: it still takes effect at once."""
    gateway, path = await with_settings_file(start_gateway, tmp_path, "[server]\nport = 0\n")
    rebuilt: list[bool] = []
    gateway.on_applied.append(lambda: rebuilt.append(True))
    pipeline = gateway.gateway
    app = [{"table": "app", "key": "theme", "value": "dark"}, {"table": "app", "key": "check_updates", "value": False}]
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": app})
    assert status == 200 and answer == {"changed": True, "applied": True, "applies": "now"}, answer
    assert not rebuilt and gateway.gateway is pipeline and 'theme = "dark"' in path.read_text()
    purple = [{"table": "app", "key": "theme", "value": "purple"}]
    status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": purple})
    assert status == 400 and 'theme = "dark"' in path.read_text()  # checked all the same

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        debug = [{"table": "server", "key": "log_level", "value": "debug"}]
        status, answer = await call(gateway, "PATCH", "/admin/settings", {"changes": debug})
        assert status == 200 and answer["applied"] and rebuilt == [True] and root.level == logging.DEBUG
    finally:
        root.setLevel(level)
    edits = [payload for action, payload in audited(gateway) if action == "config.edited"]
    assert edits == [
        {
            "file": "config0.toml",
            "keys": ["app.check_updates", "app.theme"],
            "values": {"app.theme": "dark", "app.check_updates": False},
            "applied": True,
        },
        {
            "file": "config0.toml",
            "keys": ["server.log_level"],
            "values": {"server.log_level": "debug"},
            "applied": True,
        },
    ]


async def test_only_the_admin_reaches_these_routes(start_gateway: StartGateway, tmp_path: Path) -> None:
    gateway, _ = await with_settings_file(start_gateway, tmp_path, "")
    for method, path in (
        ("GET", "/admin/settings"),
        ("PATCH", "/admin/settings"),
        ("GET", "/admin/providers"),
        ("PUT", "/admin/providers/openai/keys"),
        ("GET", "/admin/audit/export"),
    ):
        status, answer = await call(gateway, method, path, {"changes": []} if method != "GET" else None, headers={})
        assert status == 401 and answer["error"]["type"] == "authentication_error", (method, path)


async def test_provider_keys_are_stored_never_answered_back_and_audited(start_gateway: StartGateway) -> None:
    secrets = MemorySecrets()
    (closed,) = free_ports(1)  # openai's models are asked for once its key applies: nobody answers here
    env = {"OPENAI_BASE_URL": f"http://127.0.0.1:{closed}/v1"}
    gateway = await start_gateway("", env, admin_token=TOKEN, secrets=secrets)
    status, answer = await call(gateway, "GET", "/admin/providers")
    rows = {row["id"]: row for row in answer["providers"]}
    assert status == 200 and rows["openai"]["configured"] is False and rows["ollama"]["local"] is True
    status, answer = await call(gateway, "PUT", "/admin/providers/openai/keys", {"keys": [PROVIDER_KEY]})
    assert status == 200 and answer == {
        "provider": "openai",
        "keys": 1,
        "stored_in": "memory only, they are gone when the gateway stops",
        "changed": True,
        "applied": True,
        "applies": "now",
    }
    assert PROVIDER_KEY in secrets.values.values()
    status, answer = await call(gateway, "PUT", "/admin/providers/openai/keys", {"keys": ["two words"]})
    assert status == 400 and "one key per line" in answer["error"]["message"]
    status, answer = await call(gateway, "PUT", "/admin/providers/no-such/keys", {"keys": [PROVIDER_KEY]})
    assert status == 404
    status, answer = await call(gateway, "PUT", "/admin/providers/codex/keys", {"keys": [PROVIDER_KEY]})
    assert status == 404  # subscriptions are accounts, not keys
    status, answer = await call(gateway, "GET", "/admin/providers")
    assert {row["id"]: row for row in answer["providers"]}["openai"]["keys"] == 1  # applied at once
    status, answer = await call(gateway, "DELETE", "/admin/providers/openai/keys")
    assert status == 200 and answer["provider"] == "openai" and answer["removed"] is True and answer["keys"] == 0
    assert PROVIDER_KEY not in secrets.values.values()
    status, _ = await call(gateway, "DELETE", "/admin/providers/openai/keys")
    assert status == 404
    status, answer = await call(gateway, "POST", "/admin/providers/rescan", {})
    assert status == 200 and any(row["id"] == "lmstudio" for row in answer["providers"])
    events = audited(gateway)
    assert ("provider.key_stored", {"provider": "openai", "keys": 1}) in events
    assert ("provider.key_removed", {"provider": "openai"}) in events
    assert PROVIDER_KEY not in json.dumps(events)


async def test_the_audit_export_verifies_away_from_the_gateway_and_shows_an_edit(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    gateway = await start_gateway("", {}, admin_token=TOKEN)
    for label in ("one", "two", "three"):
        status, _ = await call(gateway, "POST", "/admin/keys", {"label": label})
        assert status == 201
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/admin/audit/export", headers=ADMIN) as r:
        assert r.status == 200 and r.content_type == "application/x-ndjson"
        text = await r.text()
    rows = [json.loads(line) for line in text.splitlines()]
    assert [row["action"] for row in rows][-3:] == ["key.created"] * 3 and rows[0]["prev"] == audit.GENESIS
    export = tmp_path / "audit.jsonl"
    export.write_text(text)
    intact = await asyncio.to_thread(run, tmp_path, "audit", "verify", "--file", str(export), "--json")
    assert intact.returncode == 0 and json.loads(intact.stdout) == {
        "ok": True,
        "checked": len(rows),
        "first_bad": None,
        "reason": "",
    }
    second = rows[1]
    rows[1] = {
        **second,
        "payload": second["payload"].replace("two", "TWO") if "two" in second["payload"] else second["payload"] + " ",
    }
    export.write_text("".join(json.dumps(row) + "\n" for row in rows))
    broken = await asyncio.to_thread(run, tmp_path, "audit", "verify", "--file", str(export))
    assert broken.returncode == 1 and "BROKEN at event 2: row 2 was changed after it was written" in broken.stdout
    export.write_text('{"seq": 1}\n')
    bad = await asyncio.to_thread(run, tmp_path, "audit", "verify", "--file", str(export))
    assert bad.returncode == 1 and "exactly the fields" in bad.stderr


async def test_a_headless_gateway_edits_the_file_it_started_from(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(LOCAL_OFF + "# kept\n")
    proc, url = await start(tmp_path, "--port", "0")
    try:
        token = (tmp_path / "data" / "admin.token").read_text().strip()
        change = {"changes": [{"table": "server", "key": "log_level", "value": "warning"}]}
        headers = {"Authorization": f"Bearer {token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.patch(f"{url}/admin/settings", json=change, headers=headers) as r,
        ):
            assert r.status == 200 and (await r.json())["changed"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    assert (
        "# kept" in (tmp_path / "config.toml").read_text()
        and 'log_level = "warning"' in (tmp_path / "config.toml").read_text()
    )
    exported = await asyncio.to_thread(run, tmp_path, "audit", "export", "--out", str(tmp_path / "out.jsonl"))
    assert exported.returncode == 0 and (tmp_path / "out.jsonl").stat().st_mode & 0o777 == 0o600
    actions = [json.loads(line)["action"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert "config.edited" in actions
    conn = sqlite3.connect(tmp_path / "data" / "switchboard.db")
    assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == len(actions)


async def test_removing_a_stored_key_the_next_start_needs_is_refused_and_the_gateway_serves_on(
    start_gateway: StartGateway, tmp_path: Path
) -> None:
    """Issue 21: a provider given its own address needs a key; removing its stored one left a
    gateway that could not start (the app's restart then stopped it for good). Refused now, with
    the reason, the key kept, nothing audited as removed."""
    (closed,) = free_ports(1)
    secrets = MemorySecrets()
    set_keys(secrets, "groq", (PROVIDER_KEY,))
    path = tmp_path / "config0.toml"  # the fixture's first file
    check = SettingsFile(
        path, lambda staged: load_settings(staged, {}, explicit=True, stored_keys=stored_keys(secrets))
    )
    config = f'[providers.groq]\nbase_url = "http://127.0.0.1:{closed}/v1"\n'
    gateway = await start_gateway(config, {}, admin_token=TOKEN, secrets=secrets, settings_file=check)
    status, answer = await call(gateway, "DELETE", "/admin/providers/groq/keys")
    said = answer["error"]["message"]
    assert status == 400 and said == (
        "Not removed, so nothing changed: Groq has settings of its own and would be left without a key."
    ), answer
    assert stored_keys(secrets) == {"groq": (PROVIDER_KEY,)}
    assert gateway.port is not None and any(p.id == "groq" for p in gateway.gateway.providers)
    status, answer = await call(gateway, "GET", "/v1/status")
    assert status == 200 and any(p["id"] == "groq" for p in answer["providers"])
    assert not [a for a, _ in audited(gateway) if a == "provider.key_removed"]
