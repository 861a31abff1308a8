"""Keeps the model index filled from each provider's ``/models``, in the background.

Fixed model lists go in at once. Others are fetched at start, then every ``interval`` seconds;
between rounds only a provider whose list is missing or failed is asked again, sooner (a local
server started later is found within half a minute), and quietly. An unreachable provider never
fails the list: it simply contributes nothing until it answers.

Each list that comes is also handed to ``keep`` (the database), and ``restore`` puts the kept
ones back at the next start: models and their capabilities are known before the providers
answer, and a provider that is down at start still routes by what it said last. A list is used
for ``ttl`` seconds after it was taken unless the provider confirms it again; then it goes. A
sync that replaces another on a settings change takes over (``carry``) what that one knew of the
providers whose settings stayed the same, its readiness included.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from gateway.clock import Clock
from gateway.core.models import ModelEntry
from gateway.errors import GatewayError
from gateway.providers.access import Key
from gateway.providers.base import ChatProvider
from gateway.routing.failure import classify
from gateway.routing.model_index import ModelIndex
from gateway.routing.pool import KeyPool
from gateway.store.model_lists import ModelListRow
from gateway.transport import Timeouts, Transport

log = logging.getLogger("gateway.models")

RETRY_AFTER_FAILURE = 30.0
ASK_AGAIN_AFTER = 10.0  # an unknown model name asks a missing provider again at most this often
MAX_LIST_BYTES = 16 * 1024 * 1024
_LIST_TIMEOUTS = Timeouts(connect=5.0, read=15.0, total=30.0)
LIST_TTL = 86400.0


@dataclass(frozen=True, slots=True)
class ListedModels:
    """One provider's model list as the database keeps it."""

    provider: str
    source: str  # the address it was asked at: a list from another server is not this one's
    taken_at: float  # unix seconds
    entries: tuple[ModelEntry, ...]

    def row(self) -> ModelListRow:
        entries = [[e.upstream_id, e.created, e.context_length, e.output, e.capabilities, e.cost] for e in self.entries]
        return (self.provider, self.source, self.taken_at, json.dumps(entries, separators=(",", ":")))

    @classmethod
    def from_row(cls, row: ModelListRow) -> ListedModels | None:
        """None for a row this version cannot read (it is then asked for afresh)."""
        provider, source, taken_at, text = row
        try:
            entries = tuple(
                ModelEntry(
                    provider,
                    str(name),
                    int(created),
                    int(context),
                    int(output),
                    None if caps is None else tuple(map(str, caps)),
                    None if cost is None else (float(cost[0]), float(cost[1])),
                )
                for name, created, context, output, caps, cost in json.loads(text)
            )
        except (ValueError, TypeError, IndexError):
            return None
        return cls(provider, source, taken_at, entries)


def _source(provider: ChatProvider) -> str:
    return provider.settings.models_url or provider.settings.base_url


async def ask_for_models(
    provider: ChatProvider, key: Key, transport: Transport, clock: Clock, request_id: str, secrets: tuple[str, ...]
) -> list[ModelEntry]:
    """The provider's model list, asked with ``key``: the sync's request, and a Test of settings
    not saved yet. Raises ``GatewayError`` (``secrets`` are kept out of its message) or
    ``ValueError`` (a list it cannot read)."""
    request = replace(provider.models_request(key, request_id), timeouts=_LIST_TIMEOUTS)
    response = await transport.send(request)
    try:
        body = await response.read(MAX_LIST_BYTES)
    except BaseException:
        response.close()
        raise
    if response.status != 200:
        raise provider.error(response.status, response.headers, body, clock.time(), secrets)
    return provider.parse_models(body)


def failure_reason(exc: GatewayError | ValueError) -> str:
    """Why a list request failed, as the router names a failed attempt's reason ("unreachable",
    "timeout", "credential_refused", "http_404"…): what the windows turn into words."""
    return classify(exc).reason if isinstance(exc, GatewayError) else "bad_response"


class ModelSync:
    def __init__(
        self,
        providers: Sequence[ChatProvider],
        pools: Mapping[str, KeyPool],
        index: ModelIndex,
        transport: Transport,
        clock: Clock,
        *,
        interval: float,
        new_request_id: Callable[[], str],
        ttl: float = LIST_TTL,
        keep: Callable[[ListedModels], None] | None = None,
    ) -> None:
        self._fetched = [p for p in providers if not p.settings.models]
        self._pools = pools
        self._index = index
        self._transport = transport
        self._clock = clock
        self._interval = interval
        self._new_request_id = new_request_id
        self._ttl = ttl
        self._keep = keep
        self._taken_at: dict[str, float] = {}  # when each list held was taken (unix seconds)
        self._last_error: dict[str, str] = {}
        self._last_reason: dict[str, str] = {}  # the last error's reason (``failure_reason``)
        self._last_asked: dict[str, float] = {}
        self._asking: dict[str, asyncio.Task[bool]] = {}
        self._ready = asyncio.Event()
        for provider in providers:
            if provider.settings.models:
                index.set_models(provider.id, [ModelEntry(provider.id, m) for m in provider.settings.models])

    async def _fetch(self, provider: ChatProvider) -> bool:
        self._last_asked[provider.id] = self._clock.monotonic()
        pool = self._pools[provider.id]
        cred = pool.pick()
        if cred is None:  # an account pool with no account signed in: nothing to list
            self._index.set_models(provider.id, [])
            return True
        try:
            key = cred.secret if cred.source is None else await cred.source.access()
            entries = await ask_for_models(
                provider, key, self._transport, self._clock, self._new_request_id(), pool.secrets
            )
        except (GatewayError, ValueError) as exc:
            message = getattr(exc, "message", None) or f"unreadable model list ({exc})"
            self._note_failure(provider, message, failure_reason(exc))
            self._expire(provider.id)
            return False
        self._index.set_models(provider.id, entries)
        self._taken_at[provider.id] = taken_at = self._clock.time()
        if self._keep is not None:
            self._keep(ListedModels(provider.id, _source(provider), taken_at, tuple(entries)))
        self._last_reason.pop(provider.id, None)
        if self._last_error.pop(provider.id, None) is not None or not provider.settings.probe:
            log.info("%s: %d models", provider.id, len(entries))
        return True

    def restore(self, lists: Iterable[ListedModels | None]) -> None:
        """Put back the lists kept from an earlier run that are still fresh and were taken at
        the address each provider has now; before the first round, so it replaces them."""
        fetched = {p.id: p for p in self._fetched}
        now = self._clock.time()
        for kept in lists:
            provider = None if kept is None else fetched.get(kept.provider)
            if kept is None or provider is None or kept.source != _source(provider) or now - kept.taken_at > self._ttl:
                continue
            self._index.set_models(kept.provider, kept.entries)
            self._taken_at[kept.provider] = kept.taken_at
            log.debug("%s: %d models kept from %.0f s ago", kept.provider, len(kept.entries), now - kept.taken_at)

    def carry(self, before: ModelSync) -> None:
        """Take over from the sync this one replaces (a settings change) what it knew of each
        provider whose settings did not change: its list, when it was taken, when it was last
        asked and why it failed; and its readiness, when every list still missing here is one it
        had asked for already, so no request waits for a first round the old one had (a provider
        that is down would hold every request after every change)."""
        old = {p.id: p for p in before._fetched}
        same = {p.id for p in self._fetched if (o := old.get(p.id)) is not None and o.settings == p.settings}
        held = before._index.entries()
        for provider_id in same:
            if before._index.has_list(provider_id):
                self._index.set_models(provider_id, [e for e in held if e.provider == provider_id])
            if (taken_at := before._taken_at.get(provider_id)) is not None:
                self._taken_at[provider_id] = taken_at
            if (asked := before._last_asked.get(provider_id)) is not None:
                self._last_asked[provider_id] = asked
            if (error := before._last_error.get(provider_id)) is not None:
                self._last_error[provider_id] = error
                self._last_reason[provider_id] = before._last_reason.get(provider_id, "error")
        if before.ready and all(p.id in same or self._index.has_list(p.id) for p in self._fetched):
            self._ready.set()

    def _expire(self, provider_id: str) -> None:
        """A provider that has not confirmed its list for ``ttl`` seconds lists nothing more."""
        taken_at = self._taken_at.get(provider_id)
        if taken_at is not None and self._clock.time() - taken_at > self._ttl:
            del self._taken_at[provider_id]
            self._index.drop(provider_id)
            log.info("%s: its models are no longer listed (not confirmed for %.0f s)", provider_id, self._ttl)

    def _note_failure(self, provider: ChatProvider, message: str, reason: str) -> None:
        if self._last_error.get(provider.id) != message:
            level = logging.DEBUG if provider.settings.probe else logging.WARNING
            log.log(level, "%s: cannot list models: %s", provider.id, message)
        self._last_error[provider.id] = message
        self._last_reason[provider.id] = reason

    def _ask(self, provider: ChatProvider) -> asyncio.Task[bool]:
        """The provider's list request: the one in flight, or a new one. Callers share it."""
        task = self._asking.get(provider.id)
        if task is None or task.done():
            task = asyncio.ensure_future(self._fetch(provider))
            self._asking[provider.id] = task
        return task

    def ask_again(self, provider_id: str) -> None:
        """Ask one provider for its list now (its credentials changed), in the background."""
        provider = next((p for p in self._fetched if p.id == provider_id), None)
        if provider is not None:
            self._asking.pop(provider_id, None)  # a list asked for with the old ones is not awaited
            self._ask(provider)

    async def listed(self, provider_id: str, timeout: float) -> None:
        """Wait (at most ``timeout``) for the list being asked of one provider, if any."""
        task = self._asking.get(provider_id)
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=timeout)

    def last_error(self, provider_id: str) -> str | None:
        """Why the provider's last list request failed; None when it answered."""
        return self._last_error.get(provider_id)

    async def ask_unsaved(self, provider: ChatProvider) -> list[ModelEntry]:
        """A provider's model list, asked once with its first key and kept nowhere: the Test of
        settings not saved yet. Raises as ``ask_for_models``."""
        keys = provider.settings.keys
        key = keys[0] if keys else None
        return await ask_for_models(provider, key, self._transport, self._clock, self._new_request_id(), keys)

    def last_reason(self, provider_id: str) -> str | None:
        """The last failure's reason, as ``failure_reason`` names it; None when it answered."""
        return self._last_reason.get(provider_id)

    async def refresh(self, providers: Sequence[ChatProvider] | None = None) -> bool:
        """Ask each provider (all by default) for its list now; True when every one answered,
        a local server only looked for on its usual port excepted."""
        chosen = self._fetched if providers is None else providers
        results = await asyncio.gather(*(self._ask(p) for p in chosen))
        if providers is None:  # a full round, however it went: nobody waits for it any longer
            self._ready.set()
        return all(ok or p.settings.probe for p, ok in zip(chosen, results, strict=True))

    def _to_ask_again(self) -> list[ChatProvider]:
        """The providers whose list is missing or whose last request failed."""
        return [p for p in self._fetched if p.id in self._last_error or not self._index.has_list(p.id)]

    async def run(self, then: Callable[[], None] | None = None) -> None:
        """Refresh every list each ``interval``; in between, ask again every half minute only
        those ``_to_ask_again`` (an absent local server is not worth a round of every list, nor
        a log line each time). ``then`` is called once, when the first round is in. Cancel to
        stop."""
        clock = self._clock
        while True:
            await self.refresh()
            if then is not None:
                then()
                then = None
            next_round = clock.monotonic() + self._interval
            while (left := next_round - clock.monotonic()) > 0:
                await clock.sleep(min(left, RETRY_AFTER_FAILURE) if self._to_ask_again() else left)
                if clock.monotonic() < next_round and (again := self._to_ask_again()):
                    await self.refresh(again)

    async def wait_ready(self, timeout: float) -> None:
        """Wait (at most ``timeout``) for the first round, so a fresh start lists its models."""
        if not self.ready:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout)

    @property
    def ready(self) -> bool:
        """The first round of model lists is done, or every list is held already (kept)."""
        return self._ready.is_set() or not self.incomplete

    @property
    def index(self) -> ModelIndex:
        return self._index

    @property
    def incomplete(self) -> bool:
        return any(not self._index.has_list(p.id) for p in self._fetched)

    async def refresh_missing(self, timeout: float) -> None:
        """Wait for the lists we lack (an unknown name may be in one): those being fetched right
        now, and a new ask of those not asked moments ago — a provider that is down must not slow
        every request."""
        now = self._clock.monotonic()
        waits = []
        for provider in self._fetched:
            if self._index.has_list(provider.id):
                continue
            task = self._asking.get(provider.id)
            if task is not None and not task.done():
                waits.append(task)
            elif now - self._last_asked.get(provider.id, float("-inf")) >= ASK_AGAIN_AFTER:
                waits.append(self._ask(provider))
        if waits:
            await asyncio.wait(waits, timeout=timeout)
