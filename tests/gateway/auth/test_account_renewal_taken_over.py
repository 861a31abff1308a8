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

from fakes.clock import FakeClock
from fakes.rotating_tokens import RotatingCredentials, RotatingEndpoint

from gateway.auth.accounts import Account, SharedRenewal
from gateway.auth.subscription import Credentials
from gateway.errors import UpstreamStatus, UpstreamUnreachable
from gateway.store.accounts import AccountRow
from gateway.store.db import StoreError

ROW = AccountRow("acct-1", "codex", "work", "sub", "", "plus", "ok", "login", "", 0.0, 0.0)


class NotHad:
    """A lock per account that is never had: each renews regardless (as while Redis is down)."""

    @contextlib.asynccontextmanager
    async def held(self, account: str) -> AsyncIterator[None]:
        yield


class Team:
    """The token endpoint, and what the gateways' shared store holds."""

    def __init__(self) -> None:
        self.endpoint = RotatingEndpoint(0.05)
        self.stored = json.dumps(["access-0", "r0", 0.0])  # lapsed long ago
        self.problems: list[str] = []

    def gateway(self) -> Account:
        def store(account: Account, stored: str) -> None:
            self.stored = stored

        async def reread(account: Account) -> Credentials | None:
            stored = self.stored
            return None if stored == account.credentials.stored_now() else RotatingCredentials(self.endpoint, stored)

        def problem(account: Account, reason: str, message: str) -> None:
            self.problems.append(reason)

        shared = SharedRenewal(NotHad(), reread)
        return Account(ROW, RotatingCredentials(self.endpoint, self.stored), FakeClock(), store, problem, shared)


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
