"""Newline-delimited JSON framing (Ollama's streams): whole lines out, whatever the chunking."""

from __future__ import annotations

from gateway.formats.common.jsonbody import event_json


class LineSplitter:
    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = b""

    def take(self, data: bytes) -> bytes:
        """Every line completed by ``data``, as one block ending in a newline."""
        buf = self._buf + data if self._buf else data
        end = buf.rfind(b"\n") + 1
        if end == 0:
            self._buf = buf
            return b""
        self._buf = buf[end:]
        return buf[:end] if end < len(buf) else buf

    def feed(self, data: bytes) -> list[bytes]:
        """Every non-blank line completed by ``data``, one by one, without its newline."""
        return [line for line in self.take(data).split(b"\n") if line.strip()]


def check_json(block: bytes) -> None:
    """Raise ``MalformedEvent`` if a line of the block is not JSON (see ``sse.check_json``)."""
    if block.find(b"\n") == len(block) - 1:  # the usual block: one line
        event_json(block)
        return
    for line in block.split(b"\n"):
        event_json(line)
