"""A faithful fake Ollama server (shared/protocols.md §4), on a loopback port.

The native API at the root: ``/api/version``, ``/api/tags``, ``/api/show`` (capabilities and
``model_info`` keyed by architecture), ``/api/chat`` (NDJSON by default; thinking when ``think``
is on; tool calls whole in one line with arguments as objects, the last line still saying
``done_reason: "stop"``; ``options.num_predict`` below 5 cuts the answer with ``"length"``),
``/api/embed`` and ``/api/ps``. A native chat runs with the context window Ollama would give it
(``windows``: ``options.num_ctx``, else the server's default, at most the model's trained
length). Its OpenAI-compatible ``/v1`` is the fake OpenAI's, with reasoning
in ``reasoning`` as Ollama sends it. No key is checked, as in Ollama. Errors are
``{"error": "..."}``; a failing stream ends with such a line after the 200.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fakes.agent_script import Call, Decision
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script

MODELS = {
    "llama3.2:latest": ("llama", 131072, ["completion", "tools"]),
    "qwen3:8b": ("qwen3", 40960, ["completion", "tools", "thinking"]),
    "nomic-embed-text:latest": ("nomic-bert", 2048, ["embedding"]),
}
WORDS = ("Hello", " from", " local", " Ollama!")
TEXT = "".join(WORDS)
THINKING_PIECES = ("Okay,", " a", " greeting.")
THINKING = "".join(THINKING_PIECES)
TOOL_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_weather", {"city": "Paris", "unit": "celsius"}),
    ("get_time", {"timezone": "Europe/Paris"}),
)
COUNTS = {"prompt_eval_count": 26, "eval_count": 11}
SHORT_LIMIT = 5
VERSION = "0.12.6"
DEFAULT_CONTEXT = 4096  # the window a model gets when nobody asks for one (OLLAMA_CONTEXT_LENGTH)
STREAM_FAILURE = "an error was encountered while running the model: unexpected EOF"


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode() + b"\n"


class FakeOllama(FakeOpenAI):
    kind = "ollama"
    stream_type = "application/x-ndjson"
    # Its /v1 answers as the native API does, with reasoning under Ollama's name for it.
    reasoning_field = "reasoning"
    words = WORDS
    reasoning_pieces = THINKING_PIECES
    tool_calls = tuple((f"call_v1_{n}", name, json.dumps(args)) for n, (name, args) in enumerate(TOOL_CALLS))
    usage_whole = usage_stream = (26, 11, 0, 0)

    def __init__(self, *, tool_ids: bool = False) -> None:
        super().__init__(key=None, models=tuple(MODELS))
        self.tool_ids = tool_ids  # newer servers give each tool call an id
        self.version = VERSION
        self._ticks = 0

    def add_routes(self, app: web.Application) -> None:
        super().add_routes(app)
        app.router.add_get("/api/version", self._version)
        app.router.add_get("/api/tags", self._tags)
        app.router.add_get("/api/ps", self._ps)
        app.router.add_post("/api/show", self._show)
        app.router.add_post("/api/chat", self._chat_native)
        app.router.add_post("/api/embed", self._embed)

    @property
    def url(self) -> str:
        return self.root  # the native API is at the root

    @property
    def native_chat_requests(self) -> list[Any]:
        return self.requests_to("/api/chat")

    @property
    def windows(self) -> list[int]:
        """The context window each native chat ran with, as Ollama chooses it (a longer prompt
        would have been cut to fit, silently)."""
        return [
            min((r.json.get("options") or {}).get("num_ctx") or DEFAULT_CONTEXT, MODELS[r.json["model"]][1])
            for r in self.native_chat_requests
            if r.json.get("model") in MODELS
        ]

    def error_body(self, status: int, kind: str, message: str) -> dict[str, Any]:
        return {"error": message}

    def stream_error(self) -> bytes:
        return _line({"error": STREAM_FAILURE})

    def _created_at(self) -> str:
        self._ticks += 1  # every line has its own time, to the nanosecond, as Ollama writes it
        return f"2026-11-21T10:00:00.{self._ticks:09d}Z"

    def _unknown(self, model: Any) -> web.Response | None:
        if model in MODELS:
            return None
        return web.json_response({"error": f"model '{model}' not found"}, status=404)

    # --- documents ------------------------------------------------------------------------------

    def _details(self, model: str) -> dict[str, Any]:
        family = MODELS[model][0]
        return {
            "parent_model": "",
            "format": "gguf",
            "family": family,
            "families": [family],
            "parameter_size": "8.0B",
            "quantization_level": "Q4_K_M",
        }

    async def _version(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"version": self.version})

    async def _tags(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response(
            {
                "models": [
                    {
                        "name": m,
                        "model": m,
                        "modified_at": "2026-10-01T12:00:00.000000000Z",
                        "size": 4_920_753_328,
                        "digest": f"{n:064x}",
                        "details": self._details(m),
                    }
                    for n, m in enumerate(MODELS)
                ]
            }
        )

    async def _ps(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"models": []})

    async def _show(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        model = str((rec.json or {}).get("model") or (rec.json or {}).get("name"))
        if (missing := self._unknown(model)) is not None:
            return missing
        family, context, capabilities = MODELS[model]
        return web.json_response(
            {
                "license": "LLAMA 3.2 COMMUNITY LICENSE",
                "modelfile": f"FROM {model}\n",
                "parameters": 'stop "<|eot_id|>"',
                "template": "{{ .Prompt }}",
                "details": self._details(model),
                "model_info": {
                    "general.architecture": family,
                    "general.basename": model.split(":")[0],
                    "general.parameter_count": 8_030_261_248,
                    f"{family}.context_length": context,
                    f"{family}.embedding_length": 4096,
                },
                "capabilities": capabilities,
                "modified_at": "2026-10-01T12:00:00.000000000Z",
            }
        )

    async def _embed(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        body = rec.json
        if (missing := self._unknown(body.get("model"))) is not None:
            return missing
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return web.json_response(
            {
                "model": body["model"],
                "embeddings": [[0.5, -0.25, float(i)] for i in range(len(inputs))],
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": 8,
            }
        )

    # --- chat -----------------------------------------------------------------------------------

    def _answer(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """The message pieces, in order, and the done reason."""
        pieces: list[dict[str, Any]] = []
        if body.get("think") not in (None, False):
            pieces += [{"role": "assistant", "content": "", "thinking": t} for t in THINKING_PIECES]
        if self.brain is not None:
            return [*pieces, self._decided(self.brain(body))], "stop"
        if body.get("tools"):
            calls = []
            for n, (name, arguments) in enumerate(TOOL_CALLS):
                call: dict[str, Any] = {"function": {"index": n, "name": name, "arguments": arguments}}
                if self.tool_ids:
                    call = {"id": f"call_ollama_{n}", **call}
                calls.append(call)
            pieces.append({"role": "assistant", "content": "", "tool_calls": calls})
            return pieces, "stop"
        limit = (body.get("options") or {}).get("num_predict")
        short = isinstance(limit, int) and 0 < limit < SHORT_LIMIT
        pieces += [{"role": "assistant", "content": w} for w in (WORDS[:limit] if short else WORDS)]
        return pieces, "length" if short else "stop"

    def _decided(self, decision: Decision) -> dict[str, Any]:
        """The brain's answer as the one message piece carrying it."""
        if isinstance(decision, Call):
            call: dict[str, Any] = {"function": {"index": 0, "name": decision.name, "arguments": decision.arguments}}
            return {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": f"call_{decision.id}", **call} if self.tool_ids else call],
            }
        return {"role": "assistant", "content": decision.text}

    def _final(self, model: str, reason: str) -> dict[str, Any]:
        return {
            "model": model,
            "created_at": self._created_at(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": reason,
            "total_duration": 4_883_583_458,
            "load_duration": 1_334_875,
            "prompt_eval_duration": 342_546_000,
            "eval_duration": 4_535_599_000,
            **COUNTS,
        }

    async def _chat_native(self, request: web.Request) -> web.StreamResponse:
        admitted = await self.admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        script, body = admitted
        if (missing := self._unknown(body.get("model"))) is not None:
            return missing
        pieces, reason = self._answer(body)
        model = body["model"]
        if body.get("stream") is False:
            message: dict[str, Any] = {"role": "assistant", "content": "".join(p["content"] for p in pieces)}
            if thinking := "".join(p.get("thinking", "") for p in pieces):
                message["thinking"] = thinking
            if calls := [c for p in pieces for c in p.get("tool_calls", ())]:
                message["tool_calls"] = calls
            return web.json_response({**self._final(model, reason), "message": message})
        lines = [_line({"model": model, "created_at": self._created_at(), "message": p, "done": False}) for p in pieces]
        lines.append(_line(self._final(model, reason)))
        return await self.play(request, lines, script, headers={"Content-Type": "application/x-ndjson"})

    async def play(
        self,
        request: web.Request,
        events: list[bytes],
        script: Script,
        headers: dict[str, str] | None = None,
        error: bytes | None = None,
    ) -> web.StreamResponse:
        if (headers or {}).get("Content-Type") == "application/x-ndjson":
            return await super().play(request, events, script, headers, error)
        # The OpenAI-compatible /v1 streams SSE with OpenAI's in-stream errors.
        sse_error = (
            b"data: "
            + json.dumps(
                {"error": {"message": STREAM_FAILURE, "type": "api_error", "param": None, "code": None}}
            ).encode()
            + b"\n\n"
        )
        return await super().play(
            request,
            events,
            script,
            {"Content-Type": "text/event-stream; charset=utf-8", **(headers or {})},
            error or sse_error,
        )
