"""The model list, in the shape of the protocol asking: Anthropic clients send
``anthropic-version``; everyone else gets OpenAI's list. Both name models ``provider/model``."""

from __future__ import annotations

from aiohttp import web

from gateway.api.entry import Entry
from gateway.api.errors import ANTHROPIC, OPENAI, ErrorShape
from gateway.api.router import PATH_TAIL, Router
from gateway.formats.anthropic import models as anthropic_models
from gateway.formats.openai import models as openai_models
from gateway.pipeline.gateway import Gateway

_JSON = {"Content-Type": "application/json"}


def _anthropic(request: web.BaseRequest) -> bool:
    return "anthropic-version" in request.headers


def _errors(request: web.BaseRequest) -> ErrorShape:
    return ANTHROPIC if _anthropic(request) else OPENAI


class ModelRoutes:
    def __init__(self, gateway: Gateway, entry: Entry) -> None:
        self._gateway = gateway
        self._entry = entry

    async def list_models(self, request: web.BaseRequest) -> web.Response:
        entries = await self._gateway.models()
        render = anthropic_models.render_model_list if _anthropic(request) else openai_models.render_model_list
        return web.Response(body=render(entries), headers=_JSON)

    async def get_model(self, request: web.BaseRequest) -> web.Response:
        entry = await self._gateway.model(request[PATH_TAIL])
        render = anthropic_models.render_model if _anthropic(request) else openai_models.render_model
        return web.Response(body=render(entry), headers=_JSON)

    def register(self, router: Router) -> None:
        wrap = self._entry.wrap
        for prefix in ("/v1", ""):
            router.add("GET", f"{prefix}/models", wrap(self.list_models, errors=_errors))
            router.add_prefixed("GET", f"{prefix}/models/", wrap(self.get_model, errors=_errors))
