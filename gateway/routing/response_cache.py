"""An optional exact-match cache of answers: the same request from the same caller gets the
same answer without an upstream call.

Keyed by the caller's namespace (two callers never share an answer), the client protocol and the
request's own bytes; a streamed answer is kept as the bytes that were relayed and replayed as a
stream. Only deterministic requests are cached — ``temperature`` explicitly 0 — unless the config
says sampled answers may be reused too. Entries expire after ``ttl`` seconds; the least recently
used go first when the entry count or the byte budget is reached.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, TypedDict

from gateway.clock import Clock
from gateway.config.settings import CacheSettings
from gateway.formats.common import jsonbody


class CacheStats(TypedDict):
    enabled: bool
    entries: int
    bytes: int
    hits: int
    misses: int


@dataclass(frozen=True, slots=True)
class Cached:
    chunks: tuple[bytes, ...]  # one element for a whole answer; the relayed pieces of a stream
    stream: bool
    route: str  # the route that first served it
    stored: float  # monotonic

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.chunks)


def _temperature(body: dict[str, Any]) -> Any:
    options = body.get("options")
    if isinstance(options, dict) and "temperature" in options:  # Ollama
        return options["temperature"]
    return body.get("temperature")


class ResponseCache:
    def __init__(self, clock: Clock, settings: CacheSettings) -> None:
        self._clock = clock
        self.settings = settings
        self._entries: OrderedDict[str, Cached] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    @property
    def largest(self) -> int:
        """The most bytes one answer may take."""
        return self.settings.max_bytes // 4

    def key(self, namespace: str, protocol: str, body: dict[str, Any], encoded: bytes | None = None) -> str | None:
        """The cache key of a request (``encoded``: its body as ``jsonbody.encode`` writes it,
        when already at hand), or None when it may not be cached."""
        if not self.settings.enabled:
            return None
        if not self.settings.sampled and _temperature(body) != 0:
            return None
        digest = hashlib.blake2b(encoded or jsonbody.encode(body), digest_size=20).hexdigest()
        return f"{namespace}\x00{protocol}\x00{digest}"

    def get(self, key: str) -> Cached | None:
        entry = self._entries.get(key)
        if entry is not None and self._clock.monotonic() - entry.stored > self.settings.ttl:
            self._drop(key)
            entry = None
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    def put(self, key: str, chunks: tuple[bytes, ...], stream: bool, route: str) -> None:
        entry = Cached(chunks, stream, route, self._clock.monotonic())
        size = entry.size
        settings = self.settings
        if size > self.largest:  # one answer may not crowd out the rest
            return
        if key in self._entries:
            self._drop(key)
        self._entries[key] = entry
        self._bytes += size
        while len(self._entries) > settings.max_entries or self._bytes > settings.max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: str) -> None:
        self._bytes -= self._entries.pop(key).size

    def stats(self) -> CacheStats:
        return {
            "enabled": self.settings.enabled,
            "entries": len(self._entries),
            "bytes": self._bytes,
            "hits": self.hits,
            "misses": self.misses,
        }
