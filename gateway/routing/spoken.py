"""Which of its protocols each provider's server really speaks.

A provider's settings name the protocols it speaks (``protocols = [...]``), but a server behind
an OpenAI-compatible address often lacks one of them (``/v1/responses`` on llama.cpp or an older
Ollama). When a protocol's endpoint answers 404 or 405 with a body that is about the address and
not the model, the provider is known not to speak that protocol: that request and every later one
go to the next protocol it speaks, translated, and no other provider is bothered. A provider's
last protocol is never given up: its error is the answer.

What was learned is kept like the model lists: in the database, for the same time to live (a
server upgraded to have the endpoint is found out within that time), and only for the address it
was learned at.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.core.protocols import ProtocolId
from gateway.errors import GatewayError, UpstreamStatus
from gateway.providers.base import ChatProvider, Dialect
from gateway.providers.upstream_errors import missing_endpoint
from gateway.store.model_lists import UnspokenRow

log = logging.getLogger("gateway.routing")


@dataclass(frozen=True, slots=True)
class Unspoken:
    """A protocol a provider's server was found not to speak."""

    provider: str
    protocol: str  # a ProtocolId, as kept in the database
    source: str  # the provider's address when it was learned: another server may speak it
    learned_at: float  # unix seconds

    def row(self) -> UnspokenRow:
        return (self.provider, self.protocol, self.source, self.learned_at)

    @classmethod
    def from_row(cls, row: UnspokenRow) -> Unspoken:
        return cls(*row)


class Spoken:
    def __init__(self, clock: Clock, ttl: float, keep: Callable[[Unspoken], None] | None = None) -> None:
        self._clock = clock
        self._ttl = ttl
        self._keep = keep
        self._unspoken: dict[str, dict[str, float]] = {}  # provider -> protocol -> when learned

    def route(self, provider: ChatProvider, protocol: ProtocolId, upstream_model: str) -> tuple[Dialect, bool]:
        """The dialect a call in ``protocol`` goes out in, and whether that is the client's own
        (``ChatProvider.route``), leaving out the protocols the server turned out not to speak."""
        dialect, own = provider.route(protocol, upstream_model)
        unspoken = self._fresh(provider.id)
        if dialect.protocol not in unspoken:
            return dialect, own
        spoken = next((d for p, d in provider.dialects.items() if p not in unspoken), None)
        if spoken is None:  # (its protocols were changed since: what the config says goes)
            return dialect, own
        return spoken, spoken.protocol == protocol

    def learn(self, provider: ChatProvider, dialect: Dialect, err: GatewayError) -> bool:
        """Whether ``err`` says the server has no endpoint for ``dialect``'s protocol while
        another of the provider's protocols is left to try; if so, that is remembered."""
        if not isinstance(err, UpstreamStatus) or not missing_endpoint(err):
            return False
        unspoken = self._fresh(provider.id)
        if dialect.protocol in unspoken:
            return True  # learned by another request meanwhile
        if not any(p != dialect.protocol and p not in unspoken for p in provider.dialects):
            return False
        learned = Unspoken(provider.id, dialect.protocol, provider.settings.base_url, self._clock.time())
        unspoken[dialect.protocol] = learned.learned_at
        if self._keep is not None:
            self._keep(learned)
        log.info(
            "%s: the server at %s has no %s endpoint (HTTP %d); its %s calls are translated from now on",
            provider.id,
            learned.source,
            dialect.protocol,
            err.status,
            dialect.protocol,
        )
        return True

    def restore(self, kept: Iterable[Unspoken], providers: Iterable[ChatProvider]) -> None:
        """Put back what an earlier run learned, where it is still fresh and the provider is
        still at the address it was learned at."""
        addresses = {p.id: p.settings.base_url for p in providers}
        now = self._clock.time()
        for row in kept:
            if addresses.get(row.provider) == row.source and now - row.learned_at <= self._ttl:
                self._unspoken.setdefault(row.provider, {})[row.protocol] = row.learned_at

    def _fresh(self, provider_id: str) -> dict[str, float]:
        """The provider's unspoken protocols, without those learned longer than ``ttl`` ago."""
        unspoken = self._unspoken.setdefault(provider_id, {})
        if unspoken:
            now = self._clock.time()
            for protocol in [p for p, at in unspoken.items() if now - at > self._ttl]:
                del unspoken[protocol]
        return unspoken
