"""A client key's dollar budget, end to end: a priced model's answers are added to what the key
spent, and once the budget is spent the next request is refused with 429 in the client's own
protocol's shape, saying so, before any upstream is asked; a restart gives the key no fresh budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer
from gateway.store.secrets import MemorySecrets

TOKEN = "sb-admin-budget-test-token-000000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}
MESSAGES = {"model": "fake/gpt-test", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
# A dollar per ten tokens: the fake's answer (12 prompt tokens, 7 completion) costs well over $1.
PRICED = '[server]\nrequire_keys = true\n\n[models."fake/gpt-test"]\ncost = [100000, 100000]\n\n'


async def call(
    gateway: GatewayServer, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    method = "GET" if body is None else "POST"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{gateway.url}{path}", json=body, headers=headers or {}) as r,
    ):
        return r.status, await r.json(content_type=None), r.headers


async def budgeted(gateway: GatewayServer) -> str:
    limits = {"dollars_per_day": 1.0, "dollars_per_month": 30}
    status, made, _ = await call(gateway, "/admin/keys", {"label": "bot", "limits": limits}, ADMIN)
    assert status == 201, made
    return str(made["key"])


async def test_a_spent_budget_is_429_in_each_protocols_shape_before_any_upstream(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(PRICED + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN)
    key = await budgeted(gateway)
    bearer = {"Authorization": f"Bearer {key}"}
    assert (await call(gateway, "/v1/chat/completions", CHAT, bearer))[0] == 200  # $0 of $1 spent: admitted
    sent = len(upstream.requests_to("/chat/completions"))

    status, body, headers = await call(gateway, "/v1/chat/completions", CHAT, bearer)
    assert status == 429 and 86400 - 600 <= int(headers["Retry-After"]) <= 86400  # when its 10-minute bucket leaves
    message = body["error"]["message"]
    assert body["error"]["code"] == "rate_limit_exceeded" and body["error"]["type"] == "rate_limit_error", body
    assert message.startswith("This key's budget of $1.00 per day is spent ($") and "It frees up in 23 h" in message
    status, body, _ = await call(gateway, "/v1/messages", MESSAGES, {"x-api-key": key})
    assert status == 429 and body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    assert body["error"]["message"] == message
    assert len(upstream.requests_to("/chat/completions")) == sent

    _, doc, _ = await call(gateway, "/v1/status", headers=ADMIN)
    (entry,) = doc["access"]["keys"]
    assert entry["usage"]["dollars_per_day"]["limit"] == 1.0 and entry["usage"]["dollars_per_day"]["used"] > 1
    assert entry["usage"]["dollars_per_month"] == {"used": entry["usage"]["dollars_per_day"]["used"], "limit": 30}


async def test_a_restart_gives_a_key_no_fresh_budget(
    start_gateway: StartGateway, upstream: FakeOpenAI, tmp_path: Path
) -> None:
    config, env, secrets = PRICED + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, MemorySecrets()
    (state := tmp_path / "kept").mkdir(mode=0o700)
    first = await start_gateway(config, env, data_dir=state, secrets=secrets, admin_token=TOKEN)
    bearer = {"Authorization": f"Bearer {await budgeted(first)}"}
    assert (await call(first, "/v1/chat/completions", CHAT, bearer))[0] == 200
    await first.stop()
    again = await start_gateway(config, env, data_dir=state, secrets=secrets, admin_token=TOKEN)
    status, body, _ = await call(again, "/v1/chat/completions", CHAT, bearer)
    assert status == 429 and "budget of $1.00 per day is spent" in body["error"]["message"]
