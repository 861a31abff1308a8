"""The Ollama surface (protocols.md §4, §5.1): every gateway model looks like a local Ollama model.

``/`` (which answers "Ollama is running", as Ollama's does: tools probe it, and Claude Code sends
``HEAD /`` before each session), ``/api/version``, ``/api/tags``, ``/api/show``, ``/api/chat``,
``/api/generate``, ``/api/embed`` (and the older ``/api/embeddings``), ``/api/ps``, all mirrored
under ``/ollama``, so a client may be pointed at the gateway's root or at ``/ollama``. Failures
are Ollama's ``{"error": ...}``; streams are NDJSON.
"""

from __future__ import annotations

from aiohttp import web

from gateway.api.body import checked, read_json
from gateway.api.client_tool import tool_of
from gateway.api.entry import CALLER, REQUEST_ID, Entry
from gateway.api.errors import OLLAMA
from gateway.api.reply import answer, json_answer, prefer_of, session_of
from gateway.api.router import Router
from gateway.api.streaming import NDJSON
from gateway.core.protocols import ProtocolId
from gateway.formats.common import jsonbody
from gateway.formats.interfaces import ClientCall
from gateway.formats.ollama import checks, embeddings, models
from gateway.formats.ollama.codec import iso_time
from gateway.pipeline.gateway import Gateway

_JSON = {"Content-Type": "application/json"}
_EMBEDDINGS: ProtocolId = "ollama-embeddings"  # the protocol the usage ledger counts embeddings asked for here under


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, headers=_JSON)


class OllamaRoutes:
    def __init__(self, gateway: Gateway, max_body_bytes: int, entry: Entry) -> None:
        self._gateway = gateway
        self._limit = max_body_bytes
        self._entry = entry

    async def root(self, request: web.BaseRequest) -> web.Response:
        return web.Response(text="Ollama is running")

    async def version(self, request: web.BaseRequest) -> web.Response:
        return _json(models.render_version())

    async def tags(self, request: web.BaseRequest) -> web.Response:
        return _json(models.render_tags((e, self._gateway.facts(e)) for e in await self._gateway.models()))

    async def running(self, request: web.BaseRequest) -> web.Response:
        return _json(models.render_running((e, self._gateway.facts(e), until) for e, until in self._gateway.running()))

    async def show(self, request: web.BaseRequest) -> web.Response:
        name = checked(checks.parse_show, await read_json(request, self._limit))
        own = await self._gateway.upstream_show(name, request[REQUEST_ID])
        if own is not None:
            return _json(own)
        return _json(models.render_show(*await self._gateway.model_facts(name)))

    async def chat(self, request: web.BaseRequest) -> web.StreamResponse:
        return await self._answer(request, checked(checks.parse_chat, await read_json(request, self._limit)))

    async def generate(self, request: web.BaseRequest) -> web.StreamResponse:
        call = checked(checks.parse_generate, await read_json(request, self._limit))
        if call.loads_only:
            await self._gateway.model_facts(call.model)  # a model that does not exist is still a 404
            created = iso_time(self._gateway.timing().created)
            loaded = {"model": call.model, "created_at": created, "response": "", "done": True, "done_reason": "load"}
            return _json(jsonbody.encode(loaded))
        return await self._answer(request, call)

    async def _answer(self, request: web.BaseRequest, call: ClientCall) -> web.StreamResponse:
        gateway = self._gateway
        answering = gateway.chat(
            call, request[REQUEST_ID], session_of(request), request[CALLER], prefer_of(request), tool_of(request)
        )
        return await answer(request, call, answering, self._entry, gateway.timing, NDJSON)

    async def embed(self, request: web.BaseRequest) -> web.Response:
        return await self._embed(request, legacy=False)

    async def legacy_embeddings(self, request: web.BaseRequest) -> web.Response:
        return await self._embed(request, legacy=True)

    async def _embed(self, request: web.BaseRequest, *, legacy: bool) -> web.Response:
        body = await read_json(request, self._limit)
        call = checked(lambda obj, source: checks.parse_embed(obj, source, legacy=legacy), body)
        timing = self._gateway.timing()
        render = lambda body: embeddings.answer(call, body, timing.elapsed_ns())  # noqa: E731
        return json_answer(
            await self._gateway.embeddings(
                embeddings.as_openai(call), request[REQUEST_ID], render, request[CALLER], _EMBEDDINGS, tool_of(request)
            ),
            self._entry,
        )

    def register(self, router: Router) -> None:
        wrap = self._entry.wrap
        for prefix in ("", "/ollama"):
            router.add("GET", f"{prefix}/", wrap(self.root, errors=OLLAMA))
            router.add("GET", f"{prefix}/api/version", wrap(self.version, errors=OLLAMA))
            router.add("GET", f"{prefix}/api/tags", wrap(self.tags, errors=OLLAMA))
            router.add("GET", f"{prefix}/api/ps", wrap(self.running, errors=OLLAMA))
            router.add("POST", f"{prefix}/api/show", wrap(self.show, json_body=True, errors=OLLAMA))
            router.add(
                "POST",
                f"{prefix}/api/chat",
                wrap(self.chat, json_body=True, errors=OLLAMA, ledger=checks.OllamaChatCall.protocol),
            )
            router.add(
                "POST",
                f"{prefix}/api/generate",
                wrap(self.generate, json_body=True, errors=OLLAMA, ledger=checks.OllamaGenerateCall.protocol),
            )
            router.add(
                "POST", f"{prefix}/api/embed", wrap(self.embed, json_body=True, errors=OLLAMA, ledger=_EMBEDDINGS)
            )
            router.add(
                "POST",
                f"{prefix}/api/embeddings",
                wrap(self.legacy_embeddings, json_body=True, errors=OLLAMA, ledger=_EMBEDDINGS),
            )
