from __future__ import annotations

import json

import pytest
from fakes.clock import FakeClock

from gateway.config.settings import HealthPolicy
from gateway.providers.quota import QuotaWindow
from gateway.providers.upstream_errors import upstream_error
from gateway.routing.failure import Verdict, classify
from gateway.routing.health import MAX_BENCH, MAX_COOL, Health
from gateway.routing.pool import Credential
from gateway.routing.quota import QuotaBook

A = Credential("groq", "groq#1", "k1")
B = Credential("groq", "groq#2", "k2")
POLICY = HealthPolicy(cooldown=10, exhausted=3600, credential=600, breaker_failures=2, breaker_cooloff=30)


def test_a_429_cools_only_that_key_for_that_model() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    health.failed(A, "llama", Verdict("cool", "rate_limited", wait=25))
    assert health.blocked(A, "llama") == ("rate_limited", 25)
    assert health.blocked(A, "mixtral") is None
    assert health.blocked(B, "llama") is None
    clock._mono += 25
    assert health.blocked(A, "llama") is None


def test_without_a_wait_the_default_cooldown_applies() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    health.failed(A, "llama", Verdict("cool", "rate_limited"))
    assert health.blocked(A, "llama") == ("rate_limited", 10)


def test_an_exhausted_quota_benches_the_key_for_every_model_until_its_reset() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    week = 6 * 86400.0
    health.failed(A, "llama", Verdict("bench", "quota_exhausted", wait=week))
    assert health.blocked(A, "other") == ("quota_exhausted", week)
    clock._mono += week - 1
    assert health.blocked(A, "other") is not None
    health.failed(B, "llama", Verdict("bench", "quota_exhausted"))
    assert health.blocked(B, "x") == ("quota_exhausted", 3600)
    health.failed(B, "llama", Verdict("bench", "credential_refused"))
    assert health.blocked(B, "x") == ("credential_refused", 600)


def test_endpoint_failures_open_the_providers_breaker_for_all_its_keys() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    health.failed(A, "llama", Verdict("retry", "timeout", breaker=True))
    assert health.blocked(B, "llama") is None
    health.failed(B, "llama", Verdict("retry", "http_503", breaker=True))
    assert health.blocked(A, "any") == ("breaker_open", 30)
    assert health.blocked(Credential("openai", "openai", "k"), "any") is None
    clock._mono += 30
    assert health.begin(A)  # the probe
    assert not health.begin(B)
    health.succeeded(A, 0.2)
    assert health.blocked(B, "llama") is None


def test_answers_of_the_requests_own_fault_prove_the_endpoint_alive() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    health.failed(A, "m", Verdict("retry", "timeout", breaker=True))
    health.failed(A, "m", Verdict("fatal", "http_400"))
    health.failed(A, "m", Verdict("retry", "timeout", breaker=True))
    assert health.blocked(A, "m") is None  # the 400 reset the count of consecutive failures


def test_snapshot_reports_latency_success_rate_and_holds_without_secrets() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    health.succeeded(A, 0.100)
    health.succeeded(A, 0.200)
    health.failed(A, "llama", Verdict("cool", "rate_limited", wait=12))
    snap = health.snapshot(A)
    assert snap["health"] == "cooling"
    assert snap["cooldowns"] == {"llama": {"reason": "rate_limited", "seconds_left": 12}}
    assert snap["attempts"] == 3 and snap["successes"] == 2
    assert snap["latency_ms"] == 120.0  # EWMA: 100 then 100 + 0.2 * (200 - 100)
    rate = snap["success_rate"]
    assert rate is not None and 0 < rate < 1
    assert snap["last_error"] == "rate_limited"
    assert "k1" not in repr(snap)


def test_lapsed_cooldowns_are_swept_once_there_are_many() -> None:
    from gateway.routing import health as module

    clock = FakeClock()
    health = Health(clock, POLICY)
    for n in range(module.MAX_HOLDS):
        health.failed(A, f"model-{n}", Verdict("cool", "rate_limited", wait=1))
    clock._mono += 2
    health.failed(A, "fresh", Verdict("cool", "rate_limited", wait=5))
    assert len(health._cooling) == 1


@pytest.mark.parametrize(
    "said", ["99999999999", "Mon, 01 Jan 2035 00:00:00 GMT", "soon"], ids=["seconds", "date", "garbage"]
)
@pytest.mark.parametrize(
    ("code", "cap"), [(None, MAX_COOL), ("insufficient_quota", MAX_BENCH)], ids=["limited", "exhausted"]
)
def test_an_upstreams_retry_after_rests_a_route_no_longer_than_the_cap(said: str, code: str | None, cap: float) -> None:
    """SECURITY.md B40 (issue 20, item 4): ``Retry-After: 99999999999`` rested a key and model
    for 3,169 years, a date in 2035 for years; now an hour at most (a week for an account's
    exhausted quota: a weekly window is real)."""
    clock = FakeClock()
    health = Health(clock, POLICY)
    body = json.dumps({"error": {"message": "slow down", "type": "rate_limit_error", "code": code}}).encode()
    health.failed(A, "llama", classify(upstream_error("groq", 429, {"retry-after": said}, body, clock.time(), ())))
    blocked = health.blocked(A, "llama")
    assert blocked is not None and 0 < blocked[1] <= cap
    assert MAX_COOL == 3600 and MAX_BENCH == 7 * 86400


def test_a_quota_window_reset_years_away_benches_its_account_for_a_week_at_most() -> None:
    """SECURITY.md B40 (issue 20, item 4): the reset time a usage report gives is capped too."""
    clock = FakeClock()
    health = Health(clock, POLICY)
    QuotaBook(clock, health).observe(
        "codex:a", "codex", [QuotaWindow("secondary", 100.0, clock.now + 9 * 365 * 86400, 604800)]
    )
    assert health.blocked(Credential("codex", "codex:a", None), "gpt-5") == ("quota_exhausted", MAX_BENCH)


def test_forgiving_a_provider_lifts_every_rest_of_its_keys_and_its_breaker() -> None:
    """SECURITY.md B40 (issue 20, item 4): what the provider's Test does once it answers."""
    clock = FakeClock()
    health = Health(clock, POLICY)
    other = Credential("openai", "openai", "k")
    health.failed(A, "llama", Verdict("cool", "rate_limited", wait=MAX_COOL))
    health.failed(B, "mixtral", Verdict("bench", "quota_exhausted", wait=MAX_BENCH))
    health.failed(other, "gpt", Verdict("cool", "rate_limited", wait=60))
    for cred in (A, B):
        health.failed(cred, "other", Verdict("retry", "timeout", breaker=True))
    assert health.breaker_snapshot("groq")["state"] == "open"
    health.forgive("groq", [A.label, B.label])
    assert health.blocked(A, "llama") is None and health.blocked(B, "mixtral") is None
    assert health.breaker_snapshot("groq")["state"] == "closed"
    assert health.blocked(other, "gpt") == ("rate_limited", 60)  # another provider's rests stay


def test_a_rest_set_here_is_told_once_and_one_heard_is_kept_but_not_told_on() -> None:
    clock = FakeClock()
    health = Health(clock, POLICY)
    told: list[tuple[str, str | None, float, str]] = []
    health.told = lambda *rest: told.append(rest)
    health.failed(A, "llama", Verdict("cool", "rate_limited", wait=25))
    health.failed(B, "llama", Verdict("bench", "quota_exhausted", wait=99999999))
    health.bench(A.label, 30, "quota_exhausted")
    health.bench(A.label, 5, "quota_exhausted")  # shorter than the bench held: nothing new to tell
    assert told == [
        ("groq#1", "llama", 25, "rate_limited"),
        ("groq#2", None, MAX_BENCH, "quota_exhausted"),
        ("groq#1", None, 30, "quota_exhausted"),
    ]
    told.clear()
    other = Health(clock, POLICY)
    other.told = health.told
    other.heard("groq#1", "llama", 99999999, "rate_limited")  # capped as an upstream's word is
    other.heard("groq#2", None, 60, "quota_exhausted")
    other.heard("groq#2", None, 5, "quota_exhausted")  # shorter: the longer one stays
    assert other.blocked(A, "llama") == ("rate_limited", MAX_COOL)
    assert other.blocked(B, "mixtral") == ("quota_exhausted", 60)
    assert told == []
