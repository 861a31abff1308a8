"""A stream on its way to the client: relayed from the upstream as it arrives (``StreamReply``),
or replayed from the response cache (``CachedStream``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from gateway.core.models import Target
from gateway.errors import GatewayError, UpstreamBadResponse
from gateway.formats.common.jsonbody import MalformedEvent
from gateway.formats.interfaces import Relay
from gateway.transport import UpstreamResponse

MAX_KEPT_BYTES = 4 * 1024 * 1024  # of a passthrough stream, for counting it when no usage comes


def malformed(provider: str) -> UpstreamBadResponse:
    """An upstream's stream event that is not JSON: its client could not parse it (B36)."""
    return UpstreamBadResponse(f"provider {provider} sent a stream event that is not JSON", provider=provider)


class Ending(Protocol):
    """A stream's answer, as its reply ends it (``gateway.pipeline.answers.StreamAnswer``)."""

    @property
    def kept(self) -> list[bytes] | None:
        """Where what is relayed is kept, for counting when no usage comes (None: not needed)."""
        ...

    async def end(self, relay: Relay) -> bytes:
        """Asked once, when the relay has seen the upstream's end: what goes out after it (the
        end a relay held back until the gateway had counted the usage)."""
        ...

    def counted(self, relay: Relay) -> None:
        """Count the answer, once the stream has ended, broken off or been closed."""
        ...


class StreamReply:
    """A relayed stream: iterate for bytes to write; ``close`` when done or abandoned.

    An iterator class rather than a generator, so a client hanging up leaves nothing suspended.
    Raises ``UpstreamError`` mid-stream when the upstream fails or stops before its end.

    The answer is counted (``Ending.counted``) once: when the relay has seen the upstream's end or
    its error, before those last bytes are handed out — the ledger has its row before the client
    has the whole answer, so a process killed in between loses no answer a client saw end — or
    else when the stream breaks off or is closed.
    """

    __slots__ = (
        "_copied",
        "_copy_left",
        "_ending",
        "_first",
        "_kept",
        "_kept_size",
        "_on_copied",
        "_relay",
        "_response",
        "target",
    )

    def __init__(self, first: bytes, relay: Relay, response: UpstreamResponse, target: Target, ending: Ending) -> None:
        """``ending``: the stream's answer, held until it is counted (then None)."""
        self._first: bytes | None = first
        self._relay = relay
        self._response = response
        self._ending: Ending | None = ending
        self.target = target
        # What was relayed, kept (up to MAX_KEPT_BYTES) so it can be counted if no usage comes.
        self._kept = kept = ending.kept
        self._kept_size = len(first)
        if kept is not None:
            kept.append(first)
        # Every piece relayed, for the response cache, when asked for (``copy_to``).
        self._copied: list[bytes] | None = None
        self._copy_left = 0
        self._on_copied: Callable[[tuple[bytes, ...]], None] | None = None

    def copy_to(self, limit: int, done: Callable[[tuple[bytes, ...]], None]) -> None:
        """Hand every piece relayed to ``done`` once the stream has completed, unless it grew
        past ``limit`` bytes (then the copy is dropped as soon as it does)."""
        self._copied = [] if self._first is None else [self._first]
        self._copy_left = limit - sum(len(piece) for piece in self._copied)
        self._on_copied = done

    def __aiter__(self) -> StreamReply:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            if self._relay.done or self._relay.failed:
                first += await self._finish()
            return first
        relay = self._relay
        while True:
            data = await self._response.read_chunk()
            if not data:
                if relay.done or relay.failed:
                    raise StopAsyncIteration
                raise UpstreamBadResponse(
                    f"provider {self.target.provider} ended the stream before it was complete",
                    provider=self.target.provider,
                )
            try:
                out = relay.feed(data)
            except MalformedEvent:
                raise malformed(self.target.provider) from None
            if out:
                self._relayed(out)
            if self._ending is not None and (relay.done or relay.failed):
                out += await self._finish()
            if out:
                return out

    def _relayed(self, out: bytes) -> None:
        """Keep what goes to the client, for counting and for the response cache."""
        kept = self._kept
        if kept is not None and self._kept_size < MAX_KEPT_BYTES:
            kept.append(out)
            self._kept_size += len(out)
        if self._copied is not None:
            self._copy_left -= len(out)
            if self._copy_left < 0:
                self._copied = self._on_copied = None  # too large to cache
            else:
                self._copied.append(out)

    async def _finish(self) -> bytes:
        """At the upstream's end (or its error), unless counted already: what goes out after a
        proper end (the end a relay held back), then the count."""
        ending = self._ending
        if ending is None:
            return b""
        out = b""
        if self._relay.done:
            out = await ending.end(self._relay)
            if out:
                self._relayed(out)
        self._count()
        return out

    def _count(self) -> None:
        if (ending := self._ending) is not None:
            self._ending = None
            ending.counted(self._relay)

    @property
    def complete(self) -> bool:
        """Everything has been handed out: the stream ended and the upstream's body was read."""
        return self._first is None and self._relay.done and self._response.finished

    def failure(self, err: GatewayError) -> bytes:
        """The client protocol's in-stream error, to end the stream with (counted before it goes)."""
        self._count()
        return self._relay.failure(err)

    def close(self) -> None:
        """Count the usage unless counted; release the upstream connection if the stream
        finished, abort it otherwise."""
        self._count()
        if self._relay.done:
            self._response.release()
            if self._on_copied is not None and self._copied is not None and not self._relay.failed:
                self._on_copied(tuple(self._copied))
        else:
            self._response.close()


class CachedStream:
    """A cached stream, replayed piece by piece as it was first relayed."""

    __slots__ = ("_next", "_pieces")

    def __init__(self, pieces: tuple[bytes, ...]) -> None:
        self._pieces = pieces
        self._next = 0

    def __aiter__(self) -> CachedStream:
        return self

    async def __anext__(self) -> bytes:
        if self._next >= len(self._pieces):
            raise StopAsyncIteration
        self._next += 1
        return self._pieces[self._next - 1]

    @property
    def complete(self) -> bool:
        return self._next >= len(self._pieces)

    def failure(self, err: GatewayError) -> bytes:
        return b""  # nothing can fail while replaying bytes held in memory

    def close(self) -> None:
        pass


Reply = StreamReply | CachedStream
