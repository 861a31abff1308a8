"""A circuit breaker for one provider endpoint.

Closed, it lets everything through and counts consecutive endpoint failures (network errors,
timeouts, 5xx — never 4xx or 429, which prove the endpoint alive). At ``threshold`` it opens:
nothing is sent until ``cooloff`` has passed. Then it is half-open: exactly one request goes
through as a probe. Success closes it; failure opens it again for twice as long (up to
``max_cooloff``), so a dead endpoint costs one probe per cool-off, not a stream of timeouts.
When nothing else can serve, the router may send that probe early (``begin(force=True)``): failing
soft beats refusing while the endpoint may be back.
"""

from __future__ import annotations

from typing import Literal

State = Literal["closed", "open", "half-open"]


class Breaker:
    __slots__ = ("_cooloff", "_max_cooloff", "_probing", "_threshold", "cooloff", "failures", "opened_at")

    def __init__(self, threshold: int, cooloff: float, max_cooloff: float) -> None:
        self._threshold = threshold
        self._cooloff = cooloff
        self._max_cooloff = max_cooloff
        self.cooloff = cooloff  # the current one: doubles each time a probe fails
        self.failures = 0  # consecutive
        self.opened_at: float | None = None
        self._probing = False

    def state(self, now: float) -> State:
        if self.opened_at is None:
            return "closed"
        return "open" if now - self.opened_at < self.cooloff else "half-open"

    def wait(self, now: float) -> float:
        """Seconds until the breaker lets a probe through (0 when it would now)."""
        return 0.0 if self.opened_at is None else max(0.0, self.opened_at + self.cooloff - now)

    def admits(self, now: float) -> bool:
        """Whether a request may be sent now (without taking the probe)."""
        state = self.state(now)
        return state == "closed" or (state == "half-open" and not self._probing)

    def begin(self, now: float, force: bool = False) -> bool:
        """Take a slot for one attempt: always when closed, the single probe when half-open (or,
        ``force``, while still open)."""
        if not (self.admits(now) or (force and not self._probing)):
            return False
        if self.opened_at is not None:
            self._probing = True
        return True

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.cooloff = self._cooloff
        self._probing = False

    def failure(self, now: float) -> None:
        if self.opened_at is not None:  # the probe failed, or a request sent before it opened
            if self._probing:
                self.cooloff = min(self._max_cooloff, self.cooloff * 2)
            self.opened_at = now
            self._probing = False
            return
        self.failures += 1
        if self.failures >= self._threshold:
            self.opened_at = now

    def abandon(self) -> None:
        """The attempt ended without telling anything of the endpoint (the client left)."""
        self._probing = False
