"""Issue 25's "Done means", on loopback: two ``python -m gateway serve`` processes over a real
PostgreSQL (``[store] url``, its password from the environment) and a real Redis (``[shared] redis``),
client keys required, behind the real nginx running ``deploy/nginx.conf``.

A key made with one gateway's settings (``keys --config … create``) is taken by both at once, and
once revoked refused by both; a limit of N requests a minute admits exactly N between them under
concurrent load; a gateway killed with SIGKILL mid-load leaves, once started again on its folder,
one ledger row per request a client saw answered (none lost, none twice) and an audit chain that
verifies, and every request made after the kill is answered by the survivor."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest
from conftest import provider_table
from fakes.openai_upstream import FakeOpenAI
from servers.gateways import CHAT, CLIENTS, Gateway, Seen, Team, balanced, load, serve_again
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.redis import RedisServer
from test_cli import child_env

from gateway.auth.client_keys import key_id_of

pytestmark = pytest.mark.slow
AT_ONCE = 1.0  # seconds: the change's announcement carries it, not the periodic reload (2 s)
LIMIT, CONCURRENT = 10, 40


@pytest.fixture
async def team(
    tmp_path: Path,
    upstream: FakeOpenAI,
    redis_server: RedisServer,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> AsyncIterator[Team]:
    upstream.delay = 0.15  # each answer takes a while, so a kill finds some in flight
    config = (
        "[server]\nrequire_keys = true\ndrain_seconds = 2\n\n"  # each called by its own address too, not only nginx
        f'[store]\nurl = "{postgres_url}"\n\n'
        f'[shared]\nredis = "{redis_server.url}"\n\n' + provider_table("fake", upstream)
    )
    async with balanced(tmp_path, config, {"SWITCHBOARD_STORE_PASSWORD": postgres_server.password}) as running:
        yield running


async def command(gateway: Gateway, *arguments: str) -> tuple[int, str]:
    """``python -m gateway`` with ``gateway``'s state folder, environment and settings (``--config``)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", arguments[0], "--config", str(gateway.config), *arguments[1:],
        env=child_env(gateway.home, **gateway.env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    async with asyncio.timeout(30):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def create_key(gateway: Gateway, *options: str) -> str:
    code, said = await command(gateway, "keys", "create", "--label", "team", *options)
    assert code == 0, said
    found = re.search(r"sk-sb-\S+", said)
    assert found is not None, said
    return found.group(0)


async def status(session: aiohttp.ClientSession, url: str, key: str) -> int:
    async with session.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {key}"}) as response:
        return response.status


async def within(seconds: float, check: Callable[[], Awaitable[bool]]) -> float:
    """How long ``check()`` took to come true, polled; AssertionError past ``seconds``."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "not seen in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def everywhere(session: aiohttp.ClientSession, team: Team, key: str, expected: int) -> bool:
    return all([await status(session, g.url, key) == expected for g in team.gateways])


async def test_a_key_made_with_one_gateways_settings_is_taken_by_both_at_once_and_revoked_refused_by_both(
    team: Team,
) -> None:
    one, two = team.gateways
    key = await create_key(one)
    key_id = key_id_of(key)
    assert key_id is not None
    async with aiohttp.ClientSession() as session:
        taken = await within(AT_ONCE, lambda: everywhere(session, team, key, 200))
        code, said = await command(two, "keys", "revoke", key_id)  # with the other's settings
        assert code == 0, said
        refused = await within(AT_ONCE, lambda: everywhere(session, team, key, 401))
    print(f"\nkey taken by both {taken:.2f} s after it was made, refused by both {refused:.2f} s after its revocation")


async def test_a_limit_of_n_requests_a_minute_admits_exactly_n_across_both_under_concurrent_load(
    team: Team,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    key = await create_key(team.gateways[0], "--limit", "requests_per_minute", str(LIMIT))
    bearer = {"Authorization": f"Bearer {key}"}

    async def chat(session: aiohttp.ClientSession) -> tuple[int, Any, str]:
        async with session.post(f"{team.nginx.url}/v1/chat/completions", json=CHAT, headers=bearer) as response:
            return response.status, await response.json(), response.headers["x-request-id"]

    async with aiohttp.ClientSession() as session:
        await within(AT_ONCE, lambda: everywhere(session, team, key, 200))
        answers = await asyncio.gather(*(chat(session) for _ in range(CONCURRENT)))
    statuses = Counter(code for code, _, _ in answers)
    assert statuses == {200: LIMIT, 429: CONCURRENT - LIMIT}, statuses
    for code, body, _ in answers:
        if code == 429:  # OpenAI's error shape
            assert set(body) == {"error"} and isinstance(body["error"]["message"], str), body
            assert body["error"]["type"] and "code" in body["error"], body
    served = team.nginx.served_by(CONCURRENT)[-CONCURRENT:]
    assert set(served) == {g.address for g in team.gateways}  # both took a share
    admitted = {request_id: code for code, _, request_id in answers if code == 200}
    await within(5, lambda: ledger_has(postgres_server, postgres_url, LIMIT))  # the batches' moments
    # Each admitted request once; the denials are not rows (as on one gateway: the audit log sums them up a minute).
    assert await usage(postgres_server, postgres_url) == admitted


async def usage(server: PostgresServer, url: str) -> dict[str, int]:
    """Each request's status in the team's ledger (AssertionError if one has two rows)."""
    async with await psycopg.AsyncConnection.connect(url, password=server.password) as conn:
        cursor = await conn.execute("SELECT request_id, status FROM usage WHERE kind = 'request'")
        rows = await cursor.fetchall()
    assert len(rows) == len({request_id for request_id, _ in rows}), "a request has two rows"
    return dict(rows)


async def ledger_has(server: PostgresServer, url: str, rows: int) -> bool:
    return len(await usage(server, url)) >= rows


async def test_sigkill_mid_load_loses_no_ledger_row_and_fails_over_with_no_client_visible_error(
    team: Team,
    upstream: FakeOpenAI,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    killed, survivor = team.gateways
    upstream.omit_usage = True  # the gateway counts each answer: its row is held (journaled as known) until then
    key = await create_key(killed, "--limit", "requests_per_minute", "100000")
    bearer = {"Authorization": f"Bearer {key}"}
    seen, done = Seen(), asyncio.Event()
    async with aiohttp.ClientSession() as session:
        await within(AT_ONCE, lambda: everywhere(session, team, key, 200))
        for gateway in team.gateways:  # each counts an answer once first: its tokenizer loaded (a second of CPU)
            async with session.post(f"{gateway.url}/v1/chat/completions", json=CHAT, headers=bearer) as response:
                assert response.status == 200
                seen.answered.append(response.headers["x-request-id"])
    running = asyncio.create_task(load(team.nginx.url, seen, done, bearer))
    await asyncio.sleep(0.8)
    killed.process.send_signal(signal.SIGKILL)
    await killed.process.wait()
    at_kill = time.monotonic()  # see test_team_balancer: a request made while it was dying is one it had in hand
    await asyncio.sleep(1.5)
    done.set()
    await running

    failed = seen.failed()
    assert all(at <= at_kill for at, _ in failed), "a request made after the kill failed"
    assert len(failed) <= CLIENTS and all(code in (0, 502) for _, code in failed), failed
    assert sum(1 for at, _ in seen.answers if at > at_kill) >= 2 * CLIENTS

    answered = Counter(seen.answered)
    assert max(answered.values()) == 1  # one id a request
    await asyncio.sleep(0.5)  # the survivor's batches are in (LINGER is a quarter of a second)
    before_restart = answered.keys() - (await usage(postgres_server, postgres_url)).keys()
    team.gateways = (await serve_again(killed), survivor)  # it writes what its journal holds as it starts
    rows = await usage(postgres_server, postgres_url)
    print(
        f"\nSIGKILL mid-load: {len(seen.answers)} requests, {len(failed)} failed; {len(answered)} answered with 200"
        " (one to each gateway before with them);"
        f" {len(before_restart)} of those not in the ledger until the killed gateway started again;"
        f" then {len(rows)} rows ({len(rows.keys() - answered.keys())} of requests no client saw answered)"
    )
    assert not answered.keys() - rows.keys(), "a request answered with 200 has no row"
    assert all(rows[request_id] == 200 for request_id in answered)
    assert len(rows.keys() - answered.keys()) <= len(failed)  # journaled as answered, then cut off by the kill

    for code, said in await asyncio.gather(*(command(g, "audit", "verify", "--json") for g in team.gateways)):
        assert code == 0, said  # from either gateway's machine: the one chain
        verdict = json.loads(said[said.index("{") :])
        assert verdict["ok"] and verdict["checked"] >= 1, verdict
