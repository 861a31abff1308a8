"""The Redis client team mode uses: redis-py's asyncio one, imported only when Redis is configured
(the ``team`` extra), with short timeouts so an outage costs a request at most ``TIMEOUT``."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from gateway.errors import ConfigError

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Seconds for a connect or an answer. Redis answers in well under a millisecond on a LAN, but the
# wait is timed on this process's loop, which a burst of requests keeps busy: too short, and a busy
# gateway would take itself for cut off and fall back to its own windows.
TIMEOUT = 2.0
CONNECTIONS = 64  # per gateway: each call holds one for well under a millisecond
QUEUED = 10.0  # seconds a call may wait for a free connection in a burst


def connect(url: str, password: str | None = None) -> Redis:
    """A pooled client for ``url``; ``password`` stays inside the client (never logged). A burst
    beyond ``CONNECTIONS`` at once waits its turn for a connection (up to ``QUEUED``: the wait is
    this process's own load, not an outage), rather than failing as the default pool does and
    sending the gateway to its fallback."""
    try:
        from redis.asyncio import BlockingConnectionPool, Redis
    except ImportError:
        raise ConfigError("[shared].redis needs the redis package (install switchboard[team])") from None
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=CONNECTIONS,
        timeout=QUEUED,
        password=password,
        socket_timeout=TIMEOUT,
        socket_connect_timeout=TIMEOUT,
        health_check_interval=30,
    )
    return Redis(connection_pool=pool)


def failures() -> tuple[type[BaseException], ...]:
    """What a Redis outage raises: refused or reset connections, timeouts, a server loading or read-only."""
    from redis.exceptions import RedisError

    return (RedisError, OSError, TimeoutError)


async def answers(client: Redis) -> bool:
    """Whether Redis answers a PING now (what readiness asks)."""
    try:
        return bool(await asyncio.wait_for(client.ping(), TIMEOUT * 2))
    except failures():
        return False
