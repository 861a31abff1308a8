"""Server-sent events framing: cut a byte stream into whole events, whatever the chunking.

Network chunks do not line up with events: an event may span reads, a read may hold several, and
a CRLF may be split between two reads. ``EventSplitter`` keeps the unfinished tail and hands out
complete events as one block (with LF line endings); ``data_in`` reads each event's data. Bytes of a
stream that uses plain LF pass through untouched.
"""

from __future__ import annotations

from typing import Any

from gateway.formats.common.jsonbody import event_json

KEEP_ALIVE = b": keep-alive\n\n"  # a comment, which every SSE parser skips


class EventSplitter:
    __slots__ = ("_buf", "_crlf", "_skip_lf")

    def __init__(self) -> None:
        self._buf = b""
        self._crlf = False
        self._skip_lf = False

    def take(self, data: bytes) -> bytes:
        """Every event completed by ``data``, as one block, each followed by its blank line."""
        if self._crlf or b"\r" in data:
            data = self._normalise(data)
        buf = self._buf + data if self._buf else data
        end = buf.rfind(b"\n\n") + 2
        if end < 2:
            self._buf = buf
            return b""
        if end == len(buf):  # the usual case: the read ended on an event boundary
            self._buf = b""
            return buf
        self._buf = buf[end:]
        return buf[:end]

    def _normalise(self, data: bytes) -> bytes:
        self._crlf = True
        if self._skip_lf and data.startswith(b"\n"):
            data = data[1:]  # second half of a CRLF split across reads: its CR already ended the line
        self._skip_lf = data.endswith(b"\r")
        return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def data_in(block: bytes) -> list[bytes]:
    """The data of each event in a block from ``take``; events without data are left out. The
    usual shapes (one ``data:`` line, after an ``event:`` line or not) are taken without parsing
    the event's lines."""
    out = []
    for event in block.split(b"\n\n"):
        if not event:  # after the last event, or between events parted by extra blank lines
            continue
        if event.startswith(b"data: ") and b"\n" not in event:
            out.append(event[6:])
            continue
        if event.startswith(b"event: "):
            rest = event[event.find(b"\n") + 1 :]
            if rest.startswith(b"data: ") and b"\n" not in rest:
                out.append(rest[6:])
                continue
        event = event.strip(b"\n")
        if event and (data := event_data(event)) is not None:
            out.append(data)
    return out


def objects_in(block: bytes) -> list[tuple[dict[str, Any], bytes]]:
    """Each event's data that is a JSON object, parsed, with the data as it came; comments,
    keep-alives, blank data and other JSON values are skipped. Raises ``MalformedEvent`` for data
    that is not JSON."""
    out = []
    for data in data_in(block):
        if type(parsed := event_json(data)) is dict:
            out.append((parsed, data))
    return out


def check_json(block: bytes) -> None:
    """Raise ``MalformedEvent`` if the data of an event in the block is not JSON: a relay that
    passes events on unread must not pass on one its client cannot parse (SECURITY.md B36). Each
    event is parsed: orjson takes well under a microsecond for a usual one, and the usual block (one
    event of one data line, after an event line or not, as most reads bring) is not split."""
    start = block.find(b"\n") + 1 if block.startswith(b"event: ") else 0
    if block.startswith(b"data: ", start) and block.find(b"\n", start) == len(block) - 2:
        event_json(block[start + 6 : -2])
        return
    for data in data_in(block):
        event_json(data)


def event_data(block: bytes) -> bytes | None:
    """The event's data (several ``data:`` lines joined by LF), or None if it carries none."""
    if block.startswith(b"data:") and b"\n" not in block:
        value = block[5:]
        return value[1:] if value.startswith(b" ") else value
    found: list[bytes] = []
    for line in block.split(b"\n"):
        if line.startswith(b"data:"):
            value = line[5:]
            found.append(value[1:] if value.startswith(b" ") else value)
    return b"\n".join(found) if found else None
