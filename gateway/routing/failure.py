"""What a failed attempt means for the request and for the route it took (protocols.md §9).

- ``retry``: the endpoint failed (network, timeout, 5xx, garbage): try the next candidate, and
  count it against the provider's circuit breaker.
- ``cool``: this key is rate-limited for this model: cool that pair down, try the next.
- ``bench``: the account is out of quota or its credential was refused: bench the key for every
  model until the reset, try the next.
- ``fatal``: the request itself is at fault, and any other upstream would refuse it the same way:
  answer the client now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.errors import GatewayError, UpstreamBadResponse, UpstreamError, UpstreamStatus

Action = Literal["retry", "cool", "bench", "fatal"]

_EXHAUSTED_CODES = frozenset(
    {"insufficient_quota", "usage_limit_reached", "billing_hard_limit_reached", "quota_exceeded", "billing_error"}
)
_TRANSIENT_STATUSES = frozenset({408, 409})


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    reason: str  # a short class name for status and logs: "timeout", "rate_limited", ...
    breaker: bool = False  # counts against the provider endpoint's breaker
    wait: float | None = None  # seconds the upstream asked us to stay away, when it said

    @property
    def fatal(self) -> bool:
        return self.action == "fatal"


def classify(err: GatewayError) -> Verdict:
    if not isinstance(err, UpstreamError):
        return Verdict("fatal", "request")
    if not isinstance(err, UpstreamStatus):
        reason = err.code or "upstream_error"
        if isinstance(err, UpstreamBadResponse):
            reason = "bad_response"
        return Verdict("retry", reason.removeprefix("upstream_"), breaker=True)
    status = err.status
    if err.should_retry is False:
        return Verdict("fatal", f"http_{status}")
    if status == 402 or (status == 429 and _exhausted(err)):
        return Verdict("bench", "quota_exhausted", wait=err.resets_in)
    if status == 429:
        return Verdict("cool", "rate_limited", wait=err.resets_in)
    if status in (401, 403):
        return Verdict("bench", "credential_refused")
    if status >= 500:
        return Verdict("retry", f"http_{status}", breaker=True)
    if status in _TRANSIENT_STATUSES or err.should_retry:
        return Verdict("retry", f"http_{status}")
    return Verdict("fatal", f"http_{status}")


def _exhausted(err: UpstreamStatus) -> bool:
    return (err.code or "") in _EXHAUSTED_CODES or err.error_type in _EXHAUSTED_CODES
