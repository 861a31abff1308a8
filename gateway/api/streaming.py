"""Writing a relayed stream to the client, event by event, as it arrives, with the protocol's
keep-alive in its silences.

Once the first byte is out there is no status code left to change: a failure becomes the
protocol's in-band error event. If the client goes away (aiohttp cancels the handler), the
upstream request is closed at once.

A model may think for minutes before its first token, and a stream may fall silent between
tokens. Proxies, SDKs and load balancers between the client and the gateway often cut a connection
idle for a minute or two, so whenever ``Waiting.interval`` seconds (15 by default) pass with
nothing written, the protocol's keep-alive goes out: an SSE comment for OpenAI's protocols,
Anthropic's own ``ping`` event for Messages, and for Ollama a line that adds nothing (``Heartbeat``).

Until the upstream's first real event, the answer is not committed: a failure still gets its
proper status and route headers, and failover to the next route happens unseen. A first keep-alive
commits it — its status (200) and headers go out with it — so it waits one whole interval: a quick
answer, or a quick failure, is as before. After that commitment the request is answered as a
stream whatever happens: failover still goes on behind the keep-alives (nothing of any route has
reached the client yet), but a final failure can only be the protocol's in-stream error (no error
status, no ``Retry-After`` header), and the answer carries no ``x-switchboard-route``, ``-attempts``
or ``-dropped`` header, which were not known when its headers went (the ledger still has the route).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from gateway.api.entry import REQUEST_ID, Entry
from gateway.errors import GatewayError
from gateway.formats.interfaces import StreamEncoder
from gateway.pipeline.stream_reply import CachedStream, Reply
from gateway.routing.failover import Routed

log = logging.getLogger("gateway.api")

SSE = "text/event-stream; charset=utf-8"
NDJSON = "application/x-ndjson"


@dataclass(frozen=True, slots=True)
class Waiting:
    """How a stream keeps its client while it waits: ``interval`` seconds of silence before each
    keep-alive, which the client protocol's ``encoder`` makes (as it makes the in-stream error of
    an answer that fails once committed; made only when needed)."""

    interval: float
    encoder: Callable[[], StreamEncoder]


async def relay(
    request: web.BaseRequest,
    answering: Awaitable[Routed[bytes | Reply]],
    entry: Entry,
    waiting: Waiting,
    content_type: str = SSE,
) -> web.StreamResponse:
    """The answer ``answering`` will give, streamed. What it raises while nothing has been sent
    is raised, so the entry answers it with a status; once keep-alives went out, it ends the
    stream as the protocol's in-stream error."""
    response = _EventStream(
        headers={"Content-Type": content_type, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    heartbeat = Heartbeat(request, response, entry.stamp, waiting)
    reply: Reply | None = None
    try:
        try:
            routed = await answering
        except Exception as exc:
            await heartbeat.settle()
            if not response.prepared:
                raise
            heartbeat.close()
            await _last_words(response, waiting.encoder().failure(_committed_failure(request[REQUEST_ID], exc)))
            return response
        value = routed.value
        reply = CachedStream((value,)) if isinstance(value, bytes) else value
        await heartbeat.settle()
        if not response.prepared:
            response.headers.update(entry.route_headers(routed.route, routed.attempts, routed.dropped))
        await _write(request, response, reply, heartbeat, entry)
    finally:
        heartbeat.close()
        if reply is not None:
            reply.close()
    return response


async def _write(
    request: web.BaseRequest, response: web.StreamResponse, reply: Reply, heartbeat: Heartbeat, entry: Entry
) -> None:
    request_id = request[REQUEST_ID]
    try:
        if not response.prepared:
            entry.stamp(request, response)
            await response.prepare(request)
        async for data in reply:
            if reply.complete:  # the last bytes: the stream's end goes out with them, in one write
                heartbeat.close()
                await response.write_eof(data)
            else:
                await response.write(data)
                heartbeat.wrote()
    except GatewayError as err:
        log.warning("%s: stream broke off: %s", request_id, err.message)
        heartbeat.close()
        await _last_words(response, reply.failure(err))
    except ConnectionResetError:
        log.debug("%s: client went away mid-stream", request_id)
    except Exception:
        log.exception("%s: unexpected error mid-stream", request_id)
        heartbeat.close()
        await _last_words(response, reply.failure(GatewayError(f"internal error (request {request_id})")))


def _committed_failure(request_id: str, exc: Exception) -> GatewayError:
    """What ends a stream that failed after its keep-alives, logged as the entry logs failures."""
    if isinstance(exc, GatewayError):
        log.warning("%s: failed after keep-alives went out: %s", request_id, exc.message)
        return exc
    log.error("%s: unexpected error after keep-alives went out", request_id, exc_info=exc)
    return GatewayError(f"internal error (request {request_id})")


class Heartbeat:
    """Writes the protocol's keep-alive whenever the interval passes with nothing written.

    One timer per stream, moved on as it fires; a write costs the stream a clock reading. The
    keep-alive is written by a task of its own (the stream's own task is waiting on the upstream
    then); the stream lets it finish (``settle``) before it reads whether the response has begun,
    and stops it (``close``) before its last write.
    """

    __slots__ = ("_beat", "_last", "_loop", "_request", "_response", "_sending", "_stamp", "_timer", "_waiting")

    def __init__(
        self,
        request: web.BaseRequest,
        response: web.StreamResponse,
        stamp: Callable[[web.BaseRequest, web.StreamResponse], None],
        waiting: Waiting,
    ) -> None:
        self._request = request
        self._response = response
        self._stamp = stamp
        self._waiting = waiting
        self._beat: bytes | None = None
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._sending: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = self._loop.call_at(self._last + waiting.interval, self._due)

    def wrote(self) -> None:
        self._last = self._loop.time()

    def _due(self) -> None:
        now = self._loop.time()
        due = self._last + self._waiting.interval
        if now >= due:
            if self._sending is None:
                self._sending = self._loop.create_task(self._send())
            due = now + self._waiting.interval
        self._timer = self._loop.call_at(due, self._due)

    async def _send(self) -> None:
        response = self._response
        try:
            if not response.prepared:  # the first: it commits the answer (see the module's docstring)
                self._stamp(self._request, response)
                await response.prepare(self._request)
            if self._beat is None:
                self._beat = self._waiting.encoder().keep_alive()
            await response.write(self._beat)
        except ConnectionResetError:
            pass  # the client went away: the stream finds out when it next writes
        finally:
            self._last = self._loop.time()
            self._sending = None

    async def settle(self) -> None:
        """Let a keep-alive being written finish."""
        if self._sending is not None:
            await self._sending

    def close(self) -> None:
        """No keep-alive from now on."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._sending is not None:
            self._sending.cancel()
            self._sending = None


class _EventStream(web.StreamResponse):
    # The headers wait for the first write and go out with it (aiohttp's Response does this for
    # whole bodies); a stream is only prepared once its first event, or keep-alive, is in hand.
    _send_headers_immediately = False


async def _last_words(response: web.StreamResponse, data: bytes) -> None:
    with contextlib.suppress(ConnectionResetError):
        await response.write(data)
