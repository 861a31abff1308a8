"""Issue 25's "an expired ChatGPT token under concurrent requests to both gateways is renewed
exactly once", with two ``python -m gateway serve`` processes over a real PostgreSQL and a real
Redis, each with its own state folder and its secrets file encrypted with the passphrase file
both are given (as the compose file does): a ChatGPT account imported through one's admin API is
served by both; when its access token comes within the renewal margin, requests to both at once
make the fake's token endpoint see one refresh, and every request is answered with the new token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from conftest import free_ports
from fakes.chatgpt import FakeChatGPT
from servers.gateways import Gateway, serve, stop
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.redis import RedisServer, redis_server  # noqa: F401 (fixtures)

from gateway.auth.admin_token import FILE_NAME as ADMIN_TOKEN_FILE
from gateway.auth.subscription import RENEW_MARGIN
from gateway.store.secrets import PASSPHRASE_FILE_ENV

pytestmark = pytest.mark.slow
EACH = 8  # requests through each gateway at once, on the lapsing token
LEAD = 12.0  # seconds the imported token has before the gateways count it lapsed: both must have it by then


@pytest.fixture
async def chatgpt() -> AsyncIterator[FakeChatGPT]:
    fake = await FakeChatGPT().start()
    yield fake
    await fake.stop()


async def _within(seconds: float, check: Callable[[], Awaitable[bool]]) -> None:
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not seen in time"
        await asyncio.sleep(0.1)


def _admin(gateway: Gateway) -> dict[str, str]:
    (token_file,) = gateway.home.rglob(ADMIN_TOKEN_FILE)
    return {"Authorization": f"Bearer {token_file.read_text(encoding='ascii').strip()}"}


async def _chat(session: aiohttp.ClientSession, gateway: Gateway, key: str) -> tuple[int, Any]:
    body = {"model": "codex/gpt-5-codex", "messages": [{"role": "user", "content": "hi"}]}
    headers = {"Authorization": f"Bearer {key}"}
    async with session.post(f"{gateway.url}/v1/chat/completions", json=body, headers=headers) as response:
        return response.status, await response.text()


async def test_two_serve_processes_renew_a_lapsing_chatgpt_token_once_between_them(
    tmp_path: Path,
    chatgpt: FakeChatGPT,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
) -> None:
    passphrase = tmp_path / "passphrase"
    passphrase.write_text("the team's passphrase, long enough\n", encoding="utf-8")
    config = (
        f'[server]\nrequire_keys = true\n\n[store]\nurl = "{postgres_url}"\n\n[shared]\nredis = "{redis_server.url}"\n'
    )
    env = {
        "SWITCHBOARD_STORE_PASSWORD": postgres_server.password,
        PASSPHRASE_FILE_ENV: str(passphrase),
        "SWITCHBOARD_CODEX_BASE_URL": chatgpt.url,
        "SWITCHBOARD_OPENAI_AUTH_URL": chatgpt.root,
    }
    ports = free_ports(2)
    one, two = await asyncio.gather(
        *(
            serve(tmp_path / name, config, "127.0.0.1", port, env)
            for name, port in zip(("one", "two"), ports, strict=True)
        )
    )
    try:
        chatgpt.access_ttl = RENEW_MARGIN + LEAD  # lapses (for the gateways) LEAD seconds after it is issued
        imported = chatgpt.issue()
        lapses = time.time() + LEAD
        chatgpt.access_ttl = 3600.0  # the renewed one lives an hour
        login = tmp_path / "auth.json"
        login.write_text(json.dumps(chatgpt.auth_file(imported)), encoding="utf-8")
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{one.url}/admin/keys", json={"label": "team"}, headers=_admin(one)) as response:
                assert response.status == 201, await response.text()
                key = (await response.json())["key"]
            async with session.post(
                f"{one.url}/admin/accounts/import/codex", json={"path": str(login)}, headers=_admin(one)
            ) as response:
                assert response.status == 201, await response.text()

            async def both_serve_it() -> bool:
                statuses = [(await _chat(session, gateway, key))[0] for gateway in (one, two)]
                return statuses == [200, 200]

            await _within(LEAD - 3, both_serve_it)
            assert chatgpt.refresh_calls == 0  # the imported token served both, until now
            await asyncio.sleep(max(0.0, lapses - time.time()) + 0.5)

            chatgpt.refresh_delay = 0.3  # both gateways meet the lapsed token while the one renewal runs
            answers = await asyncio.gather(*(_chat(session, g, key) for g in (one, two) for _ in range(EACH)))
        assert [status for status, _ in answers] == [200] * 2 * EACH, answers
        assert chatgpt.refresh_calls == 1
        late = chatgpt.requests_to("/responses")[-2 * EACH :]
        presented = {r.headers["Authorization"].removeprefix("Bearer ") for r in late}
        assert len(presented) == 1 and imported["access_token"] not in presented
    finally:
        await asyncio.gather(stop(one), stop(two))
