"""What every fake upstream shares: a loopback server, a record of every request, scripted faults.

A protocol's fake (``FakeOpenAI``, ``FakeAnthropic``, ``FakeOllama``) adds its routes, its error
shape and its in-stream error; the faults themselves are played the same way for all, so each
protocol is tested against the same failures real upstreams produce (a status with headers, a
hang, a trickle, a reset or a clean close mid-stream, an in-stream error, a redirect, an HTML page,
an error body echoing the credential).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Script:
    """What the fake does with the next scripted request."""

    # ok | status | unsized | hang | trickle | reset | truncate | held | error_event | malformed | redirect
    # | html_200 | echo_auth | json_200_error
    kind: str = "ok"
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0  # trickle: pause between events; error_event, malformed: pause before the fault
    after_events: int = 2  # reset / truncate / held / error_event / malformed: events sent before the fault
    location: str = ""  # redirect target


STREAM_FAULTS = ("reset", "truncate", "error_event", "held", "malformed")
# An event cut short (a proxy's buffer, a server's bug), in each framing: not JSON, though it ends
# in a brace; a "malformed" stream sends it where the script says, then the rest as if whole.
MALFORMED_SSE = b'data: {"choices": [{"index": 0, "delta": {"content": " lost"}}\n\n'
MALFORMED_LINE = b'{"message": {"role": "assistant", "content": " lost"}\n'
_PIECE = 1 << 20  # an unsized body goes out in pieces of this many bytes


class FakeUpstream:
    #: The provider kind the gateway configures for this fake.
    kind = ""
    #: The media type of this protocol's streams.
    stream_type = "text/event-stream; charset=utf-8"

    def __init__(self, key: str | None) -> None:
        self.key = key
        self.keys = {key} if key is not None else set()  # every key it accepts
        self.key_faults: dict[str, Script] = {}  # a key that always fails this way (limited, refused)
        self.requests: list[Recorded] = []
        self.scripts: deque[Script] = deque()
        self.delay = 0.0  # seconds every answer waits before it begins (a slow upstream)
        self.gate = asyncio.Event()  # "held" streams wait on this before their later events
        self.holding = asyncio.Event()  # set once a held stream has sent its first events
        self.hung_up = asyncio.Event()  # set when a client closes a stream or hang early
        self.hang_ups = 0
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.scheme = "http"

    # --- what a protocol's fake provides ---------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def presented(self, request: web.Request) -> str | None:
        """The key the request carries, read the way this protocol reads it."""
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        return self.key is None or self.presented(request) in self.keys

    def error_body(self, status: int, kind: str, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def unauthorized(self) -> web.Response:
        return self.error(401, "authentication_error", "invalid credential")

    @property
    def url(self) -> str:
        """The base URL the gateway is configured with for this fake."""
        raise NotImplementedError

    def stream_error(self) -> bytes:
        """The protocol's in-stream error event, sent after the 200 when the stream fails."""
        raise NotImplementedError

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self, tls: ssl.SSLContext | None = None) -> Self:
        """Serving on 127.0.0.1; over TLS with ``tls`` (a test CA's server context, ``fakes.tls``)."""
        self.scheme = "https" if tls is not None else "http"
        app = web.Application(client_max_size=64 * 1024 * 1024)
        self.add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._anything)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def accept(self, *keys: str) -> Any:
        self.keys.update(keys)
        return self

    def then(self, script: Script) -> Any:
        self.scripts.append(script)
        return self

    def fail(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Any:
        """Answer the next scripted request with this protocol's error of ``kind``."""
        return self.then(self.failure(status, kind, message, headers))

    def failure(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None, code: str | None = None
    ) -> Script:
        """This protocol's error of ``kind`` (with ``code`` where the protocol has one), as a script."""
        error = self.error_body(status, kind, message)
        if code is not None:
            error["error"]["code"] = code
        return Script("status", status=status, body=json.dumps(error).encode(), headers=headers or {})

    def requests_to(self, suffix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(suffix)]

    # --- the request's way in -------------------------------------------------------------------

    async def record(self, request: web.Request) -> Recorded:
        rec = Recorded(request.method, request.path, dict(request.headers), await request.read())
        self.requests.append(rec)
        return rec

    def error(self, status: int, kind: str, message: str) -> web.Response:
        return web.json_response(self.error_body(status, kind, message), status=status)

    async def admit(self, request: web.Request) -> tuple[Script, Any] | web.StreamResponse:
        """Record the request, then answer it early if the key or the script says so."""
        rec = await self.record(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.authorized(request):
            return self.unauthorized()
        script = self.key_faults.get(self.presented(request) or "")
        if script is None:
            script = self.scripts.popleft() if self.scripts else Script()
        if (scripted := await self._scripted(request, script)) is not None:
            return scripted
        return script, rec.json

    async def _scripted(self, request: web.Request, script: Script) -> web.StreamResponse | None:
        """Faults that do not depend on the endpoint; None when the script is for the stream."""
        if script.kind == "status":
            return web.Response(
                status=script.status, body=script.body, headers={"Content-Type": script.content_type, **script.headers}
            )
        if script.kind == "unsized":  # the body sent in chunks, its size not said beforehand
            response = web.StreamResponse(
                status=script.status, headers={"Content-Type": script.content_type, **script.headers}
            )
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(script.body), _PIECE):
                await response.write(script.body[start : start + _PIECE])
            await response.write_eof()
            return response
        if script.kind == "html_200":
            return web.Response(
                body=b"<html><body>Please log in to the captive portal</body></html>", content_type="text/html"
            )
        if script.kind == "json_200_error":
            return web.json_response(self.error_body(503, "server_error", "upstream overloaded"))
        if script.kind == "redirect":
            return web.Response(status=302, headers={"Location": script.location})
        if script.kind == "echo_auth":
            seen = request.headers.get("Authorization") or request.headers.get("x-api-key", "")
            return self.error(
                400, "invalid_request_error", f"bad credential {seen} at https://x.example/?key={self.key}"
            )
        if script.kind == "hang":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self._note_hang_up()
                raise
        return None

    def _note_hang_up(self) -> None:
        self.hang_ups += 1
        self.hung_up.set()

    async def _anything(self, request: web.Request) -> web.Response:
        await self.record(request)
        return self.error(404, "not_found_error", "Not found")

    # --- streams --------------------------------------------------------------------------------

    async def play(
        self,
        request: web.Request,
        events: list[bytes],
        script: Script,
        headers: dict[str, str] | None = None,
        error: bytes | None = None,
    ) -> web.StreamResponse:
        """Send a stream's events, failing where the script says (with ``error`` as the in-stream
        error, when the protocol's depends on the stream)."""
        response = web.StreamResponse(
            headers={"Content-Type": self.stream_type, "Cache-Control": "no-cache", **(headers or {})}
        )
        await response.prepare(request)
        try:
            for n, event in enumerate(events):
                if script.kind in STREAM_FAULTS and n == script.after_events:
                    if script.kind == "reset":
                        assert request.transport is not None
                        request.transport.abort()
                        return response
                    if script.kind == "truncate":
                        await response.write_eof()
                        return response
                    if script.kind == "error_event":
                        await asyncio.sleep(script.delay)
                        await response.write(error or self.stream_error())
                        await response.write_eof()
                        return response
                    if script.kind == "malformed":
                        await asyncio.sleep(script.delay)
                        await response.write(MALFORMED_LINE if "ndjson" in response.content_type else MALFORMED_SSE)
                    else:
                        self.holding.set()
                        await self.gate.wait()
                if script.kind == "trickle" and n:
                    await asyncio.sleep(script.delay)
                await response.write(event)
        except (asyncio.CancelledError, ConnectionResetError):
            self._note_hang_up()
            raise
        await response.write_eof()
        return response
