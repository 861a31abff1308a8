"""Failover against real fake upstreams: each failure class of protocols.md §9 before the first
byte moves to the next route, none reaches the client while another route can serve, and the
route header says which served."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from conftest import StartGateway
from fakes.anthropic_upstream import FakeAnthropic
from fakes.openai_upstream import TEXT, FakeOpenAI
from fakes.upstream import Script

from gateway import GatewayServer

KEYS = ("sk-first-key-000000001", "sk-second-key-00000002", "sk-third-key-000000003")
CHAT = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
FAST = "read_timeout = 1\nconnect_timeout = 1\n"


@pytest.fixture
async def second() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key="sk-second-provider-0001").start()
    yield fake
    await fake.stop()


def table(name: str, fake: FakeOpenAI | FakeAnthropic, extra: str = "") -> str:
    return (
        f'[providers.{name}]\nkind = "{fake.kind}"\nbase_url = "{fake.url}"\napi_key_env = "{name.upper()}_KEY"\n'
        f"{FAST}{extra}\n"
    )


async def post(
    gateway: GatewayServer, body: dict[str, Any], path: str = "/v1/chat/completions", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{gateway.url}{path}", json=body, headers=headers) as r,
    ):
        return r.status, dict(r.headers), await r.read()


def keys_asked(fake: FakeOpenAI) -> list[str]:
    return [r.headers["Authorization"].removeprefix("Bearer ") for r in fake.requests_to("/chat/completions")]


async def pooled(
    start_gateway: StartGateway, upstream: FakeOpenAI, rotation: str = "sequential", extra: str = ""
) -> GatewayServer:
    upstream.accept(*KEYS)
    return await start_gateway(
        table("pool", upstream, f'rotation = "{rotation}"\n') + extra, {"POOL_KEY": ",".join(KEYS)}
    )


async def test_a_rate_limited_key_hands_over_to_the_next_and_rests(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await pooled(start_gateway, upstream)
    upstream.key_faults[KEYS[0]] = upstream.failure(
        429, "rate_limit_error", "Rate limit reached", {"retry-after": "30"}
    )
    status, headers, body = await post(gateway, CHAT)
    assert status == 200, body
    assert json.loads(body)["choices"][0]["message"]["content"] == TEXT
    assert headers["x-switchboard-route"] == "pool/gpt-test; key=pool#2"
    assert headers["x-switchboard-attempts"] == "2"
    for _ in range(3):  # sequential: key 2 is drained next, key 1 is not asked while it rests
        assert (await post(gateway, CHAT))[0] == 200
    assert keys_asked(upstream) == [KEYS[0], KEYS[1], KEYS[1], KEYS[1], KEYS[1]]
    assert not any(k in json.dumps(headers) for k in KEYS)


async def test_round_robin_spreads_requests_over_every_key(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    gateway = await pooled(start_gateway, upstream, "round-robin")
    for n in range(6):  # six conversations: one conversation would keep its key
        assert (await post(gateway, {**CHAT, "messages": [{"role": "user", "content": f"question {n}"}]}))[0] == 200
    assert sorted(keys_asked(upstream)) == sorted(KEYS * 2)


async def test_a_refused_key_and_an_exhausted_quota_are_benched(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await pooled(start_gateway, upstream)
    upstream.key_faults[KEYS[0]] = upstream.failure(401, "invalid_request_error", "Incorrect API key provided")
    upstream.key_faults[KEYS[1]] = upstream.failure(
        429, "insufficient_quota", "You exceeded your current quota", code="insufficient_quota"
    )
    status, headers, _ = await post(gateway, CHAT)
    assert status == 200 and headers["x-switchboard-route"].endswith("key=pool#3")
    await post(gateway, {**CHAT, "model": "gpt-other"})  # benched for every model, not just the one
    assert keys_asked(upstream) == [*KEYS, KEYS[2]]


FAULTS = {
    "500": Script("status", status=500, body=b'{"error": {"message": "boom", "type": "server_error"}}'),
    "503-html": Script("status", status=503, body=b"<html>Service Unavailable</html>", content_type="text/html"),
    "529": Script(
        "status", status=529, body=b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
    ),
    "408": Script("status", status=408, body=b'{"error": {"message": "timeout", "type": "timeout"}}'),
    "should-retry": Script(
        "status", status=400, body=b'{"error": {"message": "again", "type": "x"}}', headers={"x-should-retry": "true"}
    ),
    "html-200": Script("html_200"),
    "error-in-200": Script("json_200_error"),
    "hang": Script("hang"),
}
CASES = [(name, fault, stream) for name, fault in FAULTS.items() for stream in (False, True)]
CASES.append(("closed-before-first-event", Script("truncate", after_events=0), True))


@pytest.mark.parametrize(
    ("fault", "stream"), [c[1:] for c in CASES], ids=[f"{c[0]}-{'stream' if c[2] else 'json'}" for c in CASES]
)
async def test_failures_before_the_first_byte_fail_over_to_the_next_provider(
    start_gateway: StartGateway, upstream: FakeOpenAI, second: FakeOpenAI, fault: Script, stream: bool
) -> None:
    gateway = await start_gateway(
        table("first", upstream) + table("second", second),
        {"FIRST_KEY": upstream.key or "", "SECOND_KEY": second.key or ""},
    )
    upstream.then(fault)
    status, headers, body = await post(gateway, {**CHAT, "stream": stream})
    assert status == 200, body
    assert headers["x-switchboard-route"] == "second/gpt-test; key=second"
    assert headers["x-switchboard-attempts"] == "2"
    assert (b"[DONE]" in body) if stream else json.loads(body)["choices"][0]["message"]["content"] == TEXT
    assert len(upstream.requests_to("/chat/completions")) == 1  # never retried within the request


async def test_an_unreachable_provider_is_skipped(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # bound, never listening: connections are refused
        config = (
            f'[providers.dead]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:{dead}/v1"\nlocal = true\n'
            f'models = ["gpt-test"]\n{FAST}\n' + table("live", upstream)
        )
        gateway = await start_gateway(config, {"LIVE_KEY": upstream.key or ""})
        status, headers, _ = await post(gateway, CHAT)
    assert status == 200 and headers["x-switchboard-route"] == "live/gpt-test; key=live"


async def test_the_breaker_keeps_requests_away_from_a_hanging_provider(
    start_gateway: StartGateway, upstream: FakeOpenAI, second: FakeOpenAI
) -> None:
    routing = "[routing]\nbreaker_failures = 2\nbreaker_cooloff_seconds = 60\n"
    gateway = await start_gateway(
        routing + table("first", upstream) + table("second", second),
        {"FIRST_KEY": upstream.key or "", "SECOND_KEY": second.key or ""},
    )
    upstream.then(Script("hang")).then(Script("hang"))

    def conversation(n: int) -> dict[str, Any]:  # a new one each time: no affinity to the second
        return {**CHAT, "messages": [{"role": "user", "content": f"question {n}"}]}

    for n in range(2):
        assert (await post(gateway, conversation(n)))[1]["x-switchboard-attempts"] == "2"
    for n in range(2, 5):  # open: the first provider is not even asked
        status, headers, _ = await post(gateway, conversation(n))
        assert status == 200 and headers["x-switchboard-attempts"] == "1"
    assert len(upstream.requests_to("/chat/completions")) == 2


async def test_request_errors_are_answered_at_once_without_trying_others(
    start_gateway: StartGateway, upstream: FakeOpenAI, second: FakeOpenAI
) -> None:
    gateway = await start_gateway(
        table("first", upstream) + table("second", second),
        {"FIRST_KEY": upstream.key or "", "SECOND_KEY": second.key or ""},
    )
    upstream.fail(400, "invalid_request_error", "This model's maximum context length is 8192 tokens.")
    status, headers, body = await post(gateway, CHAT)
    assert status == 400 and b"maximum context length" in body
    assert headers["x-switchboard-route"] == "first/gpt-test; key=first" and headers["x-switchboard-attempts"] == "1"
    assert second.requests_to("/chat/completions") == []


async def test_after_the_first_byte_there_is_no_retry_only_a_clean_in_stream_error(
    start_gateway: StartGateway, upstream: FakeOpenAI, second: FakeOpenAI
) -> None:
    gateway = await start_gateway(
        table("first", upstream) + table("second", second),
        {"FIRST_KEY": upstream.key or "", "SECOND_KEY": second.key or ""},
    )
    upstream.then(Script("reset", after_events=2))
    status, headers, body = await post(gateway, {**CHAT, "stream": True})
    assert status == 200 and headers["x-switchboard-route"] == "first/gpt-test; key=first"
    events = [b[6:] for b in body.split(b"\n\n") if b.startswith(b"data: ")]
    assert b'"error"' in events[-2] and events[-1] == b"[DONE]"
    assert second.requests_to("/chat/completions") == []


async def test_an_alias_fails_over_across_protocols(
    start_gateway: StartGateway, anthropic_upstream: FakeAnthropic, upstream: FakeOpenAI
) -> None:
    config = (
        '[aliases]\nsmart = ["claude/claude-test", "openai/gpt-test"]\n'
        + table("claude", anthropic_upstream)
        + table("openai", upstream)
    )
    gateway = await start_gateway(
        config, {"CLAUDE_KEY": anthropic_upstream.key or "", "OPENAI_KEY": upstream.key or ""}
    )
    anthropic_upstream.fail(529, "overloaded_error", "Overloaded")
    body = {"model": "smart", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    status, headers, raw = await post(gateway, body, "/v1/messages")
    assert status == 200 and headers["x-switchboard-route"] == "openai/gpt-test; key=openai"
    assert b"event: message_stop" in raw and b" upstream!" in raw


async def test_every_key_limited_is_a_429_in_the_callers_protocol(
    start_gateway: StartGateway, anthropic_upstream: FakeAnthropic
) -> None:
    anthropic_upstream.accept(*KEYS)
    gateway = await start_gateway(table("claude", anthropic_upstream), {"CLAUDE_KEY": ",".join(KEYS)})
    for n, key in enumerate(KEYS):
        anthropic_upstream.key_faults[key] = anthropic_upstream.failure(
            429, "rate_limit_error", "slow down", {"retry-after": str(20 + n)}
        )
    body = {"model": "claude/claude-test", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    status, headers, raw = await post(gateway, body, "/v1/messages")
    assert status == 429 and headers["Retry-After"] == "20" and headers["x-switchboard-attempts"] == "3"
    assert json.loads(raw)["error"]["type"] == "rate_limit_error"
    asked = len(anthropic_upstream.message_requests)
    status, headers, raw = await post(gateway, body, "/v1/messages")  # all resting: nothing is sent
    assert status == 429 and json.loads(raw)["type"] == "error" and headers["x-switchboard-attempts"] == "0"
    assert len(anthropic_upstream.message_requests) == asked
