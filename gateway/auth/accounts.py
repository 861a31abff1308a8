"""Subscription accounts as the gateway runs them: each one a ``TokenSource`` for routing, all
of them kept in step with the database and where their tokens are kept (``AccountBook``).

Renewal is single-flight per account: however many requests find the token lapsed (or get a
401 with it) at once, one renewal runs and they all wait for it (SECURITY.md S37). A rotated
refresh token is stored before it is used. In team mode (``SharedRenewal``) the flight spans
gateways: a lock per account (Redis's, or the team database's) is held around the renewal, and a
gateway that waited on it first reads the credentials the winner stored, renewing only if they
too are stale; one refused after renewing without the lock (Redis down) reads them too before
giving up. A renewal the provider refuses for good marks the account "needs sign-in": routing
passes it by, requests fail over at once, and the audit log says so; a network failure only
fails this attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from gateway.auth.subscription import Credentials, RenewalFailed
from gateway.clock import Clock
from gateway.errors import Fix, UpstreamStatus, UpstreamUnreachable
from gateway.providers.access import Access
from gateway.store.accounts import AccountRow
from gateway.store.db import StoreError

log = logging.getLogger("gateway.accounts")

RISK = "subscription-terms"  # routing a subscription through a proxy may break its provider's terms
RISK_NOTE = (
    "Using a personal subscription through a proxy may break the provider's terms of service; "
    "the provider may limit or close the account."
)
PROVIDER = {"codex": "codex", "copilot": "copilot"}  # account kind -> the provider it serves


class AccountLock(Protocol):
    def held(self, account: str) -> AbstractAsyncContextManager[None]:
        """Held by one renewer of ``account`` among every gateway's."""
        ...


@dataclass(frozen=True, slots=True)
class SharedRenewal:
    """Renewals across gateways: ``lock`` per account id, and ``reread``, the account's
    credentials as the shared store holds them now (None: as this gateway has them)."""

    lock: AccountLock
    reread: Callable[[Account], Awaitable[Credentials | None]]


class Account:
    """One signed-in account. ``store`` persists credentials (before they are used);
    ``problem_found`` records a renewal the provider refused for good."""

    def __init__(
        self,
        row: AccountRow,
        credentials: Credentials,
        clock: Clock,
        store: Callable[[Account, str], asyncio.Future[None] | None],
        problem_found: Callable[[Account, str, str], None],
        shared: SharedRenewal | None = None,
    ) -> None:
        self.row = row
        self.credentials = credentials
        self._clock = clock
        self._store = store
        self._problem_found = problem_found
        self._problem: str | None = row.state if row.state != "ok" else None
        self._renewing: asyncio.Future[Access] | None = None
        self._shared = shared

    @property
    def label(self) -> str:
        return self.row.label

    @property
    def risk(self) -> str:
        return RISK

    @property
    def provider(self) -> str:
        return PROVIDER[self.row.kind]

    def problem(self) -> str | None:
        return self._problem

    def secrets(self) -> tuple[str, ...]:
        return self.credentials.secrets()

    async def access(self) -> Access:
        if self._problem is not None:
            raise self._refused(f"the account {self.label} needs attention ({self._problem})")
        current = self.credentials.current(self._clock.time())
        return current if current is not None else await self._renew(None)

    async def renewed(self, stale: Access) -> Access:
        current = self.credentials.current(self._clock.time())
        if current is not None and current.secret != stale.secret:
            return current  # another request renewed it meanwhile
        return await self._renew(stale.secret)

    async def _renew(self, stale: str | None) -> Access:
        if self._renewing is None or self._renewing.done():
            self._renewing = asyncio.ensure_future(self._renew_shared(stale))
        # Shielded: a client hanging up must not cancel the renewal the others wait on.
        return await asyncio.shield(self._renewing)

    async def _renew_shared(self, stale: str | None) -> Access:
        """``stale``: the token a request was refused with (None: the token lapsed). The shared
        store not answering fails this attempt over, as an upstream out of reach does: the renewal
        is not tried before its tokens are read there (its rotated token could not be stored)."""
        if self._shared is None:
            return await self._renew_once()
        try:
            async with self._shared.lock.held(self.row.id):
                if (stored := await self._shared.reread(self)) is not None:
                    self.credentials = stored
                current = self.credentials.current(self._clock.time())
                if current is not None and current.secret != stale:
                    return current  # another gateway renewed it while this one waited
                return await self._renew_once()
        except StoreError as exc:
            raise UpstreamUnreachable(
                f"{self.provider}: the account {self.label} cannot be renewed now: {exc}", provider=self.provider
            ) from None

    async def _renew_once(self) -> Access:
        try:
            fresh = await self.credentials.fetch()
        except RenewalFailed as exc:
            if exc.reason is None:
                raise UpstreamUnreachable(f"{self.provider}: {exc.message}", provider=self.provider) from None
            if (taken := await self._taken_over()) is not None:
                return taken
            self._problem = exc.reason
            self._problem_found(self, exc.reason, exc.message)
            raise self._refused(exc.message) from None
        stored = self.credentials.stored_after(fresh)
        if stored is not None:
            pending = self._store(self, stored)
            if pending is not None:
                await pending
        self.credentials.adopt(fresh)
        current = self.credentials.current(self._clock.time())
        if current is None:
            raise UpstreamUnreachable(
                f"{self.provider}: the renewed token is already due to lapse", provider=self.provider
            )
        return current

    async def _taken_over(self) -> Access | None:
        """What another gateway stored while this one's renewal was being refused, when they
        renewed at once (the lock not had: Redis down, or held too long): ChatGPT refuses a refresh
        token the other just rotated, which is theirs to use, not a sign-in to ask for."""
        if self._shared is None or (stored := await self._shared.reread(self)) is None:
            return None
        current = stored.current(self._clock.time())
        if current is not None:
            self.credentials = stored
        return current

    def _refused(self, message: str) -> UpstreamStatus:
        refused = UpstreamStatus(
            f"{self.provider}: {message}; sign in again",  # in words: the app shows it (its Try it)
            provider=self.provider,
            status=401,
            error_type="authentication_error",
            code=self._problem or "needs_sign_in",
        )
        refused.fix = Fix("sign_in_chatgpt") if self.row.kind == "codex" else Fix("sign_in_copilot")
        return refused

    async def settled(self) -> None:
        """After the renewal under way, if any, has ended (however it ended)."""
        if self._renewing is not None and not self._renewing.done():
            await asyncio.wait([self._renewing])

    def cancel(self) -> None:
        if self._renewing is not None and not self._renewing.done():
            self._renewing.cancel()
            with contextlib.suppress(BaseException):
                self._renewing.exception()
