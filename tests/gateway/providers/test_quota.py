"""Quota windows read from each upstream's headers, events and usage endpoints."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.providers.quota import (
    codex_event,
    codex_headers,
    codex_usage,
    copilot_headers,
    copilot_user,
    ratelimit_headers,
)

NOW = 1_800_000_000.0


def test_codex_headers_give_both_windows_with_their_length_and_reset() -> None:
    primary, secondary = codex_headers(
        {
            "x-codex-primary-used-percent": "37.5",
            "x-codex-primary-window-minutes": "300",
            "x-codex-primary-reset-at": "1800003600",
            "x-codex-secondary-used-percent": "101",
            "x-codex-secondary-window-minutes": "10080",
            "x-codex-secondary-reset-after-seconds": "7200",
        },
        NOW,
    )
    assert (primary.name, primary.used_percent, primary.window_seconds, primary.resets_at) == (
        "primary",
        37.5,
        18000,
        1800003600,
    )
    assert secondary.used_percent == 100.0 and secondary.exhausted and secondary.resets_at == NOW + 7200
    assert codex_headers({"x-codex-primary-used-percent": "nan"}, NOW) == ()


def test_codex_stream_event_and_usage_endpoint() -> None:
    (primary,) = codex_event(
        {
            "type": "codex.rate_limits",
            "rate_limits": {"primary": {"used_percent": 5, "window_minutes": 300, "reset_at": 9}},
        }
    )
    assert (primary.used_percent, primary.window_seconds, primary.resets_at) == (5.0, 18000, 9.0)
    windows = codex_usage(
        {
            "plan_type": "pro",
            "rate_limit": {
                "primary_window": {"used_percent": 20, "reset_at": 5, "limit_window_seconds": 18000},
                "secondary_window": {"used_percent": 70, "reset_at": 6, "limit_window_seconds": 604800},
            },
            "credits": {"has_credits": True, "unlimited": False, "balance": "12.5"},
        }
    )
    assert [(w.name, w.used_percent) for w in windows] == [("primary", 20.0), ("secondary", 70.0), ("credits", 0.0)]
    assert windows[2].remaining == 12.5


def test_copilot_user_endpoint_and_header() -> None:
    premium, chat = copilot_user(
        {
            "quota_reset_date": "2026-12-01",
            "quota_snapshots": {
                "premium_interactions": {
                    "entitlement": 300,
                    "remaining": 30,
                    "percent_remaining": 10.0,
                    "unlimited": False,
                },
                "chat": {"entitlement": 0, "remaining": 0, "percent_remaining": 100, "unlimited": True},
            },
        }
    )
    assert premium.used_percent == 90.0 and premium.entitlement == 300 and premium.remaining == 30
    assert premium.resets_at == datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    assert chat.unlimited and not chat.exhausted
    (window,) = copilot_headers(
        {"x-quota-snapshot-premium_interactions": "ent=300&ov=0.0&ovPerm=false&rem=0&rst=2026-12-01T00%3A00%3A00Z"}
    )
    assert window.exhausted and window.resets_at == premium.resets_at
    (free,) = copilot_headers({"x-quota-snapshot-chat": "ent=-1&rem=100"})
    assert free.unlimited and free.name == "chat"


def test_api_key_rate_limit_headers_openai_and_anthropic() -> None:
    requests, tokens = ratelimit_headers(
        {
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "15",
            "x-ratelimit-reset-requests": "1m30s",
            "x-ratelimit-limit-tokens": "1000",
            "x-ratelimit-remaining-tokens": "1000",
            "x-ratelimit-reset-tokens": "0s",
        },
        NOW,
    )
    assert (requests.used_percent, requests.resets_at, requests.entitlement) == (75.0, NOW + 90, 60)
    assert tokens.used_percent == 0.0
    (anthropic,) = ratelimit_headers(
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": "2027-01-15T08:00:30Z",
        },
        NOW,
    )
    assert anthropic.exhausted and anthropic.resets_at == datetime(2027, 1, 15, 8, 0, 30, tzinfo=UTC).timestamp()
    assert ratelimit_headers({}, NOW) == ()
