"""Trying a plan's candidates in turn until one answers.

A retryable failure before the first byte moves on to the next candidate; a fatal one (the request
itself is at fault) is answered at once; no candidate is tried twice; a deadline bounds the whole.
Whatever is returned or raised names the route taken and how many attempts it took.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from gateway.clock import Clock
from gateway.errors import (
    GatewayError,
    NoRouteAvailable,
    RequestRejected,
    UpstreamStatus,
    UpstreamTimeout,
)
from gateway.providers.access import Access
from gateway.providers.ratelimit import clamp_wait
from gateway.providers.settings import SUBSCRIPTIONS
from gateway.routing.failure import classify
from gateway.routing.health import Health
from gateway.routing.router import Candidate, Plan

log = logging.getLogger("gateway.routing")

T = TypeVar("T")

_LIMITED = frozenset({"rate_limited", "quota_exhausted"})


@dataclass(frozen=True, slots=True)
class Routed(Generic[T]):
    value: T
    candidate: Candidate | None  # None: answered from the response cache
    attempts: int
    cached_from: str | None = None  # the route that first served a cached answer
    dropped: tuple[str, ...] = ()  # what the client sent that the route's protocol could not carry

    @property
    def route(self) -> str:
        if self.candidate is not None:
            return self.candidate.route
        return f"cache; first served by {self.cached_from}"


async def first_success(
    plan: Plan,
    attempt: Callable[[Candidate, float], Awaitable[T]],
    health: Health,
    clock: Clock,
    deadline: float,
    request_id: str,
    moved_on: Callable[[Candidate, GatewayError], None] | None = None,
) -> Routed[T]:
    """``attempt(candidate, seconds_left)`` for each candidate in turn; the first value wins.

    ``deadline`` is on the clock's monotonic scale; ``moved_on`` hears of each route that failed
    and is left for the next.
    """
    attempts = 0
    failure: GatewayError | None = None
    refused: GatewayError | None = None  # the gateway could not put the request to a route
    limited: list[float] = []  # how long the rate-limited routes still rest
    last: Candidate | None = None
    for candidate in plan.candidates:
        started = clock.monotonic()
        left = deadline - started
        if left <= 0:
            failure = UpstreamTimeout(
                f"no answer within the request's deadline after {attempts} attempt(s)",
                provider=candidate.target.provider,
            )
            break
        cred = candidate.cred
        if not health.begin(cred, plan.probe):
            continue  # its provider's breaker is half-open and another request holds the probe
        attempts += 1
        last = candidate
        try:
            value = await attempt(candidate, left)
        except RequestRejected as err:
            health.abandoned(cred)
            refused = refused or err
            continue
        except GatewayError as err:
            verdict = classify(err)
            health.failed(cred, candidate.target.upstream_model, verdict)
            if verdict.fatal:
                raise _named(err, candidate, attempts) from None
            log.info("%s: %s failed (%s); trying the next route", request_id, candidate.route, verdict.reason)
            if moved_on is not None:
                moved_on(candidate, err)
            if verdict.action in ("cool", "bench") and (
                resting := health.blocked(cred, candidate.target.upstream_model)
            ):
                limited.append(resting[1])  # as long as health now holds it, defaults included
            # Classified: its traceback's frames (the request body, the upstream's answer) are
            # not kept while the next routes are tried.
            failure = err.with_traceback(None)
            continue
        except BaseException:
            health.abandoned(cred)
            raise
        health.succeeded(cred, clock.monotonic() - started, candidate.target.upstream_model)
        return Routed(value, candidate, attempts)
    limited += (r.seconds for r in plan.rejected if r.reason in _LIMITED and r.seconds is not None)
    if failure is None:
        failure = refused or _nowhere(plan, limited)
    elif failure.status == 429 and limited:
        failure.retry_after = clamp_wait(min(limited))  # when the first route is free again
    try:
        raise _named(failure, last, attempts) from None
    finally:
        # The raised error's traceback holds this frame: a local naming the error would make a
        # cycle that only the rare full collection frees, with every frame's request body in it.
        failure = refused = None


def _keyless(providers: tuple[str, ...]) -> str:
    """What is missing, when what was asked for has nobody to send it with."""
    said = []
    for provider in providers:
        if provider in SUBSCRIPTIONS:
            said.append(
                f"no {provider} account is connected (sign one in on Switchboard's Accounts page, "
                "or with its accounts command)"
            )
        else:
            said.append(f"{provider} has no key")
    return ": " + "; ".join(said) if said else ""


def _nowhere(plan: Plan, limited: list[float]) -> NoRouteAvailable:
    if not plan.rejected:
        return NoRouteAvailable(
            f"no route can serve '{plan.name}'{_keyless(plan.keyless)}", status=503, retry_after=None
        )
    wait = clamp_wait(min(r.seconds or 0.0 for r in plan.rejected))
    reasons = ", ".join(sorted({r.reason for r in plan.rejected}))
    return NoRouteAvailable(
        f"every route for '{plan.name}' is resting ({reasons}); the first is free again in {wait} s",
        status=429 if limited else 503,
        retry_after=wait,
    )


def _named(err: GatewayError, candidate: Candidate | None, attempts: int) -> GatewayError:
    err.route = candidate.route if candidate is not None else None
    err.attempts = attempts
    return err


def with_access(attempt: Callable[[Candidate, float], Awaitable[T]]) -> Callable[[Candidate, float], Awaitable[T]]:
    """``attempt`` with a signed-in account's current token in place of the key: renewed first
    when it is about to lapse, and once more (then tried again) when the upstream refuses it."""

    def attempt_with_access(candidate: Candidate, left: float) -> Awaitable[T]:
        # An API key goes straight through: no extra coroutine on the usual path.
        return attempt(candidate, left) if candidate.cred.source is None else with_token(candidate, left)

    async def with_token(candidate: Candidate, left: float) -> T:
        source = candidate.cred.source
        assert source is not None
        access = await source.access()
        try:
            return await attempt(_holding(candidate, access), left)
        except UpstreamStatus as err:
            if err.status != 401:
                raise
        return await attempt(_holding(candidate, await source.renewed(access)), left)

    return attempt_with_access


def _holding(candidate: Candidate, access: Access) -> Candidate:
    return Candidate(candidate.target, replace(candidate.cred, secret=access))
