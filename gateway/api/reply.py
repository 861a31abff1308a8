"""A routed answer written to the client: whole JSON, or a relayed stream, with headers naming
the route that served it (provider, upstream model, key label — never the secret) and how many
attempts it took."""

from __future__ import annotations

from aiohttp import web

from gateway.api.entry import REQUEST_ID, Entry
from gateway.api.streaming import SSE, relay
from gateway.formats.conversation import SESSION_HEADERS
from gateway.routing.failover import Routed
from gateway.stream_reply import Reply

JSON = {"Content-Type": "application/json"}


async def answer(
    request: web.BaseRequest, routed: Routed[bytes | Reply], entry: Entry, content_type: str = SSE
) -> web.StreamResponse:
    value = routed.value
    headers = entry.route_headers(routed.route, routed.attempts, routed.dropped)
    if isinstance(value, bytes):
        return web.Response(body=value, headers={**JSON, **headers})
    return await relay(request, value, request[REQUEST_ID], entry.stamp, content_type, headers)


def json_answer(routed: Routed[bytes], entry: Entry) -> web.Response:
    return web.Response(body=routed.value, headers={**JSON, **entry.route_headers(routed.route, routed.attempts)})


def session_of(request: web.BaseRequest) -> str | None:
    """The client's session id, when its tool sends one (conversation affinity)."""
    headers = request.headers
    return next((value for name in SESSION_HEADERS if (value := headers.get(name))), None)
