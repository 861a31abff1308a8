"""An upstream's Retry-After rests a route inside the gateway for at most an hour, and the
provider's Test (or, for a local server, Rescan) lifts the rest once the provider answers.

SECURITY.md B40 (issue 20, item 4): ``Retry-After: 99999999999`` rested that key and model for
3,169 years and a date in 2035 for years, with no further upstream call until a restart, though
the client was told to wait at most an hour.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import GatewayServer
from gateway.providers.ratelimit import MAX_WAIT

TOKEN = "sb-admin-retry-after-test-token-000000000000"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CHAT = {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}]}


async def post(
    server: GatewayServer, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    async with aiohttp.ClientSession() as session, session.post(f"{server.url}{path}", json=body, headers=headers) as r:
        return r.status, dict(r.headers), json.loads(await r.read())


def resting(server: GatewayServer) -> dict[str, Any]:
    """The fake provider's key's cooldowns, as status shows them."""
    provider = next(p for p in server.gateway.status()["providers"] if p["id"] == "fake")
    cooldowns: dict[str, Any] = provider["keys"][0]["cooldowns"]
    return cooldowns


def asked(upstream: FakeOpenAI) -> int:
    return len(upstream.requests_to("/chat/completions"))


@pytest.mark.parametrize(
    "said", ["99999999999", "Mon, 01 Jan 2035 00:00:00 GMT", "soon"], ids=["seconds", "date", "garbage"]
)
@pytest.mark.parametrize("lift", ["test", "rescan"])
async def test_a_huge_retry_after_rests_the_route_an_hour_at_most_until_its_test(
    start_gateway: StartGateway, upstream: FakeOpenAI, said: str, lift: str
) -> None:
    local = "local = true\n" if lift == "rescan" else ""  # Rescan asks the local servers
    server = await start_gateway(
        provider_table("fake", upstream, extra=local), {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN
    )
    upstream.key_faults[FAKE_KEY] = upstream.failure(
        429, "rate_limit_error", "Rate limit reached", {"retry-after": said}
    )
    status, headers, _ = await post(server, "/v1/chat/completions", CHAT)
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= MAX_WAIT
    rest = resting(server)["gpt-test"]
    assert rest["reason"] == "rate_limited" and 0 < rest["seconds_left"] <= MAX_WAIT
    assert (await post(server, "/v1/chat/completions", CHAT))[0] == 429 and asked(upstream) == 1  # resting: not asked

    del upstream.key_faults[FAKE_KEY]  # the limit lifted; the admin presses Test (or Rescan)
    if lift == "test":
        status, _, answer = await post(server, "/admin/providers/fake/test", {}, ADMIN)
        assert status == 200 and answer["ok"] is True
    else:
        assert (await post(server, "/admin/providers/rescan", {}, ADMIN))[0] == 200
    assert resting(server) == {}
    assert (await post(server, "/v1/chat/completions", CHAT))[0] == 200 and asked(upstream) == 2


async def test_a_test_that_fails_leaves_the_rest(start_gateway: StartGateway, upstream: FakeOpenAI) -> None:
    """SECURITY.md B40: the rest is lifted for a provider that answers, not one that still fails."""
    server = await start_gateway(provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY}, admin_token=TOKEN)
    upstream.key_faults[FAKE_KEY] = upstream.failure(
        429, "rate_limit_error", "Rate limit reached", {"retry-after": "600"}
    )
    assert (await post(server, "/v1/chat/completions", CHAT))[0] == 429
    upstream.models_status = 503
    status, _, answer = await post(server, "/admin/providers/fake/test", {}, ADMIN)
    assert status == 200 and answer["ok"] is False
    assert resting(server)["gpt-test"]["seconds_left"] > 500
