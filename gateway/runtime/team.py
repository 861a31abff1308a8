"""Team mode's wiring: with ``[shared] redis`` set, one Redis client per process holds the limits'
windows and the accounts' renewal locks, carries the routes' rests between the gateways, and
readiness asks it; without it, everything stays in this process as on the desktop (and redis-py is
never imported)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.clock import Clock
from gateway.config.settings import Settings
from gateway.config.shared import PASSWORD_ENV, PASSWORD_SECRET
from gateway.pipeline.limit_book import LimitBook
from gateway.pipeline.limits import Limits
from gateway.pipeline.shared_limits import SharedLimits
from gateway.routing.health import Health
from gateway.shared.link import answers, connect, failures
from gateway.shared.renewal_lock import RenewalLock
from gateway.shared.route_rests import RouteRests
from gateway.shared.windows import SharedWindows
from gateway.store.secrets import SecretStore

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass(frozen=True, slots=True)
class Team:
    redis: Redis
    limits: SharedLimits
    rests: RouteRests

    @classmethod
    def made(
        cls,
        settings: Settings,
        clock: Clock,
        secrets: SecretStore | None = None,
        env: Mapping[str, str] = os.environ,
    ) -> Team | None:
        """The client for ``[shared] redis``, its password from ``env`` or else ``secrets`` (none: no AUTH)."""
        url = settings.shared.redis
        if url is None:
            return None
        password = env.get(PASSWORD_ENV) or (secrets.get(PASSWORD_SECRET) if secrets is not None else None)
        redis = connect(url, password)
        return cls(redis, SharedLimits(SharedWindows(redis), Limits(clock), clock, failures()), RouteRests(redis))

    def renewal_lock(self) -> RenewalLock:
        return RenewalLock(self.redis)

    def share_rests(self, health: Health) -> None:
        """From now on (on the event loop), the rests ``health`` sets are told to the team, and theirs heard."""
        health.told = self.rests.tell
        self.rests.listen(health.heard)

    async def answers(self) -> bool:
        return await answers(self.redis)

    async def close(self) -> None:
        """After the settlements still on their way to Redis."""
        await self.limits.drained()
        await self.rests.close()
        await self.redis.aclose()


def limits_for(team: Team | None, clock: Clock) -> LimitBook:
    return Limits(clock) if team is None else team.limits
