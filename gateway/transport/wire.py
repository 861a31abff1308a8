"""HTTP/1.1 on the wire for the upstream client: the request head, the response head, and the
response body taken out of a receive buffer by its framing (length, chunked, or up to the close).
No I/O here: the connection fills the buffer."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gateway.transport import UpstreamRequest


class Headers(Mapping[str, str]):
    """Response headers, looked up without regard to case; repeated ones joined with ", "."""

    __slots__ = ("_names", "_values")

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        values: dict[str, str] = {}
        names: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            if key in values:
                values[key] = f"{values[key]}, {value}"
            else:
                values[key] = value
                names[key] = name
        self._values = values
        self._names = names

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._values)


class Body:
    """Takes a response body out of the connection's buffer by its framing."""

    __slots__ = ("_buf", "_chunk_left", "_left", "_mode", "done")

    def __init__(self, buf: bytearray, mode: str, length: int = 0) -> None:
        self._buf = buf  # the connection's receive buffer
        self._mode = mode  # "length", "chunked" or "close"
        self._left = length
        self._chunk_left = -1  # bytes left in the current chunk; -1: a size line comes next
        self.done = mode == "length" and length == 0

    def take(self) -> bytes:
        """The body bytes the buffer holds now (b"" if none yet); sets ``done`` at the end."""
        buf = self._buf
        if self._mode == "length":
            n = min(self._left, len(buf))
            data = bytes(buf[:n])
            del buf[:n]
            self._left -= n
            self.done = self._left == 0
            return data
        if self._mode == "close":
            data = bytes(buf)
            buf.clear()
            return data
        return self._take_chunked(buf)

    def _take_chunked(self, buf: bytearray) -> bytes:
        # Walks the buffer by index and cuts it once: a stream's events come many to a read.
        pieces: list[bytearray] = []
        pos, size, left = 0, len(buf), self._chunk_left
        while True:
            if left > 0:
                n = min(left, size - pos)
                if n == 0:
                    break
                pieces.append(buf[pos : pos + n])
                pos += n
                left -= n
                continue
            if left == 0:  # the CRLF after a chunk's data
                if size - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise ValueError("chunk not followed by CRLF")
                pos += 2
                left = -1
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if size - pos > 1024:
                    raise ValueError("chunk size line too long")
                break
            digits = buf[pos:end].split(b";", 1)[0].strip()
            if not digits or digits.strip(b"0123456789abcdefABCDEF"):
                raise ValueError(f"bad chunk size {bytes(digits[:20])!r}")
            left = int(digits, 16)
            if left == 0:  # the last chunk, then any trailers, then an empty line
                stop = end + 4 if buf[end + 2 : end + 4] == b"\r\n" else buf.find(b"\r\n\r\n", end + 2) + 4
                if stop >= 4:
                    pos = stop
                    self.done = True
                else:
                    left = -1  # read the size line again once the trailers are all in
                break
            pos = end + 2
        del buf[:pos]
        self._chunk_left = left
        return b"".join(pieces)

    @property
    def delimited(self) -> bool:
        """Its end was marked in the stream (not by the peer closing), so the connection can carry on."""
        return self._mode != "close"

    def ended_early(self) -> bool:
        """The peer closed: a complete body only when it was delimited by the close."""
        if self._mode == "close":
            self.done = True
            return False
        return not self.done


def request_head(request: UpstreamRequest, host_header: str, target: str, proxy_auth: str | None = None) -> bytes:
    """``proxy_auth``: the Proxy-Authorization of the HTTP proxy a plain-http request is forwarded by."""
    lines = [f"{request.method} {target} HTTP/1.1"]
    named = set()
    for name, value in request.headers:
        lines.append(f"{name}: {value}")
        named.add(name.lower())
    if "host" not in named:
        lines.append(f"Host: {host_header}")
    if request.body is not None or request.method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(request.body or b'')}")
    if "accept-encoding" not in named:
        lines.append("Accept-Encoding: gzip, deflate")
    if proxy_auth is not None:
        lines.append(f"Proxy-Authorization: {proxy_auth}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    # Exactly one CRLF per line: a value carrying CR or LF would smuggle a header in.
    if head.count("\n") != len(lines) + 1 or head.count("\r") != len(lines) + 1 or "\0" in head:
        raise ValueError("a request header contains a line break")
    return head.encode("latin-1")


def parse_head(head: bytes) -> tuple[int, bool, list[tuple[str, str]]]:
    """Status, whether the server keeps the connection open, and the header pairs."""
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    pairs = []
    keep = version == "HTTP/1.1"
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"malformed header line: {line[:80]!r}")
        value = value.strip()
        if name.lower() == "connection":
            tokens = {t.strip().lower() for t in value.split(",")}
            keep = "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
        pairs.append((name, value))
    return int(code), keep, pairs


def framing(buf: bytearray, method: str, status: int, headers: Headers) -> Body:
    if method == "HEAD" or status in (204, 304):
        return Body(buf, "length")
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return Body(buf, "chunked")
    length = headers.get("Content-Length")
    if length is not None:
        if not length.strip().isdigit():
            raise ValueError(f"bad Content-Length {length[:40]!r}")
        return Body(buf, "length", int(length))
    return Body(buf, "close")
