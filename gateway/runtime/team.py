"""Team mode's wiring: with ``[shared] redis`` set, the limits live in Redis (one client per
process, made at the start); without it, everything stays in this process as on the desktop."""

from __future__ import annotations

from gateway.clock import Clock
from gateway.config.settings import Settings
from gateway.pipeline.limit_book import LimitBook
from gateway.pipeline.limits import Limits
from gateway.pipeline.shared_limits import SharedLimits
from gateway.shared.link import connect, failures
from gateway.shared.windows import SharedWindows


def limits_for(settings: Settings, clock: Clock) -> LimitBook:
    if settings.shared.redis is None:
        return Limits(clock)
    return SharedLimits(SharedWindows(connect(settings.shared.redis)), Limits(clock), clock, failures())
