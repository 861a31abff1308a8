"""Keeps the model index filled from each provider's ``/models``, in the background.

Fixed model lists go in at once. Others are fetched at start, then every ``interval`` seconds;
a provider that could not be asked is retried sooner. An unreachable provider never fails the
list: it simply contributes nothing until it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from gateway.clock import Clock
from gateway.core.models import ModelEntry
from gateway.errors import GatewayError
from gateway.providers.base import ChatProvider
from gateway.routing.keys import KeyRing
from gateway.routing.model_index import ModelIndex
from gateway.transport import Timeouts, Transport

log = logging.getLogger("gateway.models")

RETRY_AFTER_FAILURE = 30.0
ASK_AGAIN_AFTER = 10.0  # an unknown model name asks a missing provider again at most this often
MAX_LIST_BYTES = 16 * 1024 * 1024
_LIST_TIMEOUTS = Timeouts(connect=5.0, read=15.0, total=30.0)


class ModelSync:
    def __init__(
        self,
        providers: Sequence[ChatProvider],
        keys: Mapping[str, KeyRing],
        index: ModelIndex,
        transport: Transport,
        clock: Clock,
        *,
        interval: float,
        new_request_id: Callable[[], str],
    ) -> None:
        self._fetched = [p for p in providers if not p.settings.models]
        self._keys = keys
        self._index = index
        self._transport = transport
        self._clock = clock
        self._interval = interval
        self._new_request_id = new_request_id
        self._last_error: dict[str, str] = {}
        self._last_asked: dict[str, float] = {}
        self._round: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        for provider in providers:
            if provider.settings.models:
                index.set_models(
                    provider.id, [ModelEntry(provider.id, m) for m in provider.settings.models]
                )

    async def _fetch(self, provider: ChatProvider) -> bool:
        self._last_asked[provider.id] = self._clock.monotonic()
        ring = self._keys[provider.id]
        request = replace(
            provider.models_request(ring.pick(), self._new_request_id()), timeouts=_LIST_TIMEOUTS
        )
        try:
            response = await self._transport.send(request)
            try:
                body = await response.read(MAX_LIST_BYTES)
            except BaseException:
                response.close()
                raise
            if response.status != 200:
                raise provider.error(response.status, response.headers, body, self._clock.time(), ring.keys)
            entries = provider.parse_models(body)
        except (GatewayError, ValueError) as exc:
            self._note_failure(provider, getattr(exc, "message", None) or f"unreadable model list ({exc})")
            return False
        self._index.set_models(provider.id, entries)
        if self._last_error.pop(provider.id, None) is not None or not provider.settings.probe:
            log.info("%s: %d models", provider.id, len(entries))
        return True

    def _note_failure(self, provider: ChatProvider, message: str) -> None:
        if self._last_error.get(provider.id) != message:
            level = logging.DEBUG if provider.settings.probe else logging.WARNING
            log.log(level, "%s: cannot list models: %s", provider.id, message)
        self._last_error[provider.id] = message

    async def refresh(self, providers: Sequence[ChatProvider] | None = None) -> bool:
        """Ask each provider (all by default) for its list now; True when every one answered."""
        chosen = self._fetched if providers is None else providers
        results = await asyncio.gather(*(self._fetch(p) for p in chosen))
        return all(results)

    def _start_round(self, providers: Sequence[ChatProvider]) -> asyncio.Task[None]:
        """One refresh at a time: callers arriving during a round share it."""
        if self._round is None or self._round.done():

            async def round_() -> None:
                await self.refresh(providers)

            self._round = asyncio.ensure_future(round_())
        return self._round

    async def run(self) -> None:
        """Refresh forever; cancel to stop."""
        while True:
            ok = await self.refresh()
            self._ready.set()
            await self._clock.sleep(self._interval if ok else min(self._interval, RETRY_AFTER_FAILURE))

    async def wait_ready(self, timeout: float) -> None:
        """Wait (at most ``timeout``) for the first round, so a fresh start lists its models."""
        if not self._ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout)

    @property
    def incomplete(self) -> bool:
        return any(not self._index.has_list(p.id) for p in self._fetched)

    async def refresh_missing(self, timeout: float) -> None:
        """Ask again the providers whose list we lack (an unknown name may be theirs), unless
        they were asked moments ago: a provider that is down must not slow every request."""
        now = self._clock.monotonic()
        missing = [
            p
            for p in self._fetched
            if not self._index.has_list(p.id)
            and now - self._last_asked.get(p.id, float("-inf")) >= ASK_AGAIN_AFTER
        ]
        if missing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._start_round(missing)), timeout)
