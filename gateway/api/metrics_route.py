"""``GET /metrics``: Prometheus text. Counts and timings only — never a key, a prompt or an answer.

It follows the inference routes' caller policy (open on loopback unless keys are required), or
asks for admin credentials when ``[server].metrics_auth`` is set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from aiohttp import web

from gateway.api.entry import Entry
from gateway.api.router import Handler
from gateway.pipeline.gateway import Gateway

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BREAKER = {"closed": 0, "half-open": 1, "open": 2}

Gauge = tuple[str, str, str, dict[str, str], float]


def _gauges(gateway: Gateway) -> Iterator[Gauge]:
    health = gateway.router.health
    for provider in gateway.providers:
        state = health.breaker_snapshot(provider.id)["state"]
        yield (
            "switchboard_breaker_state",
            "gauge",
            "Each provider's circuit breaker: 0 closed, 1 half-open, 2 open.",
            {"provider": provider.id},
            _BREAKER.get(state, 0),
        )
    stats = gateway.cache.stats()
    yield ("switchboard_cache_hits_total", "counter", "Answers served from the response cache.", {}, stats["hits"])
    yield (
        "switchboard_cache_misses_total",
        "counter",
        "Cacheable requests the cache could not answer.",
        {},
        stats["misses"],
    )
    totals = gateway.totals
    yield (
        "switchboard_answers_estimated_total",
        "counter",
        "Answers whose usage was counted here.",
        {},
        totals.estimated,
    )


def metrics_route(gateway: Gateway, entry: Entry, authorize: Callable[[Any], Awaitable[str]] | None) -> Handler:
    """``authorize``: the admin check, when metrics need admin credentials."""

    async def metrics(request: web.BaseRequest) -> web.Response:
        if authorize is not None:
            await authorize(request.headers)
        text = gateway.accounting.metrics.render(_gauges(gateway))
        return web.Response(body=text.encode("utf-8"), headers={"Content-Type": CONTENT_TYPE})

    return entry.wrap(metrics, identify=authorize is None)
