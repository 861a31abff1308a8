"""What the router knows of every route's health: cooldowns, benched accounts, breakers, and
each key's recent latency and success rate.

- A 429 cools down the pair (key, model) for as long as the upstream said, ``cooldown``
  seconds when it did not say; the same key stays usable for other models.
- An exhausted quota (or a refused credential) benches the whole key until its reset time:
  minutes, or days for a weekly subscription window, never just seconds.
- Endpoint failures feed the provider's breaker.

What an upstream says is capped (B40): a cooldown at ``MAX_COOL``, as long as a client is ever
told to wait, and a bench at ``MAX_BENCH``, the longest quota window there is; a
``Retry-After: 99999999999`` or a reset date years away would otherwise rest a route until the
gateway restarts. ``forgive`` lifts a provider's rests at once (its Test in the app answered).

In team mode the rests this gateway sets on an upstream's word (cooldowns, benches) are ``told``
to the others, and theirs ``heard`` here, so a rate limit or an exhausted quota one gateway met is
not met again by each. Breakers are not shared: an endpoint one machine cannot reach another may.

Times are on the injected clock's monotonic scale. Everything here runs on the event loop and is
never awaited, so no lock is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NotRequired, TypedDict

from gateway.clock import Clock
from gateway.config.settings import HealthPolicy
from gateway.providers.ratelimit import MAX_WAIT
from gateway.routing.breaker import Breaker, State
from gateway.routing.failure import Verdict
from gateway.routing.pool import Credential

EWMA_WEIGHT = 0.2  # of the newest sample
MAX_HOLDS = 10_000  # cooldowns kept before the lapsed ones are swept
MAX_COOL = float(MAX_WAIT)  # seconds a rate limit rests a key for a model, whatever the upstream said
MAX_BENCH = 7 * 86400.0  # seconds an upstream may bench a key or account: a weekly quota window
# A local server that failed is usually restarting: its breaker rests it seconds, not minutes.
LOCAL_COOLOFF = 2.0
LOCAL_MAX_COOLOFF = 10.0
# A rest for the team: (key label, model — None for the whole key —, seconds, reason).
Told = Callable[[str, str | None, float, str], None]


class Rest(TypedDict):
    """Why a key rests, and for how long yet."""

    reason: str
    seconds_left: float


class KeyHealth(TypedDict):
    """One key's health, for status: nothing secret in it."""

    health: str  # "ok", "cooling", "benched" or "breaker_open"
    benched: Rest | None
    cooldowns: dict[str, Rest]  # by upstream model
    attempts: int
    successes: int
    success_rate: float | None
    latency_ms: float | None
    last_error: str | None


class BreakerHealth(TypedDict):
    state: State
    failures: int
    seconds_to_probe: NotRequired[float]  # while open


@dataclass(slots=True)
class _Hold:
    until: float
    reason: str


@dataclass(slots=True)
class KeyStats:
    attempts: int = 0
    successes: int = 0
    latency_ms: float | None = None  # EWMA of time to the upstream's answer (first event)
    success_rate: float | None = None  # EWMA of 1 (success) and 0 (failure)
    last_error: str | None = None
    last_error_at: float | None = None

    def note(self, ok: bool) -> None:
        self.attempts += 1
        self.successes += ok
        sample = 1.0 if ok else 0.0
        rate = self.success_rate
        self.success_rate = sample if rate is None else rate + EWMA_WEIGHT * (sample - rate)


class Health:
    def __init__(self, clock: Clock, policy: HealthPolicy) -> None:
        self._clock = clock
        self.policy = policy
        self._cooling: dict[tuple[str, str], _Hold] = {}  # (key label, model)
        self._benched: dict[str, _Hold] = {}  # key label
        self._breakers: dict[str, Breaker] = {}  # provider id
        self._stats: dict[str, KeyStats] = {}  # key label
        self._latency: dict[str, float] = {}  # route ("provider/model") -> EWMA of ms to the answer
        self.local: frozenset[str] = frozenset()  # loopback providers: their breakers rest them briefly
        self.told: Told | None = None  # team mode: where this gateway's own rests go, for the others

    def breaker(self, provider: str) -> Breaker:
        breaker = self._breakers.get(provider)
        if breaker is None:
            p = self.policy
            cooloff, most = p.breaker_cooloff, p.breaker_max_cooloff
            if provider in self.local:
                cooloff, most = min(cooloff, LOCAL_COOLOFF), min(most, LOCAL_MAX_COOLOFF)
            breaker = self._breakers[provider] = Breaker(p.breaker_failures, cooloff, most)
        return breaker

    def stats(self, label: str) -> KeyStats:
        stats = self._stats.get(label)
        if stats is None:
            stats = self._stats[label] = KeyStats()
        return stats

    # --- asking -----------------------------------------------------------------------------

    def calm(self) -> bool:
        """Nothing has failed yet (no key benched or cooling, no breaker): every key may serve."""
        return not (self._benched or self._cooling or self._breakers)

    def blocked(self, cred: Credential, model: str) -> tuple[str, float] | None:
        """Why this key may not serve this model now, and for how many more seconds; None if
        it may."""
        if not (self._benched or self._cooling or self._breakers):
            return None  # nothing has failed yet: the usual case, answered without the clock
        now = self._clock.monotonic()
        bench = self._benched.get(cred.label)
        if bench is not None:
            if bench.until > now:
                return bench.reason, bench.until - now
            del self._benched[cred.label]
        cooling = self._cooling.get((cred.label, model))
        if cooling is not None:
            if cooling.until > now:
                return cooling.reason, cooling.until - now
            del self._cooling[(cred.label, model)]
        breaker = self._breakers.get(cred.provider)
        if breaker is not None and not breaker.admits(now):
            return "breaker_open", breaker.wait(now)
        return None

    # --- telling ----------------------------------------------------------------------------

    def begin(self, cred: Credential, probe: bool = False) -> bool:
        """Claim the attempt: False when the provider's breaker admits no more (its one probe is
        already out). ``probe``: send the probe now even if the breaker is still open (nothing
        else can serve)."""
        breaker = self._breakers.get(cred.provider)
        return breaker is None or breaker.begin(self._clock.monotonic(), probe)

    def latency_ms(self, route: str) -> float | None:
        """A route's (``provider/model``) measured time to the answer, in ms; None until it served."""
        return self._latency.get(route)

    def succeeded(self, cred: Credential, latency: float, model: str | None = None) -> None:
        """``model``: the upstream model that answered, so its route's latency is measured too."""
        breaker = self._breakers.get(cred.provider)
        if breaker is not None:
            breaker.success()
        stats = self.stats(cred.label)
        stats.note(True)
        ms = latency * 1000
        stats.latency_ms = ms if stats.latency_ms is None else stats.latency_ms + EWMA_WEIGHT * (ms - stats.latency_ms)
        if model is not None:
            route = f"{cred.provider}/{model}"
            was = self._latency.get(route)
            self._latency[route] = ms if was is None else was + EWMA_WEIGHT * (ms - was)

    def failed(self, cred: Credential, model: str, verdict: Verdict) -> None:
        now = self._clock.monotonic()
        stats = self.stats(cred.label)
        stats.last_error, stats.last_error_at = verdict.reason, self._clock.time()
        if verdict.fatal:
            # The request was at fault; the endpoint answered, so it is alive.
            self.abandoned(cred, alive=True)
            return
        stats.note(False)
        policy = self.policy
        if verdict.action == "cool":
            wait = policy.cooldown if verdict.wait is None else min(verdict.wait, MAX_COOL)
            self._cool(cred.label, model, now + wait, verdict.reason)
            if self.told is not None:
                self.told(cred.label, model, wait, verdict.reason)
        elif verdict.action == "bench":
            default = policy.exhausted if verdict.reason == "quota_exhausted" else policy.credential
            wait = default if verdict.wait is None else min(verdict.wait, MAX_BENCH)
            self._benched[cred.label] = _Hold(now + wait, verdict.reason)
            if self.told is not None:
                self.told(cred.label, None, wait, verdict.reason)
        if verdict.breaker:
            self.breaker(cred.provider).failure(now)
        else:
            self.abandoned(cred, alive=True)

    def bench(self, label: str, seconds: float, reason: str) -> None:
        """Keep a key or account out of every route for ``seconds`` (an exhausted quota window
        until its reset, at most ``MAX_BENCH``), unless it is benched for longer already."""
        seconds = min(seconds, MAX_BENCH)
        if self._bench(label, self._clock.monotonic() + seconds, reason) and self.told is not None:
            self.told(label, None, seconds, reason)

    def heard(self, label: str, model: str | None, seconds: float, reason: str) -> None:
        """A rest another gateway of the team set on an upstream's word (``model`` None: the whole
        key), kept here too unless a longer one is; never told on."""
        until = self._clock.monotonic() + min(seconds, MAX_COOL if model is not None else MAX_BENCH)
        if model is None:
            self._bench(label, until, reason)
        elif (held := self._cooling.get((label, model))) is None or held.until < until:
            self._cool(label, model, until, reason)

    def _bench(self, label: str, until: float, reason: str) -> bool:
        held = self._benched.get(label)
        if held is not None and held.until >= until:
            return False
        self._benched[label] = _Hold(until, reason)
        return True

    def _cool(self, label: str, model: str, until: float, reason: str) -> None:
        if len(self._cooling) >= MAX_HOLDS:  # model names come from clients: stay bounded
            now = self._clock.monotonic()
            self._cooling = {k: h for k, h in self._cooling.items() if h.until > now}
        self._cooling[(label, model)] = _Hold(until, reason)

    def forgive(self, provider: str, labels: Iterable[str]) -> None:
        """Let a provider's keys (``labels``) serve again at once: their cooldowns and benches
        and the provider's breaker are forgotten."""
        resting = set(labels)
        for label in resting:
            self._benched.pop(label, None)
        self._cooling = {held: hold for held, hold in self._cooling.items() if held[0] not in resting}
        self._breakers.pop(provider, None)

    def abandoned(self, cred: Credential, *, alive: bool = False) -> None:
        """The attempt ended without a verdict on the endpoint (the client left), or with proof
        that it is up (``alive``: it answered, if only with an error of the request's own)."""
        breaker = self._breakers.get(cred.provider)
        if breaker is None:
            return
        if alive:
            breaker.success()
        else:
            breaker.abandon()

    # --- status -----------------------------------------------------------------------------

    def snapshot(self, cred: Credential) -> KeyHealth:
        """One key's health, for status: nothing secret in it."""
        now = self._clock.monotonic()
        stats = self._stats.get(cred.label) or KeyStats()
        bench = self._benched.get(cred.label)
        cooldowns: dict[str, Rest] = {
            model: {"reason": hold.reason, "seconds_left": round(hold.until - now, 1)}
            for (label, model), hold in self._cooling.items()
            if label == cred.label and hold.until > now
        }
        benched = bench is not None and bench.until > now
        breaker = self._breakers.get(cred.provider)
        if benched:
            health = "benched"
        elif breaker is not None and not breaker.admits(now):
            health = "breaker_open"
        else:
            health = "cooling" if cooldowns else "ok"
        return {
            "health": health,
            "benched": {"reason": bench.reason, "seconds_left": round(bench.until - now, 1)}
            if bench and benched
            else None,
            "cooldowns": cooldowns,
            "attempts": stats.attempts,
            "successes": stats.successes,
            "success_rate": None if stats.success_rate is None else round(stats.success_rate, 3),
            "latency_ms": None if stats.latency_ms is None else round(stats.latency_ms, 1),
            "last_error": stats.last_error,
        }

    def breaker_snapshot(self, provider: str) -> BreakerHealth:
        now = self._clock.monotonic()
        breaker = self._breakers.get(provider)
        if breaker is None:
            return {"state": "closed", "failures": 0}
        out: BreakerHealth = {"state": breaker.state(now), "failures": breaker.failures}
        if breaker.opened_at is not None:
            out["seconds_to_probe"] = round(breaker.wait(now), 1)
        return out
