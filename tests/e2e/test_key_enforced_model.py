"""A client key with an enforced model: whatever its requests name, they are served by that model,
the ledger keeping the name each asked for; another key's requests go where they ask."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_cli import run

from gateway.store import keys

TOKEN = "sb-admin-enforce-test-token-0000000000000"
HI = [{"role": "user", "content": "hi"}]


async def post(url: str, body: dict[str, Any], token: str) -> tuple[int, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as session, session.post(url, json=body, headers=headers) as r:
        return r.status, dict(r.headers), await r.json(content_type=None)


async def test_a_keys_enforced_model_serves_its_requests(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    config = "[server]\nrequire_keys = true\n" + provider_table("fake", upstream)
    gateway = await start_gateway(config, {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN)
    made = {}
    for label, extra in (("pinned", {"enforce_model": "fake/gpt-other"}), ("free", {})):
        status, _, made[label] = await post(f"{gateway.url}/admin/keys", {"label": label, **extra}, TOKEN)
        assert status == 201, made[label]
    assert made["pinned"]["enforce_model"] == "fake/gpt-other" and made["free"]["enforce_model"] is None
    chat = f"{gateway.url}/v1/chat/completions"
    status, headers, _ = await post(chat, {"model": "fake/gpt-test", "messages": HI}, made["pinned"]["key"])
    assert status == 200 and headers["x-switchboard-route"] == "fake/gpt-other; key=fake"
    status, headers, _ = await post(chat, {"model": "fake/gpt-test", "messages": HI}, made["free"]["key"])
    assert status == 200 and headers["x-switchboard-route"] == "fake/gpt-test; key=fake"
    assert [r.json["model"] for r in upstream.chat_requests] == ["gpt-other", "gpt-test"]
    status, _, refused = await post(f"{gateway.url}/admin/keys", {"label": "x", "enforce_model": "a b"}, TOKEN)
    assert status == 400 and refused["error"]["param"] == "enforce_model"
    assert gateway.state is not None
    path = gateway.state.db.path
    await gateway.stop()
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT model, upstream_model FROM usage WHERE kind = 'request'").fetchall()
    assert rows == [("fake/gpt-test", "gpt-other"), ("fake/gpt-test", "gpt-test")]
    assert {r.label: r.enforce_model for r in keys.load(conn)} == {"pinned": "fake/gpt-other", "free": None}


def test_keys_create_enforce_model_on_the_command_line(tmp_path: Path) -> None:
    made = run(tmp_path, "keys", "create", "--label", "laptop", "--enforce-model", "coding")
    assert made.returncode == 0, made.stderr
    listing = run(tmp_path, "keys", "list")
    assert "serves every request by coding" in listing.stdout
    assert json.loads(run(tmp_path, "keys", "list", "--json").stdout)[0]["enforce_model"] == "coding"
    assert run(tmp_path, "keys", "create", "--label", "x", "--enforce-model", "a b").returncode != 0
