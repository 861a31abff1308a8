"""Every failure class of protocols.md §9 gets the right verdict."""

from __future__ import annotations

import pytest

from gateway.errors import (
    GatewayError,
    InvalidRequest,
    UpstreamBadResponse,
    UpstreamStatus,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from gateway.routing.failure import classify


def status(
    code: int,
    *,
    error_type: str = "x",
    err_code: str | None = None,
    resets_in: float | None = None,
    should_retry: bool | None = None,
) -> UpstreamStatus:
    return UpstreamStatus(
        "m",
        provider="p",
        status=code,
        error_type=error_type,
        code=err_code,
        resets_in=resets_in,
        should_retry=should_retry,
    )


@pytest.mark.parametrize(
    ("err", "action", "breaker"),
    [
        (UpstreamUnreachable("m", provider="p"), "retry", True),
        (UpstreamTimeout("m", provider="p"), "retry", True),
        (UpstreamBadResponse("m", provider="p"), "retry", True),
        (status(500), "retry", True),
        (status(502), "retry", True),
        (status(503), "retry", True),
        (status(529), "retry", True),
        (status(522), "retry", True),
        (status(408), "retry", False),
        (status(409), "retry", False),
        (status(429), "cool", False),
        (status(429, err_code="insufficient_quota"), "bench", False),
        (status(429, err_code="usage_limit_reached"), "bench", False),
        (status(402), "bench", False),
        (status(401), "bench", False),
        (status(403), "bench", False),
        (status(400), "fatal", False),
        (status(404), "fatal", False),
        (status(413), "fatal", False),
        (status(422), "fatal", False),
        (status(400, should_retry=True), "retry", False),
        (status(500, should_retry=False), "fatal", False),
        (InvalidRequest("m"), "fatal", False),
    ],
)
def test_verdicts(err: GatewayError, action: str, breaker: bool) -> None:
    verdict = classify(err)
    assert (verdict.action, verdict.breaker) == (action, breaker)


def test_the_upstreams_wait_is_kept_uncapped() -> None:
    assert classify(status(429, resets_in=7.5)).wait == 7.5
    assert classify(status(429, err_code="usage_limit_reached", resets_in=4 * 86400)).wait == 4 * 86400
