"""A stream in one protocol relayed in another: the upstream's decoder feeding the client's
encoder through canonical events, with the relay interface of a passthrough stream."""

from __future__ import annotations

from gateway.core.chat import ReasoningDelta, StreamEnd, TextDelta, ToolCallDelta, UsageReport
from gateway.errors import GatewayError
from gateway.formats.common.relay_state import RelayState
from gateway.formats.interfaces import StreamDecoder, StreamEncoder


class Translation(RelayState):
    """Upstream errors are raised by the decoder, so ``error_payload`` stays None."""

    __slots__ = ("_decoder", "_encoder", "output")

    def __init__(self, decoder: StreamDecoder, encoder: StreamEncoder) -> None:
        super().__init__()
        self._decoder = decoder
        self._encoder = encoder
        self.output: list[str] = []  # what the model wrote, for counting when usage is missing

    def failure(self, err: GatewayError) -> bytes:
        return self._encoder.failure(err)

    def feed(self, data: bytes) -> bytes:
        """Raises UpstreamError when the upstream reports an error mid-stream."""
        out = []
        encode = self._encoder.feed
        for event in self._decoder.feed(data):
            self.started = True
            kind = type(event)
            if kind is TextDelta or kind is ReasoningDelta:
                self.output.append(event.text)  # type: ignore[union-attr]
            elif kind is ToolCallDelta:
                self.output.append(event.arguments)  # type: ignore[union-attr]
            elif kind is UsageReport:
                self.usage = event.usage  # type: ignore[union-attr]
            elif kind is StreamEnd:
                self.done = True
            out.append(encode(event))
        return b"".join(out)
