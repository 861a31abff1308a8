"""Relaying an OpenAI Chat Completions stream to an OpenAI client, reading usage on the side."""

from __future__ import annotations

import re
from typing import Any

from gateway.core.usage import Usage
from gateway.errors import GatewayError
from gateway.formats.common import jsonbody
from gateway.formats.common.relay_state import RelayState
from gateway.formats.common.sse import EventSplitter, check_json, data_in, event_data
from gateway.formats.openai.errors import stream_error
from gateway.formats.openai_chat.stream import usage_chunk
from gateway.formats.openai_chat.usage import usage_from

_DONE = b"[DONE]"
_USAGE_KEY = b'"usage"'

# Markers are found with a plain search and then confirmed against the event's whole data, so
# text a model writes (even "data: [DONE]") never counts.
_ERROR_PAYLOAD = re.compile(rb'\s*\{\s*"error"\s*:')
# A usage object (not null). Inside a JSON string the quotes would be escaped, so this is a key.
_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')


def _event_bounds(block: bytes, at: int) -> tuple[int, int]:
    """Start and end (after its blank line) of the event holding position ``at``."""
    start = block.rfind(b"\n\n", 0, at)
    end = block.find(b"\n\n", at)
    return (0 if start < 0 else start + 2), (len(block) if end < 0 else end + 2)


def _data_at(block: bytes, at: int) -> bytes | None:
    """The data of the event holding position ``at`` (None when ``at`` is -1), stripped."""
    if at < 0:
        return None
    start, end = _event_bounds(block, at)
    data = event_data(block[start:end].strip(b"\n"))
    return data.strip() if data is not None else None


_DONE_EVENT = b"data: [DONE]\n\n"


def _ends_done(block: bytes) -> bool:
    """The usual shape: [DONE] is the block's last event."""
    size = len(_DONE_EVENT)
    return block.endswith(_DONE_EVENT) and (len(block) == size or block[-size - 2 : -size] == b"\n\n")


def _error_in(block: bytes) -> bytes | None:
    """An upstream error event, looked for where one can be: first (the upstream failed at once,
    so it can still become a proper status) or last (an error ends a stream). Only those two
    events are searched, never the whole block."""
    at = block.find(b'"error"', 0, block.find(b"\n\n"))
    if at < 0:
        last_start = block.rfind(b"\n\n", 0, len(block) - 2)
        at = block.find(b'"error"', last_start) if last_start >= 0 else -1
    data = _data_at(block, at)
    return data if data is not None and _is_error(data) else None


def _is_error(data: bytes) -> bool:
    return _ERROR_PAYLOAD.match(data) is not None


def _without_done(block: bytes) -> bytes:
    """The block that ended the stream, its [DONE] event cut out."""
    if _ends_done(block):
        return block[: -len(_DONE_EVENT)]
    start, end = _event_bounds(block, block.rfind(_DONE))
    return block[:start] + block[end:]


def _first_chunk(block: bytes) -> dict[str, Any]:
    """The first chunk in a block, parsed (empty when none parses)."""
    for data in data_in(block):
        try:
            chunk = jsonbody.loads(data)
        except ValueError:
            continue
        if isinstance(chunk, dict):
            return chunk
    return {}


class StreamRelay(RelayState):
    """Relays a Chat Completions SSE stream event by event, reading usage on the side.

    ``feed`` takes bytes as they arrive from the upstream and returns the bytes to send to the
    client now: every complete event, except the usage-only chunk when the client did not ask
    for it. Events are found by position, so a block of many events costs a few searches, not a
    parse each; only an event that holds a usage object is parsed.

    When the client asked for usage and the stream ends without any (llama-cpp-python never
    sends it), the [DONE] is held back (``owes_usage``) for ``end`` to send after a usage chunk
    with the gateway's own count.
    """

    __slots__ = ("_drop_usage_chunk", "_head", "_splitter", "_wants_usage", "owes_usage")

    def __init__(self, *, drop_usage_chunk: bool, wants_usage: bool = False) -> None:
        """``wants_usage``: the client itself asked for the usage chunk."""
        super().__init__()
        self._splitter = EventSplitter()
        self._drop_usage_chunk = drop_usage_chunk
        self._wants_usage = wants_usage
        self._head = b""  # the first events: a usage chunk made here takes its id, created, model
        self.owes_usage = False

    def failure(self, err: GatewayError) -> bytes:
        return stream_error(err)

    def feed(self, data: bytes) -> bytes:
        """Raises ``MalformedEvent`` for an event that is not JSON (its client would choke on it)."""
        block = self._splitter.take(data)
        if not block:
            return b""
        check_json(block)
        # Every marker is looked for from the end or within one event: blocks can be large
        # (a whole answer in one read) and a scan of each for each marker would add up.
        if not self.started and b"data:" in block:
            self.started = True
            self._head = block
        ended = False
        if not self.done:
            ended = self.done = _ends_done(block) or _data_at(block, block.rfind(_DONE)) == _DONE
        if self.error_payload is None:
            self.error_payload = _error_in(block)
        at = block.rfind(_USAGE_KEY)
        if at >= 0:
            block = self._read_usage(block, at)
        if ended and self._wants_usage and self.usage is None:
            self.owes_usage = True
            return _without_done(block)
        return block

    def end(self, usage: Usage | None) -> bytes:
        """The end held back: a usage-only chunk with ``usage`` (the gateway's own count; no
        chunk when None), then [DONE]. The count becomes the stream's usage, so the ledger
        records it as it was made (estimated) rather than counting again."""
        self.owes_usage = False
        if usage is None:
            return _DONE_EVENT
        self.usage = usage
        head = _first_chunk(self._head)
        counts = {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        }
        return usage_chunk(head.get("id"), head.get("created"), head.get("model"), counts) + _DONE_EVENT

    def _read_usage(self, block: bytes, at: int) -> bytes:
        """Read the block's last usage object and cut it if it is a usage-only chunk the client
        did not ask for. The last report is the one that counts (some servers send running
        totals on every chunk), and a usage-only chunk is always a stream's last content."""
        while at >= 0:
            if _USAGE_OBJECT.match(block, at):
                start, end = _event_bounds(block, at)
                try:
                    chunk = jsonbody.loads(event_data(block[start:end].strip(b"\n")) or b"")
                except ValueError:
                    chunk = None
                if isinstance(chunk, dict):
                    self.usage = usage_from(chunk.get("usage")) or self.usage
                    if self._drop_usage_chunk and chunk.get("choices") == []:
                        return block[:start] + block[end:]
                    return block
            at = block.rfind(_USAGE_KEY, 0, at)
        return block
