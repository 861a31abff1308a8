"""The OpenAI surface: chat completions, responses and embeddings (the model list is in
model_routes).

Mounted both under ``/v1`` and at the root, since clients disagree on whether a base URL
includes ``/v1``. The gateway keeps no responses, so the endpoints that read a stored one say so.
"""

from __future__ import annotations

from aiohttp import web

from gateway.api.body import checked, read_json
from gateway.api.client_tool import tool_of
from gateway.api.entry import CALLER, REQUEST_ID, Entry
from gateway.api.reply import answer, json_answer, prefer_of, session_of
from gateway.api.router import PATH_TAIL, Router
from gateway.errors import RouteNotFound
from gateway.formats import openai_chat
from gateway.formats.interfaces import ClientCall
from gateway.formats.openai import embeddings as openai_embeddings
from gateway.formats.openai_responses import checks as responses
from gateway.pipeline.gateway import Gateway

_JSON = {"Content-Type": "application/json"}


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, headers=_JSON)


class OpenAIRoutes:
    def __init__(self, gateway: Gateway, max_body_bytes: int, entry: Entry) -> None:
        self._gateway = gateway
        self._limit = max_body_bytes
        self._entry = entry

    async def chat_completions(self, request: web.BaseRequest) -> web.StreamResponse:
        return await self._chat(request, checked(openai_chat.parse_request, await read_json(request, self._limit)))

    async def responses(self, request: web.BaseRequest) -> web.StreamResponse:
        return await self._chat(request, checked(responses.parse_request, await read_json(request, self._limit)))

    async def stored_response(self, request: web.BaseRequest) -> web.Response:
        raise RouteNotFound(
            f"No response '{request[PATH_TAIL].split('/')[0]}': the gateway does not store responses "
            "(every response is created as with store: false)."
        )

    async def _chat(self, request: web.BaseRequest, call: ClientCall) -> web.StreamResponse:
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

    async def embeddings(self, request: web.BaseRequest) -> web.Response:
        call = checked(openai_embeddings.parse_request, await read_json(request, self._limit))
        return json_answer(
            await self._gateway.embeddings(call, request[REQUEST_ID], caller=request[CALLER], tool=tool_of(request)),
            self._entry,
        )

    def register(self, router: Router) -> None:
        wrap = self._entry.wrap
        for prefix in ("/v1", ""):
            router.add(
                "POST",
                f"{prefix}/chat/completions",
                wrap(self.chat_completions, json_body=True, ledger=openai_chat.ChatCall.protocol),
            )
            router.add(
                "POST",
                f"{prefix}/responses",
                wrap(self.responses, json_body=True, ledger=responses.ResponsesCall.protocol),
            )
            router.add(
                "POST", f"{prefix}/embeddings", wrap(self.embeddings, json_body=True, ledger="openai-embeddings")
            )
            for method in ("GET", "POST", "DELETE"):
                router.add_prefixed(method, f"{prefix}/responses/", wrap(self.stored_response))
