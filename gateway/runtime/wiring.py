"""Builds the object graph from settings: adapters, keys, model index, sync, service.

Transport and clock come in from outside, so tests and the app choose them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

from gateway.clock import Clock
from gateway.config.settings import Settings
from gateway.pipeline.accounting import Accountant, Ledger
from gateway.pipeline.gateway import Gateway
from gateway.pipeline.limits import Limits
from gateway.pipeline.metrics import Metrics
from gateway.providers.anthropic import AnthropicProvider
from gateway.providers.base import ChatProvider
from gateway.providers.codex import CodexProvider
from gateway.providers.copilot import CopilotProvider
from gateway.providers.ollama import OllamaProvider
from gateway.providers.openai_compatible import OpenAICompatible
from gateway.providers.settings import SUBSCRIPTIONS, ProviderSettings, SubscriptionSettings
from gateway.routing.affinity import Affinity
from gateway.routing.capabilities import Capabilities
from gateway.routing.health import Health
from gateway.routing.model_index import ModelIndex
from gateway.routing.model_sync import ListedModels, ModelSync
from gateway.routing.pool import KeyPool
from gateway.routing.quota import QuotaBook, QuotaRecord
from gateway.routing.response_cache import ResponseCache
from gateway.routing.router import Router
from gateway.routing.spoken import Spoken, Unspoken
from gateway.transport import Transport
from gateway.transport.addresses import is_loopback

log = logging.getLogger("gateway")


def points_at(provider: ProviderSettings, port: int) -> bool:
    """Whether a provider's URL is this gateway itself (OPENAI_BASE_URL often is, for tools)."""
    parts = urlsplit(provider.base_url)
    default = 443 if parts.scheme == "https" else 80
    return bool(parts.hostname) and is_loopback(parts.hostname or "") and (parts.port or default) == port


def without_self(providers: Sequence[ProviderSettings], port: int) -> list[ProviderSettings]:
    kept = []
    for provider in providers:
        if port and points_at(provider, port):
            log.warning("%s: its base URL %s is this gateway itself; leaving it out", provider.id, provider.base_url)
        else:
            kept.append(provider)
    return kept


def adapter(settings: ProviderSettings) -> ChatProvider:
    """The adapter for a provider's wire protocol."""
    if settings.kind == "anthropic":
        return AnthropicProvider(settings)
    if settings.kind == "ollama":
        return OllamaProvider(settings)
    if settings.kind == "codex":
        return CodexProvider(settings)
    if settings.kind == "copilot":
        return CopilotProvider(settings)
    return OpenAICompatible(settings)


def subscription_providers(subs: SubscriptionSettings) -> list[ProviderSettings]:
    """ChatGPT and Copilot, served by whatever accounts are signed in (none at first)."""
    return [
        ProviderSettings("codex", "ChatGPT (Codex)", subs.codex_base_url, (), kind="codex", rotation=subs.rotation),
        ProviderSettings("copilot", "GitHub Copilot", subs.copilot_api_url, (), kind="copilot", rotation=subs.rotation),
    ]


def build_gateway(
    settings: Settings,
    transport: Transport,
    clock: Clock,
    new_request_id: Callable[[], str],
    ledger: Ledger | None = None,
    keep_quota: Callable[[QuotaRecord], None] | None = None,
    keep_models: Callable[[ListedModels], None] | None = None,
    keep_unspoken: Callable[[Unspoken], None] | None = None,
) -> Gateway:
    """``ledger``: where ledger rows go, ``keep_quota`` where quota windows go, ``keep_models``
    where model lists go and ``keep_unspoken`` the protocols servers turned out not to speak
    (none of them without a database)."""
    subs = settings.subscriptions
    configured = without_self(settings.providers, settings.server.port)
    adapters = [adapter(p) for p in [*configured, *subscription_providers(subs)]]
    health = Health(clock, settings.routing.policy)
    quotas = QuotaBook(clock, health, keep_quota)
    pools = {
        a.id: KeyPool(a.id, a.settings.keys, a.settings.rotation, rank=quotas.allowance, accounts=a.id in SUBSCRIPTIONS)
        for a in adapters
    }
    index = ModelIndex([a.id for a in adapters])
    sync = ModelSync(
        adapters,
        pools,
        index,
        transport,
        clock,
        interval=settings.server.model_refresh,
        new_request_id=new_request_id,
        ttl=settings.server.model_list_ttl,
        keep=keep_models,
    )
    routing = settings.routing
    router = Router(
        index,
        pools,
        health,
        Capabilities(index, dict(routing.models), [a.id for a in adapters if a.settings.local]),
        Affinity(clock, routing.affinity),
        _active(routing.aliases, pools),
        {a.id: a.settings.max_request_bytes for a in adapters if a.settings.max_request_bytes},
        not_auto=() if subs.in_auto else SUBSCRIPTIONS,
    )
    cache = ResponseCache(clock, routing.cache)
    accountant = Accountant(clock, Limits(clock), Metrics(), ledger)
    spoken = Spoken(clock, settings.server.model_list_ttl, keep_unspoken)
    return Gateway(
        adapters, transport, clock, index, sync, pools, router, routing.deadline, cache, accountant, quotas, spoken
    )


def _active(
    aliases: Sequence[tuple[str, tuple[str, ...]]], pools: Mapping[str, KeyPool]
) -> list[tuple[str, tuple[str, ...]]]:
    """Aliases with only the routes whose provider is configured here; the others are named in
    the log once, since the same config file often travels between machines."""
    kept = []
    for name, chain in aliases:
        present = tuple(ref for ref in chain if ref.partition("/")[0] in pools)
        if len(present) < len(chain):
            missing = ", ".join(ref for ref in chain if ref not in present)
            log.warning("alias %s: leaving out %s (provider not configured)", name, missing)
        if present:
            kept.append((name, present))
    return kept
