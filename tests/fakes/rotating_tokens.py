"""ChatGPT's token endpoint as far as rotation goes, and credentials renewed at it: each refresh
token works once (the next is refused as already used), so two renewals of one token show."""

from __future__ import annotations

import asyncio
import json

from gateway.auth.subscription import RenewalFailed
from gateway.providers.access import Access
from gateway.providers.quota import QuotaWindow

Fresh = tuple[str, str, float]  # access token, refresh token, when the access token lapses


class RotatingEndpoint:
    def __init__(self, delay: float) -> None:
        """``delay``: seconds each renewal takes, long enough for other requests to pile up."""
        self.delay = delay
        self.refresh = "r0"
        self.renewals = 0

    async def renew(self, refresh: str) -> Fresh:
        await asyncio.sleep(self.delay)
        if refresh != self.refresh:
            raise RenewalFailed("the refresh token was already used", "needs_sign_in")
        self.renewals += 1
        self.refresh = f"r{self.renewals}"
        return f"access-{self.renewals}", self.refresh, 2_000_000_000.0


class RotatingCredentials:
    """``Credentials`` as the store keeps them: JSON of (access, refresh, lapses at)."""

    def __init__(self, endpoint: RotatingEndpoint, stored: str) -> None:
        self.endpoint = endpoint
        self.access, self.refresh, self.expires = json.loads(stored)

    def current(self, now: float) -> Access | None:
        return Access(self.access) if now < self.expires else None

    async def fetch(self) -> Fresh:
        return await self.endpoint.renew(self.refresh)

    def stored_after(self, fresh: Fresh) -> str:
        return json.dumps(fresh)

    def adopt(self, fresh: Fresh) -> None:
        self.access, self.refresh, self.expires = fresh

    def stored_now(self) -> str:
        return json.dumps([self.access, self.refresh, self.expires])

    def secrets(self) -> tuple[str, ...]:
        return (self.access, self.refresh)

    async def quota(self) -> tuple[tuple[QuotaWindow, ...], str | None]:
        return (), None
