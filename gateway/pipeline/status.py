"""The pipeline's part of the status document: every provider and key (masked) with its health,
breaker, cooldowns, latency and success rate; the aliases; the models whose every route failed
last time; the answer cache; the usage counted so far. Nothing secret.

Times carry their unit in their name (``seconds_left``, ``latency_ms``, ``at_s``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypedDict
from urllib.parse import urlsplit

from gateway.clock import Clock
from gateway.core.usage import UsageTotals
from gateway.errors import GatewayError
from gateway.providers.base import ChatProvider
from gateway.redact import mask_key
from gateway.routing.health import BreakerHealth, Health, KeyHealth
from gateway.routing.pool import KeyPool
from gateway.routing.response_cache import CacheStats

FAILING_KEPT = 50  # models remembered as failing, for status and notifications


class KeyStatus(KeyHealth):
    label: str
    key: str | None  # an API key, masked; None for an account's token


class ProviderStatus(TypedDict):
    id: str
    name: str
    host: str  # of its address, for words ("can't reach api.groq.com")
    rotation: str
    breaker: BreakerHealth
    keys: list[KeyStatus]
    models: int  # how many it lists now
    list_failure: str | None  # why its last model list request failed ("unreachable", "credential_refused"…)


class FailingModel(TypedDict):
    """A model name whose every route failed the last time it was asked for."""

    model: str
    error: str
    at_s: float  # when (seconds since the epoch)


class UsageCounted(TypedDict):
    requests: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    estimated: int  # answers whose usage the gateway counted itself


class PipelineStatus(TypedDict):
    providers: list[ProviderStatus]
    aliases: dict[str, list[str]]
    failing: list[FailingModel]
    cache: CacheStats
    usage: UsageCounted


class Failing:
    """The model names whose every route failed last time, oldest first, at most ``FAILING_KEPT``
    (the names come from callers)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._models: dict[str, FailingModel] = {}

    def failed(self, name: str, err: GatewayError) -> None:
        models = self._models
        if len(models) >= FAILING_KEPT and name not in models:
            del models[next(iter(models))]
        models[name] = {"model": name, "error": err.message, "at_s": self._clock.time()}

    def served(self, name: str) -> None:
        self._models.pop(name, None)

    def listing(self) -> list[FailingModel]:
        return list(self._models.values())


def provider_status(
    providers: Iterable[ChatProvider],
    pools: Mapping[str, KeyPool],
    health: Health,
    listed: Mapping[str, int],
    list_failure: Callable[[str], str | None],
) -> list[ProviderStatus]:
    """Every provider with a key or account, its keys masked. ``listed``: how many models each
    lists; ``list_failure``: why a provider's last list request failed, if it did."""
    out: list[ProviderStatus] = []
    for provider in providers:
        pool = pools[provider.id]
        if not pool.credentials:
            continue  # a subscription with no account signed in
        keys: list[KeyStatus] = [
            {
                "label": c.label,
                "key": mask_key(c.secret) if isinstance(c.secret, str) else None,
                **health.snapshot(c),
            }
            for c in pool.credentials
        ]
        out.append(
            {
                "id": provider.id,
                "name": provider.settings.name,
                "host": urlsplit(provider.settings.base_url).hostname or "",
                "rotation": pool.rotation,
                "breaker": health.breaker_snapshot(provider.id),
                "keys": keys,
                "models": listed.get(provider.id, 0),
                # a local server only looked for on its usual port is not failing when it is not there
                "list_failure": None if provider.settings.probe else list_failure(provider.id),
            }
        )
    return out


def usage_counted(totals: UsageTotals) -> UsageCounted:
    return {
        "requests": totals.requests,
        "prompt_tokens": totals.prompt_tokens,
        "completion_tokens": totals.completion_tokens,
        "cached_tokens": totals.cached_tokens,
        "estimated": totals.estimated,
    }
