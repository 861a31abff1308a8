"""The HTTP surface as one request handler: the router picks a route, each wrapped by the entry.

aiohttp's low-level server is used, not ``web.Application``: its URL dispatcher, sub-app support
and match-info objects cost several microseconds on every request and none of them is needed
for a fixed set of paths.

Each pipeline gets a surface of its own (``create_handler``), and ``Live`` holds the one serving:
a settings change builds the next beside it and swaps it in whole, so a new request takes the new
pipeline while one in flight finishes on the pipeline it began on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.admin.control import Control
from gateway.api.account_routes import AccountRoutes
from gateway.api.admin_routes import AdminRoutes
from gateway.api.anthropic_routes import AnthropicRoutes
from gateway.api.config_routes import ConfigRoutes
from gateway.api.entry import Entry, unknown_route
from gateway.api.guard import Guard
from gateway.api.health import Readiness, health
from gateway.api.metrics_route import metrics_route
from gateway.api.model_routes import ModelRoutes
from gateway.api.ollama_routes import OllamaRoutes
from gateway.api.openai_routes import OpenAIRoutes
from gateway.api.router import Handler, Router
from gateway.pipeline.gateway import Gateway


class Live:
    """The handler of the pipeline serving now, and its routes. Swapped by assignment, on the
    loop: a request reads it once, as it arrives."""

    __slots__ = ("handler", "routes")

    def __init__(self, handler: Handler, routes: Router) -> None:
        self.handler = handler
        self.routes = routes

    def __call__(self, request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        return self.handler(request)


def create_handler(
    gateway: Gateway,
    control: Control,
    guard: Guard,
    new_request_id: Callable[[], str],
    admin_token: str | None = None,
    metrics_auth: bool = False,
    stream_keep_alive: float = 15.0,
    readiness: Readiness | None = None,
) -> tuple[Handler, Router]:
    """The request handler over ``gateway``, and the router behind it (for the route inventory);
    the admin routes reach the pipeline through ``control``, whichever serves when they are asked.
    ``stream_keep_alive``: seconds of silence before a stream's keep-alive; ``readiness``: what
    ``/health/ready`` asks (none: ready while serving)."""
    entry = Entry(guard, new_request_id, gateway.accounting, control.identity, control.in_flight, stream_keep_alive)
    router = Router()
    router.add("GET", "/health", entry.wrap(health, identify=False))
    router.add("GET", "/health/ready", entry.wrap((readiness or Readiness({})).ready, identify=False))
    OpenAIRoutes(gateway, guard.max_body_bytes, entry).register(router)
    AnthropicRoutes(gateway, guard.max_body_bytes, entry).register(router)
    ModelRoutes(gateway, entry).register(router)
    OllamaRoutes(gateway, guard.max_body_bytes, entry).register(router)
    admin = AdminRoutes(control, admin_token, guard.max_body_bytes, entry)
    admin.register(router)
    ConfigRoutes(control, admin).register(router)
    if control.flows is not None:
        AccountRoutes(control, admin).register(router)
    router.add("GET", "/metrics", metrics_route(gateway, entry, admin.authorize if metrics_auth else None))
    unknown = entry.wrap(unknown_route(router))
    find = router.find

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        return await (find(request) or unknown)(request)

    return handle, router
