"""The Python ceiling: a minimal aiohttp + uvloop passthrough proxy, about 40 lines.

It forwards the body untouched and relays the answer (chunk by chunk for streams). It does none
of what the gateway does — no checks, no routing, no usage — so the gateway's figures divided by
these show what the gateway's work costs. Run: ``python passthrough.py PORT UPSTREAM_URL [--tuned-gc]``;
``--tuned-gc`` gives it the gateway's garbage-collector settings, for a like-for-like ceiling.
"""

from __future__ import annotations

import sys

import aiohttp
from aiohttp import web


async def make_app(upstream: str) -> web.Application:
    session: aiohttp.ClientSession | None = None

    async def forward(request: web.Request) -> web.StreamResponse:
        nonlocal session
        session = session or aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1024))
        body = await request.read()
        headers = {"Content-Type": "application/json", "Authorization": "Bearer bench"}
        async with session.post(upstream + request.path, data=body, headers=headers) as resp:
            if resp.content_type != "text/event-stream":
                return web.Response(status=resp.status, body=await resp.read(), content_type=resp.content_type)
            out = web.StreamResponse(status=resp.status, headers={"Content-Type": "text/event-stream"})
            await out.prepare(request)
            async for chunk in resp.content.iter_any():
                await out.write(chunk)
            return out

    async def close(app: web.Application) -> None:
        if session is not None:
            await session.close()

    async def tune(app: web.Application) -> None:
        from gateway.runtime.tuning import tune_for_serving

        tune_for_serving()

    app = web.Application()
    app.router.add_post("/{path:.*}", forward)
    app.on_cleanup.append(close)
    if "--tuned-gc" in sys.argv:
        app.on_startup.append(tune)
    return app


if __name__ == "__main__":
    import uvloop

    port, upstream = int(sys.argv[1]), sys.argv[2].rstrip("/")
    web.run_app(
        make_app(upstream),
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=lambda *a: print("ready", flush=True),
        loop=uvloop.new_event_loop(),
    )
