"""The shapes the service relies on, whatever the protocol.

A client's checked call, an upstream stream's relay, and the canonical stream's decoders and
encoders are small objects with these methods; each protocol module provides its own.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol

from gateway.core.chat import ChatRequest, ChatResponse, StreamEvent
from gateway.core.protocols import ProtocolId
from gateway.core.timing import Timing
from gateway.core.usage import Usage
from gateway.errors import GatewayError
from gateway.formats.common.jsonbody import Body


class StreamEncoder(Protocol):
    def feed(self, event: StreamEvent) -> bytes: ...

    def failure(self, err: GatewayError) -> bytes:
        """The protocol's in-stream error, to end a stream that broke off after it began."""
        ...

    def keep_alive(self) -> bytes:
        """What the protocol's clients read past while a stream waits, so that nothing between
        them and the gateway takes the silence for a dead connection."""
        ...


class StreamDecoder(Protocol):
    def feed(self, data: bytes) -> list[StreamEvent]: ...


class ClientCall(Protocol):
    """A checked request in the client's protocol."""

    protocol: ClassVar[ProtocolId]

    @property
    def model(self) -> str: ...

    @property
    def stream(self) -> bool: ...

    @property
    def body(self) -> dict[str, Any]: ...

    @property
    def source(self) -> Body | None:
        """The client's own bytes, while the body is unchanged (for the passthrough)."""
        ...

    def canonical(self) -> ChatRequest: ...

    def encode_answer(self, answer: ChatResponse, timing: Timing) -> bytes: ...

    def stream_encoder(self, timing: Timing) -> StreamEncoder: ...


class Relay(Protocol):
    """Upstream stream bytes in, client stream bytes out, with what was learned on the way."""

    @property
    def usage(self) -> Usage | None: ...

    @property
    def started(self) -> bool:
        """A real event has come (a stream is committed only then)."""
        ...

    @property
    def done(self) -> bool:
        """The upstream ended the stream properly."""
        ...

    @property
    def error_payload(self) -> bytes | None:
        """The upstream's own in-stream error, relayed as is."""
        ...

    @property
    def failed(self) -> bool: ...

    def feed(self, data: bytes) -> bytes: ...

    def failure(self, err: GatewayError) -> bytes:
        """The client protocol's in-stream error, to end a stream that broke off."""
        ...
