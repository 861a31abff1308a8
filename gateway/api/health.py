"""``GET /health``: liveness only. No auth, no upstream call, no work."""

from __future__ import annotations

from aiohttp import web

from gateway.formats.common.jsonbody import encode
from gateway.version import __version__

_BODY = encode({"status": "ok", "version": __version__})


async def health(request: web.BaseRequest) -> web.Response:
    return web.Response(body=_BODY, headers={"Content-Type": "application/json"})
