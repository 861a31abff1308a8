"""The upstream HTTP client against servers on loopback that say exactly what each test scripts:
framing (length, chunked, close-delimited, gzip), keep-alive reuse, timeouts, broken answers,
redirects left alone, header injection refused, the resolver guard, TLS, and its bounds."""

from __future__ import annotations

import asyncio
import gc
import gzip
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fakes.certificates import self_signed

from gateway.errors import UpstreamBadResponse, UpstreamTimeout, UpstreamUnreachable
from gateway.transport import Timeouts, UpstreamRequest
from gateway.transport.http1 import Http1Transport

DEFAULT = Timeouts()
Reply = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Scripted:
    """A TCP server whose every connection is handled by ``reply``; it records what it was sent."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.heads: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.reply(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def start(self, tls: ssl.SSLContext | None = None) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def request(self, reader: asyncio.StreamReader) -> bytes:
        """One request's head and body (Content-Length bodies only, as the client sends)."""
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return head + await reader.readexactly(length)


@pytest.fixture
async def transport() -> AsyncIterator[Http1Transport]:
    t = Http1Transport()
    yield t
    await t.aclose()


def _get(
    port: int,
    path: str = "/v1/x",
    *,
    scheme: str = "http",
    host: str = "127.0.0.1",
    timeouts: Timeouts = DEFAULT,
    headers: tuple[tuple[str, str], ...] = (),
) -> UpstreamRequest:
    return UpstreamRequest("p", "GET", f"{scheme}://{host}:{port}{path}", headers, None, timeouts)


def _post(port: int, body: bytes) -> UpstreamRequest:
    return UpstreamRequest(
        "p", "POST", f"http://127.0.0.1:{port}/v1/chat", (("Content-Type", "application/json"),), body
    )


def _answer(body: bytes, *headers: bytes, status: bytes = b"200 OK") -> bytes:
    head = b"HTTP/1.1 " + status + b"\r\n" + b"".join(h + b"\r\n" for h in headers)
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


async def test_a_length_delimited_answer_and_the_connection_kept_for_the_next(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            sent = await server.request(reader)
            writer.write(
                _answer(b'{"echo": %d}' % len(sent), b"Content-Type: application/json", b"X-Thing: a", b"x-thing: b")
            )

    server = Scripted(reply)
    port = await server.start()
    try:
        for _ in range(3):
            response = await transport.send(_post(port, b'{"hello": 1}'))
            assert response.status == 200
            assert response.headers["content-type"] == response.headers.get("Content-Type") == "application/json"
            assert response.headers["X-THING"] == "a, b"  # repeated headers joined
            assert (await response.read(1000)).startswith(b'{"echo": ')
        assert server.connections == 1  # one connection carried all three
        head = server.heads[0].decode()
        assert head.startswith("POST /v1/chat HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{port}\r\n" in head and "Content-Length: 12\r\n" in head
        assert transport.connections_in_use == 0
    finally:
        await server.stop()


async def test_a_chunked_stream_arrives_piece_by_piece(transport: Http1Transport) -> None:
    second = asyncio.Event()

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"7;ext=1\r\ndata: 1\r\n")
        await writer.drain()
        await second.wait()  # the client has the first piece before the server sends more
        writer.write(b"9\r\n\n\ndata: 2\r\n" + b"0\r\nTrailer: x\r\n\r\n")
        await writer.drain()
        await reader.read()

    server = Scripted(reply)
    port = await server.start()
    try:
        response = await transport.send(_post(port, b"{}"))
        assert await response.read_chunk() == b"data: 1"
        second.set()
        rest = b""
        while chunk := await response.read_chunk():
            rest += chunk
        assert rest == b"\n\ndata: 2"
        assert await response.read_chunk() == b""
        assert transport.connections_in_use == 0
    finally:
        await server.stop()


async def test_gzip_is_decoded_and_a_close_delimited_body_read_to_the_end(transport: Http1Transport) -> None:
    packed = gzip.compress(b'{"a": "' + b"x" * 5000 + b'"}')

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n" + packed)
        await writer.drain()

    server = Scripted(reply)
    port = await server.start()
    try:
        response = await transport.send(_get(port))
        body = await response.read(100_000)
        assert body.startswith(b'{"a": "xxx') and len(body) == 5009
        assert "Accept-Encoding: gzip, deflate" in server.heads[0].decode()
        await (await transport.send(_get(port))).read(100_000)
        assert server.connections == 2  # "Connection: close" is honoured: not reused
    finally:
        await server.stop()


async def test_redirects_are_handed_back_not_followed(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(_answer(b"", b"Location: http://elsewhere.example/steal", status=b"302 Found"))

    server = Scripted(reply)
    port = await server.start()
    try:
        response = await transport.send(_get(port, headers=(("x-api-key", "sk-secret"),)))
        assert response.status == 302 and response.headers["Location"].startswith("http://elsewhere")
        response.close()
        assert len(server.heads) == 1
    finally:
        await server.stop()


async def test_interim_answers_are_skipped_and_empty_answers_have_no_body(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
        await server.request(reader)
        writer.write(_answer(b"after"))

    server = Scripted(reply)
    port = await server.start()
    try:
        first = await transport.send(_get(port))
        assert first.status == 204 and await first.read(10) == b""
        assert await (await transport.send(_get(port))).read(10) == b"after"
        assert server.connections == 1
    finally:
        await server.stop()


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(transport: Http1Transport) -> None:
    server = Scripted(lambda r, w: asyncio.sleep(0))
    port = await server.start()
    try:
        with pytest.raises(UpstreamBadResponse, match="line break"):
            await transport.send(_get(port, headers=(("Authorization", "Bearer k\r\nX-Evil: 1"),)))
        with pytest.raises(UpstreamBadResponse, match="line break"):
            await transport.send(_get(port, headers=(("X-A", "b\nc"),)))
        await asyncio.sleep(0.05)
        assert server.connections == 0 and transport.connections_in_use == 0
    finally:
        await server.stop()


async def test_silence_before_the_answer_and_in_the_middle_times_out(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sent = await server.request(reader)
        if b"/mid" in sent:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
            await writer.drain()
        await asyncio.sleep(30)

    server = Scripted(reply)
    port = await server.start()
    quick = Timeouts(connect=1, read=0.2, total=30)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(UpstreamTimeout):
            await transport.send(_get(port, "/head", timeouts=quick))
        assert 0.15 < loop.time() - started < 1.5
        response = await transport.send(_get(port, "/mid", timeouts=quick))
        assert await response.read_chunk() == b"12345"
        with pytest.raises(UpstreamTimeout):
            await response.read_chunk()
        # The whole request's deadline holds even while bytes keep trickling in.
        with pytest.raises(UpstreamTimeout):
            await transport.send(_get(port, "/head", timeouts=Timeouts(connect=1, read=30, total=0.2)))
        assert transport.connections_in_use == 0
    finally:
        await server.stop()


async def test_a_trickle_within_the_read_timeout_still_ends_at_the_total_deadline(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(100):
            writer.write(b"1\r\nx\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)

    server = Scripted(reply)
    port = await server.start()
    try:
        response = await transport.send(_get(port, timeouts=Timeouts(connect=1, read=1, total=0.4)))
        with pytest.raises(UpstreamTimeout):
            while await response.read_chunk():
                pass
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", "broke off"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "broke off"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n", "chunk size"),
        (b"<html>not http</html>\r\n\r\n", "status line"),
        (b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n", "header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\nxx", "Content-Encoding"),
        (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz", "decompress"),
        (b"", "sent no response"),
    ],
)
async def test_broken_answers_are_bad_responses(transport: Http1Transport, wire: bytes, message: str) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(wire)
        await writer.drain()

    server = Scripted(reply)
    port = await server.start()
    try:
        with pytest.raises(UpstreamBadResponse, match=message):
            response = await transport.send(_get(port))
            await response.read(1000)
        assert transport.connections_in_use == 0
    finally:
        await server.stop()


async def test_an_answer_over_the_limit_is_refused_and_its_connection_dropped(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await server.request(reader)
            writer.write(_answer(b"x" * 5000))

    server = Scripted(reply)
    port = await server.start()
    try:
        with pytest.raises(UpstreamBadResponse, match="larger than 100 bytes"):
            await (await transport.send(_get(port))).read(100)
        assert await (await transport.send(_get(port))).read(10_000) == b"x" * 5000
        assert server.connections == 2
    finally:
        await server.stop()


async def test_a_connection_the_server_closed_while_idle_is_not_reused(transport: Http1Transport) -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(_answer(b"one"))  # keep-alive by default, then the server changes its mind
        await writer.drain()

    server = Scripted(reply)
    port = await server.start()
    try:
        assert await (await transport.send(_get(port))).read(10) == b"one"
        await asyncio.sleep(0.1)  # the server's FIN arrives while the connection sits in the pool
        assert await (await transport.send(_get(port))).read(10) == b"one"
        assert server.connections == 2
    finally:
        await server.stop()


async def test_a_spare_connection_is_closed_after_the_keep_idle_time() -> None:
    closed = asyncio.Event()

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(_answer(b"ok"))
        await writer.drain()
        if await reader.read() == b"":  # the client closed its end
            closed.set()

    server = Scripted(reply)
    port = await server.start()
    brief = Http1Transport(keep_idle=0.2)
    try:
        assert await (await brief.send(_get(port))).read(10) == b"ok"
        await asyncio.wait_for(closed.wait(), 2)  # not left open until the next request
    finally:
        await brief.aclose()
        await server.stop()


async def test_closing_mid_answer_drops_the_connection(transport: Http1Transport) -> None:
    gone = asyncio.Event()

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        if await reader.read() == b"":
            gone.set()

    server = Scripted(reply)
    port = await server.start()
    try:
        response = await transport.send(_get(port))
        assert await response.read_chunk() == b"first"
        response.close()
        await asyncio.wait_for(gone.wait(), 2)  # the upstream sees the client go
        assert transport.connections_in_use == 0
    finally:
        await server.stop()


async def test_unreachable_and_forbidden_addresses(transport: Http1Transport) -> None:
    server = Scripted(lambda r, w: asyncio.sleep(0))
    port = await server.start()
    await server.stop()  # nothing listens there now
    with pytest.raises(UpstreamUnreachable, match="cannot reach provider p"):
        await transport.send(_get(port))

    asked: list[str] = []

    async def metadata(host: str, port: int) -> list[tuple[object, ...]]:
        asked.append(host)
        return [(2, 1, 6, "", ("169.254.169.254", port))]

    guarded = Http1Transport(resolve=metadata)
    with pytest.raises(UpstreamUnreachable, match="may not use"):
        await guarded.send(_get(80, host="innocent.example"))
    assert asked == ["innocent.example"] and guarded.connections_in_use == 0
    await guarded.aclose()


async def test_a_refused_connection_leaves_no_reference_cycle(transport: Http1Transport) -> None:
    """SECURITY.md B29 (issue 20, item 1): the error of the last address tried was raised from a
    local of the frame its traceback holds, a cycle only the rare full collection frees."""
    server = Scripted(lambda r, w: asyncio.sleep(0))
    port = await server.start()
    await server.stop()
    gc.collect()
    gc.disable()
    try:
        with pytest.raises(UpstreamUnreachable):
            await transport.send(_get(port))
        await asyncio.sleep(0)  # the loop's turn that failed the connection is over
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_connections_in_use_are_bounded() -> None:
    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await server.request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    server = Scripted(reply)
    port = await server.start()
    bounded = Http1Transport(max_connections=2)
    try:
        held = [await bounded.send(_get(port)) for _ in range(2)]
        third = asyncio.ensure_future(bounded.send(_get(port)))
        await asyncio.sleep(0.1)
        assert not third.done() and bounded.connections_in_use == 2
        assert await held[0].read(10) == b"ok"  # read to the end: its connection is free again
        response = await asyncio.wait_for(third, 2)
        assert await response.read(10) == b"ok"
        held[1].close()
        assert bounded.connections_in_use == 0 and server.connections == 2
    finally:
        await bounded.aclose()
        await server.stop()


async def test_a_slow_reader_pauses_the_socket(transport: Http1Transport) -> None:
    size = 4 << 20

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        writer.write(b"y" * size)
        await writer.drain()

    server = Scripted(reply)
    port = await server.start()
    try:
        response = await transport.send(_get(port))
        await asyncio.sleep(0.3)  # the server has written all it can; the client reads nothing yet
        buffered = len(response._conn.buf)  # type: ignore[union-attr]
        assert buffered < 1 << 20  # not the whole 4 MiB: reading paused near the high-water mark
        assert len(await response.read(size)) == size
    finally:
        await server.stop()


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = self_signed("localhost", key, x509.SubjectAlternativeName([x509.DNSName("localhost")]))
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
    return server, client


async def test_https_verifies_the_certificate_and_the_name(tmp_path: Path) -> None:
    server_tls, client_tls = _self_signed(tmp_path)

    async def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.request(reader)
        writer.write(_answer(b"secure"))
        await writer.drain()

    server = Scripted(reply)
    port = await server.start(server_tls)

    async def localhost(host: str, port: int) -> list[tuple[object, ...]]:
        return [(2, 1, 6, "", ("127.0.0.1", port))]

    trusting = Http1Transport(tls=client_tls, resolve=localhost)
    untrusting = Http1Transport(resolve=localhost)  # the system store does not know this certificate
    try:
        response = await trusting.send(_get(port, scheme="https", host="localhost"))
        assert await response.read(100) == b"secure"
        with pytest.raises(UpstreamUnreachable, match="certificate") as refused:
            await untrusting.send(_get(port, scheme="https", host="localhost"))
        assert "CERTIFICATE_VERIFY_FAILED" in refused.value.detail
        with pytest.raises(UpstreamUnreachable):  # the certificate names localhost, not the IP
            await trusting.send(_get(port, scheme="https", host="127.0.0.1"))
    finally:
        await trusting.aclose()
        await untrusting.aclose()
        await server.stop()
