"""The doctor's look at the team's Redis: a client of its own with the gateways' password, a few
PINGs timed (the best of them is the round trip every limited request pays), then closed."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from gateway.errors import reason_of
from gateway.shared.link import connect, failures

Problem = Literal["unreachable", "password", "refused"]
PINGS = 3  # the first also connects (and authenticates): the best of the rest is the round trip


@dataclass(frozen=True, slots=True)
class RedisCheckup:
    where: str  # host:port, or the socket's path; never credentials
    problem: Problem | None  # None: it answered, with the gateways' password
    detail: str  # redis-py's words, when it did not
    round_trip: float  # seconds, the best PING's (0 when it did not answer)


def where(url: str) -> str:
    parts = urlsplit(url)
    return parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"


async def check_redis(url: str, password: str | None) -> RedisCheckup:
    from redis.exceptions import AuthenticationError, ConnectionError, TimeoutError

    client, place = connect(url, password), where(url)
    best = float("inf")
    try:
        for _ in range(PINGS):
            start = time.perf_counter()
            await client.ping()
            best = min(best, time.perf_counter() - start)
    except AuthenticationError as exc:
        return RedisCheckup(place, "password", str(exc), 0.0)
    except (ConnectionError, TimeoutError, OSError) as exc:
        return RedisCheckup(place, "unreachable", _reason(exc), 0.0)
    except failures() as exc:  # it answered, but refused: a user without the right, a server loading
        return RedisCheckup(place, "refused", str(exc), 0.0)
    finally:
        await client.aclose(close_connection_pool=True)  # its pool is this check's alone
    return RedisCheckup(place, None, "", best)


def _reason(exc: BaseException) -> str:
    """Why it could not be reached, in words (redis-py's own text carries the errno)."""
    cause = exc if isinstance(exc, OSError) else exc.__cause__
    if isinstance(cause, OSError):
        return reason_of(cause)
    return "it did not answer in time" if "Timeout" in type(exc).__name__ else str(exc) or type(exc).__name__
