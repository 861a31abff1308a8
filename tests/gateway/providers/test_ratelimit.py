from __future__ import annotations

import pytest

from gateway.providers.ratelimit import (
    MAX_WAIT,
    clamp_wait,
    parse_duration,
    should_retry,
    wait_seconds,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12ms", 0.012), ("1s", 1), ("6m0s", 360), ("1h2m3.5s", 3723.5), ("2m59.56s", 179.56), ("7.66s", 7.66)],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5", "1x", "-1s"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "7"}, 7),
        ({"retry-after": "0.2"}, 1),
        ({"retry-after-ms": "2500", "retry-after": "60"}, 3),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:27 GMT"}, 7),
        ({"retry-after": "999999999"}, MAX_WAIT),
        ({"retry-after": "garbage", "x-ratelimit-reset-requests": "6m0s"}, 360),
        ({"x-ratelimit-reset-tokens": "1.5s"}, 2),
        ({"anthropic-ratelimit-requests-reset": "2023-11-14T22:13:21Z"}, 1),
        ({"anthropic-ratelimit-tokens-reset": "2023-11-14T22:13:37+00:00"}, 17),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "-5"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: int | None) -> None:
    seconds = wait_seconds(headers, NOW)
    assert (None if seconds is None else clamp_wait(seconds)) == expected


def test_wait_is_kept_uncapped_for_benching() -> None:
    """A weekly quota's reset is days away: the router benches for that long, the client is told
    at most MAX_WAIT."""
    assert wait_seconds({"retry-after": str(5 * 86400)}, NOW) == 5 * 86400


@pytest.mark.parametrize(("value", "verdict"), [("true", True), ("FALSE", False), ("maybe", None), (None, None)])
def test_should_retry(value: str | None, verdict: bool | None) -> None:
    assert should_retry({} if value is None else {"x-should-retry": value}) is verdict
