"""The aiohttp application: the entry middleware, then the routes of each protocol."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from gateway.api.guard import Guard
from gateway.api.health import health
from gateway.api.middleware import make_entry, make_expect_handler, make_on_prepare
from gateway.api.openai_routes import OpenAIRoutes
from gateway.service import Gateway


def create_app(gateway: Gateway, guard: Guard, new_request_id: Callable[[], str]) -> web.Application:
    app = web.Application(
        middlewares=[make_entry(guard, new_request_id)],
        client_max_size=guard.max_body_bytes,
        handler_args={"auto_decompress": False},  # bounded inflating is done in api/body.py
    )
    app.on_response_prepare.append(make_on_prepare(guard))
    app.router.add_get("/health", health)
    OpenAIRoutes(gateway, guard.max_body_bytes).register(app.router, make_expect_handler(guard))
    return app
