"""The aiohttp application: every route wrapped by the entry, then a JSON catch-all."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from gateway.api.entry import Entry, never_continue, unknown_route
from gateway.api.guard import Guard
from gateway.api.health import health
from gateway.api.openai_routes import OpenAIRoutes
from gateway.service import Gateway


def create_app(gateway: Gateway, guard: Guard, new_request_id: Callable[[], str]) -> web.Application:
    app = web.Application(
        client_max_size=guard.max_body_bytes,
        handler_args={"auto_decompress": False},  # bounded inflating is done in api/body.py
    )
    entry = Entry(guard, new_request_id)
    router = app.router
    expect = entry.expect_handler()
    router.add_get("/health", entry.wrap(health))
    OpenAIRoutes(gateway, guard.max_body_bytes, entry).register(router, expect)
    router.add_route("*", "/{tail:.*}", entry.wrap(unknown_route), expect_handler=never_continue)
    return app
