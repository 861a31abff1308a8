"""Two gateways that renew one ChatGPT token at once because neither had the lock (Redis down, or
held too long): the provider refuses the refresh token the other just rotated, and the refused
one takes the credentials the other stored rather than mark the account for sign-in. A refusal
with nothing new stored (the user signed out everywhere) still marks it; a shared store that
does not answer fails the attempt over and marks nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fakes.clock import FakeClock

from gateway.auth.accounts import Account, SharedRenewal
from gateway.auth.subscription import Credentials, RenewalFailed
from gateway.errors import UpstreamStatus, UpstreamUnreachable
from gateway.providers.access import Access
from gateway.providers.quota import QuotaWindow
from gateway.store.accounts import AccountRow
from gateway.store.db import StoreError

ROW = AccountRow("acct-1", "codex", "work", "sub", "", "plus", "ok", "login", "", 0.0, 0.0)


class NotHad:
    """A lock per account that is never had: each renews regardless (as while Redis is down)."""

    @contextlib.asynccontextmanager
    async def held(self, account: str) -> AsyncIterator[None]:
        yield


class Rotating:
    """A token endpoint whose refresh tokens each work once, answering after a moment."""

    def __init__(self) -> None:
        self.refresh = "r0"
        self.renewals = 0

    async def renew(self, refresh: str) -> list[Any]:
        await asyncio.sleep(0.05)
        if refresh != self.refresh:
            raise RenewalFailed("the refresh token was already used", "needs_sign_in")
        self.renewals += 1
        self.refresh = f"r{self.renewals}"
        return [f"access-{self.renewals}", self.refresh, 2_000_000_000.0]


class Pair:
    def __init__(self, endpoint: Rotating, stored: list[Any]) -> None:
        self.endpoint = endpoint
        self.access, self.refresh, self.expires = stored

    def current(self, now: float) -> Access | None:
        return Access(self.access) if now < self.expires else None

    async def fetch(self) -> list[Any]:
        return await self.endpoint.renew(self.refresh)

    def stored_after(self, fresh: list[Any]) -> str:
        return json.dumps(fresh)

    def adopt(self, fresh: list[Any]) -> None:
        self.access, self.refresh, self.expires = fresh

    def stored_now(self) -> str:
        return json.dumps([self.access, self.refresh, self.expires])

    def secrets(self) -> tuple[str, ...]:
        return (self.access, self.refresh)

    async def quota(self) -> tuple[tuple[QuotaWindow, ...], str | None]:
        return (), None


class Team:
    """The token endpoint, and what the gateways' shared store holds."""

    def __init__(self) -> None:
        self.endpoint = Rotating()
        self.stored = json.dumps(["access-0", "r0", 0.0])  # lapsed long ago
        self.problems: list[str] = []

    def gateway(self) -> Account:
        def store(account: Account, stored: str) -> None:
            self.stored = stored

        async def reread(account: Account) -> Credentials | None:
            stored = self.stored
            return None if stored == account.credentials.stored_now() else Pair(self.endpoint, json.loads(stored))

        def problem(account: Account, reason: str, message: str) -> None:
            self.problems.append(reason)

        shared = SharedRenewal(NotHad(), reread)
        return Account(ROW, Pair(self.endpoint, json.loads(self.stored)), FakeClock(), store, problem, shared)


async def test_the_refused_one_takes_what_the_other_stored_rather_than_ask_for_a_sign_in() -> None:
    team = Team()
    one, two = team.gateway(), team.gateway()
    answers = await asyncio.gather(one.access(), two.access())
    assert team.endpoint.renewals == 1
    assert [a.secret for a in answers] == ["access-1", "access-1"]
    assert team.problems == [] and two.problem() is None and one.problem() is None


async def test_a_refusal_with_nothing_new_stored_still_asks_for_a_sign_in() -> None:
    team = Team()
    team.endpoint.refresh = "revoked everywhere"
    refused = await asyncio.gather(team.gateway().access(), return_exceptions=True)
    assert isinstance(refused[0], UpstreamStatus) and team.problems == ["needs_sign_in"]


async def test_a_shared_store_that_does_not_answer_fails_the_attempt_over_not_the_account() -> None:
    """The team's database down: the renewal is not tried (its rotated token could not be stored),
    the request fails over as from an unreachable upstream, and the account is not marked."""
    team = Team()
    gateway = team.gateway()

    async def unanswered(account: Account) -> Credentials | None:
        raise StoreError("the team's database did not answer")

    assert gateway._shared is not None
    gateway._shared = SharedRenewal(gateway._shared.lock, unanswered)
    refused = await asyncio.gather(gateway.access(), return_exceptions=True)
    assert isinstance(refused[0], UpstreamUnreachable) and "did not answer" in str(refused[0])
    assert team.endpoint.renewals == 0 and team.problems == [] and gateway.problem() is None
