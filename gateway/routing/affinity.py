"""Conversation affinity: the requests of one conversation stay on the key (account) that served
it, while that key is healthy, so the upstream's prompt cache keeps hitting.

A conversation is named by a session header when the client sends one, else by a hash of its
opening (system prompt and first message), which stays the same as the conversation grows.
Records expire after ``ttl`` seconds unused; at most ``capacity`` are kept.
"""

from __future__ import annotations

from collections import OrderedDict

from gateway.clock import Clock


class Affinity:
    def __init__(self, clock: Clock, ttl: float, capacity: int = 100_000) -> None:
        self._clock = clock
        self._ttl = ttl
        self._capacity = capacity
        self._held: OrderedDict[str, tuple[str, float]] = OrderedDict()  # conversation -> (key label, last used)

    def label(self, conversation: str) -> str | None:
        held = self._held.get(conversation)
        if held is None:
            return None
        if self._clock.monotonic() - held[1] > self._ttl:
            del self._held[conversation]
            return None
        return held[0]

    def remember(self, conversation: str, label: str) -> None:
        held = self._held
        now = self._clock.monotonic()
        held[conversation] = (label, now)
        held.move_to_end(conversation)
        while len(held) > self._capacity or now - next(iter(held.values()))[1] > self._ttl:
            held.popitem(last=False)  # the least recently used first

    def __len__(self) -> int:
        return len(self._held)
