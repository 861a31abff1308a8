"""A routed answer written to the client: whole JSON, or a relayed stream, with headers naming
the route that served it (provider, upstream model, key label — never the secret) and how many
attempts it took."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.api.entry import Entry
from gateway.api.streaming import SSE, Waiting, relay
from gateway.core.timing import Timing
from gateway.formats.common.conversation import SESSION_HEADERS
from gateway.formats.interfaces import ClientCall
from gateway.pipeline.stream_reply import Reply
from gateway.routing.failover import Routed
from gateway.routing.preference import PREFER_HEADER, PREFERENCES, Prefer

JSON = {"Content-Type": "application/json"}


async def answer(
    request: web.BaseRequest,
    call: ClientCall,
    answering: Awaitable[Routed[bytes | Reply]],
    entry: Entry,
    timing: Callable[[], Timing],
    content_type: str = SSE,
) -> web.StreamResponse:
    """The answer to ``call``: a stream is begun as the pipeline gives it (``answering``), so that
    while it waits on the upstream its client gets keep-alives; ``timing`` dates their encoder's."""
    if not call.stream:
        routed = await answering
        if isinstance(routed.value, bytes):
            return web.Response(
                body=routed.value,
                headers={**JSON, **entry.route_headers(routed.route, routed.attempts, routed.dropped)},
            )
        answering = _ready(routed)
    return await relay(
        request, answering, entry, Waiting(entry.stream_keep_alive, lambda: call.stream_encoder(timing())), content_type
    )


async def _ready(routed: Routed[bytes | Reply]) -> Routed[bytes | Reply]:
    return routed


def json_answer(routed: Routed[bytes], entry: Entry) -> web.Response:
    return web.Response(body=routed.value, headers={**JSON, **entry.route_headers(routed.route, routed.attempts)})


def session_of(request: web.BaseRequest) -> str | None:
    """The client's session id, when its tool sends one (conversation affinity)."""
    headers = request.headers
    return next((value for name in SESSION_HEADERS if (value := headers.get(name))), None)


def prefer_of(request: web.BaseRequest) -> Prefer | None:
    """What the request's ``x-switchboard-prefer`` header asks of routing (``fast`` or ``local``);
    None without one, or for a word it does not know (a hint, never a reason to refuse)."""
    value = request.headers.get(PREFER_HEADER)
    return None if value is None else PREFERENCES.get(value.strip().lower())
