"""A relay that also watches the stream for the upstream's quota events (Codex sends
``codex.rate_limits`` in its streams), and hands what it finds to ``seen``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.core.usage import Usage
from gateway.errors import GatewayError
from gateway.formats.common.sse import EventSplitter, objects_in
from gateway.formats.interfaces import Relay
from gateway.providers.quota import QuotaWindow


class QuotaTap:
    __slots__ = ("_read", "_relay", "_seen", "_splitter")

    def __init__(
        self,
        relay: Relay,
        read: Callable[[dict[str, Any]], tuple[QuotaWindow, ...]],
        seen: Callable[[tuple[QuotaWindow, ...]], None],
    ) -> None:
        self._relay = relay
        self._read = read
        self._seen = seen
        self._splitter = EventSplitter()

    def feed(self, data: bytes) -> bytes:
        for payload, _ in objects_in(self._splitter.take(data)):
            if windows := self._read(payload):
                self._seen(windows)
        return self._relay.feed(data)

    def failure(self, err: GatewayError) -> bytes:
        return self._relay.failure(err)

    @property
    def usage(self) -> Usage | None:
        return self._relay.usage

    @property
    def started(self) -> bool:
        return self._relay.started

    @property
    def done(self) -> bool:
        return self._relay.done

    @property
    def error_payload(self) -> bytes | None:
        return self._relay.error_payload

    @property
    def failed(self) -> bool:
        return self._relay.failed
