"""Who may call, end to end (pipeline step 3 and 4; SECURITY.md S4, S5, S12–S16).

Keys are made and revoked over the admin API; every protocol refuses a missing, wrong or revoked
key the same way, in its own error shape; limits answer 429 before any upstream is asked; two
keys never share a cached answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from typing import Any

import aiohttp
import openai
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from openai.types.chat import ChatCompletionMessageParam

from gateway import GatewayServer

TOKEN = "sb-admin-access-test-token-000000000000000"
HI: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
CHAT = {"model": "fake/gpt-test", "messages": HI}
MESSAGES = {"model": "fake/gpt-test", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
OLLAMA = {"model": "fake/gpt-test", "stream": False, "messages": [{"role": "user", "content": "hi"}]}
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


async def start(start_gateway: StartGateway, upstream: FakeOpenAI, extra: str = "") -> GatewayServer:
    config = f"[server]\nrequire_keys = true\n{extra}\n" + provider_table("fake", upstream)
    return await start_gateway(config, {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN)


async def call(
    gateway: GatewayServer, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, f"{gateway.url}{path}", json=body, headers=headers or {}) as r,
    ):
        data = await r.read()
        try:
            parsed = await r.json(content_type=None)
        except ValueError:
            parsed = data.decode()
        return r.status, parsed, r.headers


async def new_key(gateway: GatewayServer, label: str = "team", **extra: Any) -> dict[str, Any]:
    status, body, _ = await call(gateway, "POST", "/admin/keys", {"label": label, **extra}, ADMIN)
    assert status == 201, body
    return dict(body)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_key_works_on_every_protocol_until_it_is_revoked(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start(start_gateway, upstream)
    made = await new_key(gateway, tier="standard")
    key = made["key"]
    assert key.startswith("sk-sb-") and made["last4"] == key[-4:] and made["prefix"] == f"sk-sb-{made['id']}"
    status, listing, _ = await call(gateway, "GET", "/admin/keys", headers=ADMIN)
    assert status == 200 and key not in str(listing) and listing["keys"][0]["id"] == made["id"]

    client = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    assert (await client.chat.completions.create(model="fake/gpt-test", messages=HI)).choices[0].message.content
    assert (await call(gateway, "POST", "/v1/messages", MESSAGES, {"x-api-key": key}))[0] == 200
    assert (await call(gateway, "POST", "/api/chat", OLLAMA, bearer(key)))[0] == 200

    status, body, _ = await call(gateway, "POST", f"/admin/keys/{made['id']}/revoke", {}, ADMIN)
    assert status == 200 and body["revoked"]
    refusals = [
        await call(gateway, "POST", "/v1/chat/completions", CHAT, bearer(key)),
        await call(gateway, "POST", "/v1/chat/completions", CHAT, {"x-api-key": key}),
        await call(gateway, "POST", "/v1/messages", MESSAGES, {"x-api-key": key}),
        await call(gateway, "POST", "/api/chat", OLLAMA, bearer(key)),
    ]
    assert [r[0] for r in refusals] == [401] * 4
    openai_error, _, anthropic_error, ollama_error = (r[1] for r in refusals)
    assert refusals[0][1] == refusals[1][1]  # the same answer whichever header carried it
    assert (
        openai_error["error"]["code"] == "invalid_api_key" and openai_error["error"]["type"] == "authentication_error"
    )
    assert anthropic_error["type"] == "error" and anthropic_error["error"]["type"] == "authentication_error"
    assert set(ollama_error) == {"error"} and "revoked" in ollama_error["error"]
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="fake/gpt-test", messages=HI)


async def test_every_route_but_health_refuses_a_caller_without_credentials(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    """S5: the route inventory, walked from the router itself."""
    gateway = await start(start_gateway, upstream, "metrics_auth = true")
    assert gateway.routes is not None
    routes = gateway.routes.routes()
    assert len(routes) > 30
    for method, path, prefixed in routes:
        if method in ("HEAD", "OPTIONS"):
            continue
        target = f"{path}x" if prefixed else path
        status, _, _ = await call(gateway, method, target, {} if method in ("POST", "PUT", "PATCH") else None)
        expected = 200 if path in ("/health", "/health/ready") else 401  # what a load balancer probes
        if path in ("/admin/auth/login", "/admin/auth/refresh"):
            expected = 400  # they take credentials in the body: an empty one is a bad request
        assert status == expected, (method, path)


async def test_a_client_key_is_no_admin_credential(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start(start_gateway, upstream)
    key = (await new_key(gateway))["key"]
    for headers in (bearer(key), {"x-api-key": key}):
        assert (await call(gateway, "GET", "/admin/keys", headers=headers))[0] == 403
        assert (await call(gateway, "POST", "/admin/keys", {"label": "x"}, headers))[0] == 403
        assert (await call(gateway, "GET", "/v1/status", headers=headers))[0] == 403


@pytest.mark.parametrize(
    "value",
    [
        "sk-sb-' OR 1=1 --",
        'sk-sb-a"b',
        "sk-sb-x; DROP TABLE client_keys",
        "sk-sb-" + "A" * 10_000,
        "sk-sb-naïve",
        "sk-sb-\x00x",
    ],
    ids=["quote", "dquote", "semicolon", "10kb", "non-ascii", "nul"],
)
async def test_hostile_credentials_get_401_and_touch_nothing(
    start_gateway: StartGateway, upstream: FakeOpenAI, value: str
) -> None:
    """S14: never a 500, and the database is byte-for-byte the same after."""
    gateway = await start(start_gateway, upstream)
    await new_key(gateway)
    assert gateway.state is not None and gateway.port is not None
    gateway.state.db.writer.flush()
    before = hashlib.sha256(gateway.state.db.path.read_bytes()).hexdigest()
    encoded = value.encode("utf-8")
    for header in (b"Authorization: Bearer ", b"x-api-key: "):
        raw = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\n%s%s\r\nConnection: close\r\n\r\n{}" % (gateway.port, header, encoded)
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(raw)
        await writer.drain()
        status_line = await reader.readline()
        writer.close()
        status = int(status_line.split()[1])
        assert status in (400, 401), (value[:20], status)
    gateway.state.db.writer.flush()
    assert hashlib.sha256(gateway.state.db.path.read_bytes()).hexdigest() == before


async def test_two_different_keys_at_once_are_refused(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start(start_gateway, upstream)
    one, two = (await new_key(gateway, "a"))["key"], (await new_key(gateway, "b"))["key"]
    status, body, _ = await call(gateway, "POST", "/v1/chat/completions", CHAT, {**bearer(one), "x-api-key": two})
    assert status == 401 and "Two different" in body["error"]["message"]


async def test_repeated_failures_from_one_address_are_throttled(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    """S16: the 21st failure within a minute is 429 with Retry-After; the audit log gets a summary
    naming the address and count, never what was presented."""
    gateway = await start(start_gateway, upstream)
    wrong = "sk-sb-aaaaaaaaaaaa_" + "B" * 32 + "_CCCCCC"
    statuses = [(await call(gateway, "POST", "/v1/chat/completions", CHAT, bearer(wrong)))[0] for _ in range(21)]
    assert statuses == [401] * 20 + [429]
    status, _, headers = await call(gateway, "POST", "/v1/chat/completions", CHAT, bearer(wrong))
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert upstream.requests_to("/chat/completions") == []
    assert gateway.state is not None
    path = gateway.state.db.path
    await gateway.stop()  # the per-minute summary is written at shutdown too
    conn = sqlite3.connect(path)
    ((payload,),) = conn.execute("SELECT payload FROM audit WHERE action = 'auth.failed'").fetchall()
    assert json.loads(payload) == {"per_peer": {"127.0.0.1": 20}}
    assert "BBBB" not in str(conn.execute("SELECT * FROM audit").fetchall())


async def test_a_loopback_caller_without_keys_required_may_send_a_placeholder(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    """Tools insist on sending some key to a local server; only a Switchboard-shaped one is checked."""
    gateway = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN)
    assert (await call(gateway, "POST", "/v1/chat/completions", CHAT, bearer("ollama")))[0] == 200
    assert (await call(gateway, "POST", "/v1/chat/completions", CHAT))[0] == 200
    assert (await call(gateway, "POST", "/v1/chat/completions", CHAT, bearer("sk-sb-not-a-real-one")))[0] == 401


async def test_over_a_limit_is_429_before_any_upstream_call(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start(start_gateway, upstream)
    key = (await new_key(gateway, tier="free", limits={"requests_per_minute": 2}))["key"]
    for _ in range(2):
        assert (await call(gateway, "POST", "/v1/chat/completions", CHAT, bearer(key)))[0] == 200
    sent = len(upstream.requests_to("/chat/completions"))
    status, body, headers = await call(gateway, "POST", "/v1/messages", MESSAGES, {"x-api-key": key})
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert body["error"]["type"] == "rate_limit_error" and "2 requests per minute" in body["error"]["message"]
    assert len(upstream.requests_to("/chat/completions")) == sent
    status, doc, _ = await call(gateway, "GET", "/v1/status", headers=ADMIN)
    (entry,) = doc["access"]["keys"]
    assert entry["usage"]["requests_per_minute"] == {"used": 2, "limit": 2}
    assert entry["usage"]["tokens_per_day"]["limit"] == 500_000


async def test_two_keys_never_share_a_cached_answer(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await start(start_gateway, upstream, "\n[cache]\nenabled = true")
    one, two = (await new_key(gateway, "a"))["key"], (await new_key(gateway, "b"))["key"]
    body = {**CHAT, "temperature": 0}
    for key in (one, one, two, two):
        assert (await call(gateway, "POST", "/v1/chat/completions", body, bearer(key)))[0] == 200
    assert len(upstream.requests_to("/chat/completions")) == 2  # each key's second ask was its own cache hit
