"""A provider's state in words and a tone, from the status document: the one mapping the Providers
page, the overview's problems and the tray's tooltip all read, so they never disagree ("on" on one
page while another said "benched"). The tones are the tray icon's colours."""

from __future__ import annotations

from dataclasses import dataclass

from app.colours import BAD, GOOD, IDLE, WARN
from app.viewmodels.durations import span
from gateway import ProviderStatus

OK, RESTING, FAILING, OFF = "ok", "resting", "failing", "off"
TONE_COLOURS = {OK: GOOD, RESTING: WARN, FAILING: BAD, OFF: IDLE}  # the tray icon's


@dataclass(frozen=True, slots=True)
class ProviderState:
    words: str  # "Working — 12 models", "Key refused by OpenAI", "Offline: can't reach api.groq.com"
    tone: str  # OK, RESTING, FAILING or OFF
    key_refused: bool = False  # the fix is another key

    @property
    def problem(self) -> bool:
        """Something a person should know of (the overview lists it, the tray counts it)."""
        return self.tone in (RESTING, FAILING)

    @property
    def colour(self) -> str:
        return TONE_COLOURS[self.tone]


def failure_words(reason: str | None, name: str, host: str) -> str:
    """Why asking a provider failed, in words; ``reason`` as the gateway names it."""
    where = host or name
    if reason == "credential_refused":
        return f"Key refused by {name}"
    if reason == "unreachable":
        return f"Offline: can't reach {where}"
    if reason == "timeout":
        return f"{where} did not answer in time"
    if reason == "quota_exhausted":
        return f"Out of credit or quota at {name}"
    if reason == "rate_limited":
        return f"{name} asks to slow down for now"
    if reason == "http_404":
        return f"Nothing answers at that address on {where}: check the address"
    if reason == "bad_response":
        return f"{where} answered, but not the way {name}'s API does"
    if reason is not None and reason.startswith("http_5"):
        return f"{name} has trouble on its side"
    return f"{name} did not answer"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}{'' if n == 1 else 's'}"


def provider_state(status: ProviderStatus) -> ProviderState:
    name = status["name"] or status["id"]
    breaker = status["breaker"]
    if breaker["state"] == "open":
        wait = breaker.get("seconds_to_probe")
        when = f" — tries again in {span(wait)}" if wait is not None else ""
        return ProviderState(f"Resting after errors{when}", RESTING)
    keys = status["keys"]
    resting = [bench for key in keys if (bench := key["benched"]) is not None]
    if keys and len(resting) == len(keys):
        first = min(resting, key=lambda bench: bench["seconds_left"])
        if first["reason"] == "credential_refused":
            return ProviderState(f"Key refused by {name}", FAILING, key_refused=True)
        if first["reason"] == "quota_exhausted":
            return ProviderState(f"Out of quota — back in {span(first['seconds_left'])}", RESTING)
        return ProviderState(f"Resting after errors — tries again in {span(first['seconds_left'])}", RESTING)
    if (reason := status["list_failure"]) is not None:
        return ProviderState(failure_words(reason, name, status["host"]), FAILING, reason == "credential_refused")
    working = f"Working — {_count(status['models'], 'model')}"
    if resting:
        return ProviderState(f"{working}; {len(resting)} of {_count(len(keys), 'key')} resting", RESTING)
    return ProviderState(working, OK)


def provider_problems(status_providers: list[ProviderStatus]) -> list[str]:
    """The overview's and the tray's lines for the providers: each one's state where it is one to
    know of, in the card's words, after the provider's name where they do not say it."""
    lines = []
    for status in status_providers:
        state = provider_state(status)
        name = status["name"] or status["id"]
        if state.problem:
            lines.append(state.words if name in state.words else f"{name} — {state.words}")
    return lines
