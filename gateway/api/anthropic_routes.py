"""The Anthropic surface: ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``, and the
``/api/hello`` that Claude Code probes (``HEAD``) to open its connection early.

Claude Code and the Anthropic SDK send their key as ``x-api-key`` (or ``Authorization: Bearer``
for OAuth tokens) and always ``anthropic-version``; ``anthropic-beta`` flags pass through to an
Anthropic upstream. Failures answer in Anthropic's error shape.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from gateway.api.body import checked, read_json
from gateway.api.client_tool import tool_of
from gateway.api.entry import CALLER, REQUEST_ID, Entry
from gateway.api.errors import ANTHROPIC
from gateway.api.reply import answer, prefer_of, session_of
from gateway.api.router import Router
from gateway.formats.anthropic import checks
from gateway.pipeline.gateway import Gateway

_JSON = {"Content-Type": "application/json"}


class AnthropicRoutes:
    def __init__(self, gateway: Gateway, max_body_bytes: int, entry: Entry) -> None:
        self._gateway = gateway
        self._limit = max_body_bytes
        self._entry = entry

    async def _call(self, request: web.BaseRequest, *, count: bool) -> checks.MessagesCall:
        parse = partial(
            checks.parse_request,
            needs_max_tokens=not count,
            version=request.headers.get("anthropic-version"),
            beta=request.headers.get("anthropic-beta"),
        )
        return checked(parse, await read_json(request, self._limit))

    async def messages(self, request: web.BaseRequest) -> web.StreamResponse:
        call = await self._call(request, count=False)
        gateway = self._gateway
        return await answer(
            request,
            call,
            gateway.chat(
                call, request[REQUEST_ID], session_of(request), request[CALLER], prefer_of(request), tool_of(request)
            ),
            self._entry,
            gateway.timing,
        )

    async def count_tokens(self, request: web.BaseRequest) -> web.Response:
        call = await self._call(request, count=True)
        return web.Response(body=await self._gateway.count_tokens(call, request[REQUEST_ID]), headers=_JSON)

    async def hello(self, request: web.BaseRequest) -> web.Response:
        return web.Response()

    def register(self, router: Router) -> None:
        wrap = self._entry.wrap
        router.add("GET", "/api/hello", wrap(self.hello, errors=ANTHROPIC))
        router.add(
            "POST",
            "/v1/messages",
            wrap(self.messages, json_body=True, errors=ANTHROPIC, ledger=checks.MessagesCall.protocol),
        )
        router.add("POST", "/v1/messages/count_tokens", wrap(self.count_tokens, json_body=True, errors=ANTHROPIC))
