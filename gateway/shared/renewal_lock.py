"""A lock per account in Redis around an OAuth renewal, so of several gateways one renews a
ChatGPT refresh token (which rotates: the old one is revoked) and the others wait, then read what
the winner stored.

Taken with ``SET NX PX`` under a random token and let go by a script that deletes it only while
it still holds that token, so a holder that outlived ``HOLD`` never frees another's. While the
renewal runs its holder extends the lock every third of ``HOLD`` (a token exchange may take a
minute); a holder that dies frees it when ``HOLD`` runs out. A waiter gives up after ``WAIT``,
longer than a renewal may take, and renews itself.
While Redis does not answer, the renewal goes ahead unlocked (said in the log): a request that
cannot renew fails, while two renewals colliding needs an outage and a lapse at the same moment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from gateway.shared.link import failures

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway.accounts")

HOLD = 30.0  # seconds the lock outlives its holder's last extension (a gateway that died mid-renewal)
WAIT = 80.0  # seconds a waiter waits: a renewal's token exchange gives up after 60 (oauth.http's TIMEOUTS)
POLL = 0.05  # seconds between tries while another holds it

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RenewalLock:
    def __init__(self, client: Redis, prefix: str = "switchboard:renewal") -> None:
        self._client = client
        self._prefix = prefix
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    @contextlib.asynccontextmanager
    async def held(self, account: str) -> AsyncIterator[None]:
        """Held for ``account`` while the body runs (or not at all, past ``WAIT`` or in an outage)."""
        key, token = f"{self._prefix}:{account}", secrets.token_hex(16)
        taken = await self._take(key, token)
        keeping = asyncio.get_running_loop().create_task(self._keep(key, token)) if taken else None
        try:
            yield
        finally:
            if keeping is not None:
                keeping.cancel()
                await asyncio.wait([keeping])
            if taken:
                try:
                    await self._release(keys=[key], args=[token])
                except failures() as exc:  # it frees itself after HOLD
                    log.warning("Redis did not answer (%s): the renewal lock frees itself", type(exc).__name__)

    async def _keep(self, key: str, token: str) -> None:
        """The lock extended while its renewal runs, however long that is (until cancelled)."""
        while True:
            await asyncio.sleep(HOLD / 3)
            try:
                await self._extend(keys=[key], args=[token, round(HOLD * 1000)])
            except failures() as exc:  # tried again at the next third; without it, it frees itself
                log.warning("Redis did not answer (%s): the renewal lock was not extended", type(exc).__name__)

    async def _take(self, key: str, token: str) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        try:
            while not await self._client.set(key, token, nx=True, px=round(HOLD * 1000)):
                if loop.time() >= deadline:
                    log.warning("the renewal lock %s was held for over %g s: renewing regardless", key, WAIT)
                    return False
                await asyncio.sleep(POLL)
        except failures() as exc:
            log.warning("Redis did not answer (%s): renewing without the shared lock", type(exc).__name__)
            return False
        return True
