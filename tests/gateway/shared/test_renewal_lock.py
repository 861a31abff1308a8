"""OAuth renewal across gateways over a real Redis: two gateways' accounts find the same ChatGPT
token lapsed under concurrent requests, and it is renewed exactly once; the loser waits, reads
the rotated token the winner stored, and never spends the revoked refresh token. Without the lock
the same race renews twice and one side is refused for good. Redis down: renewal goes on. A
slow renewal keeps the lock while it runs, and a waiter waits longer than a renewal may take."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes.clock import FakeClock
from fakes.rotating_tokens import RotatingCredentials, RotatingEndpoint
from servers.redis import RedisServer

from gateway.auth.accounts import Account, SharedRenewal
from gateway.auth.oauth.http import TIMEOUTS
from gateway.auth.subscription import Credentials
from gateway.errors import UpstreamStatus
from gateway.providers.access import Access
from gateway.shared import renewal_lock
from gateway.shared.link import connect
from gateway.shared.renewal_lock import RenewalLock
from gateway.store.accounts import AccountRow
from gateway.store.postgres import tokens as postgres_tokens

ROW = AccountRow("acct-1", "codex", "work", "sub", "a@example.com", "plus", "ok", "login", "", 0.0, 0.0)


@dataclass
class Team:
    """What the gateways share: the provider, and the account store (the secret each reads)."""

    provider: RotatingEndpoint = field(default_factory=lambda: RotatingEndpoint(0.2))
    stored: str = json.dumps(["access-0", "r0", 0.0])  # lapsed long ago

    def credentials(self) -> Credentials:
        return RotatingCredentials(self.provider, self.stored)

    def gateway(self, lock: RenewalLock | None) -> Account:
        def store(account: Account, stored: str) -> None:
            self.stored = stored

        async def reread(account: Account) -> Credentials | None:
            return self.credentials()

        shared = SharedRenewal(lock, reread) if lock is not None else None
        return Account(ROW, self.credentials(), FakeClock(), store, lambda *_: None, shared)


@pytest.fixture
async def locks(redis_server: RedisServer) -> AsyncIterator[tuple[RenewalLock, RenewalLock]]:
    first, second = connect(redis_server.url), connect(redis_server.url)
    yield RenewalLock(first, "test-renewal-a"), RenewalLock(second, "test-renewal-a")
    await first.aclose()
    await second.aclose()


async def test_two_gateways_renew_a_lapsed_token_once(locks: tuple[RenewalLock, RenewalLock]) -> None:
    team = Team()
    one, two = team.gateway(locks[0]), team.gateway(locks[1])
    accesses = await asyncio.gather(*(gateway.access() for _ in range(10) for gateway in (one, two)))
    assert team.provider.renewals == 1
    assert {a.secret for a in accesses} == {"access-1"}
    assert json.loads(team.stored)[:2] == ["access-1", "r1"]  # stored before anyone used it


async def test_a_401_on_one_gateway_after_the_other_renewed_reads_the_new_token(
    locks: tuple[RenewalLock, RenewalLock],
) -> None:
    team = Team()
    one, two = team.gateway(locks[0]), team.gateway(locks[1])
    first = await one.access()
    assert (await two.renewed(Access("access-0"))).secret == first.secret == "access-1"
    assert team.provider.renewals == 1
    assert (await two.renewed(first)).secret == "access-2"  # refused with the new one: renewed again


async def test_without_the_lock_both_renew_and_one_is_refused() -> None:
    team = Team()
    one, two = team.gateway(None), team.gateway(None)
    answers = await asyncio.gather(one.access(), two.access(), return_exceptions=True)
    assert team.provider.renewals == 1
    assert sum(isinstance(a, UpstreamStatus) for a in answers) == 1  # the revoked refresh token


async def test_while_redis_is_down_the_renewal_goes_on(redis_folder: Path) -> None:
    server = RedisServer(redis_folder)
    server.start()
    client = connect(server.url)
    server.stop()
    team = Team()
    try:
        assert (await team.gateway(RenewalLock(client)).access()).secret == "access-1"
    finally:
        await client.aclose()


def test_a_waiter_waits_longer_than_a_renewal_may_take() -> None:
    """A token exchange may take up to its total timeout: a waiter that gave up sooner would renew
    with the refresh token the holder is still spending (Redis's lock or the database's)."""
    assert TIMEOUTS.total < min(renewal_lock.WAIT, postgres_tokens.WAIT)


async def test_a_renewal_longer_than_the_hold_keeps_the_lock_until_it_ends(
    locks: tuple[RenewalLock, RenewalLock], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``HOLD`` frees the lock of a gateway that died; a live one's slow renewal keeps it."""
    monkeypatch.setattr(renewal_lock, "HOLD", 0.3)
    seen: list[str] = []

    async def renewal(name: str, lock: RenewalLock, takes: float) -> None:
        async with lock.held("acct-slow"):
            seen.append(f"{name} in")
            await asyncio.sleep(takes)
            seen.append(f"{name} out")

    first = asyncio.ensure_future(renewal("slow", locks[0], 1.0))
    await asyncio.sleep(0.05)
    await asyncio.gather(first, renewal("next", locks[1], 0.0))
    assert seen == ["slow in", "slow out", "next in", "next out"]
