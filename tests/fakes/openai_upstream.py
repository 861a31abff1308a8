"""A faithful fake OpenAI-compatible upstream (shared/protocols.md §1, §9), on a loopback port.

It answers chat completions (plain, streamed, with parallel tool calls streamed as argument
fragments keyed by ``index``, with the usage-only chunk when ``stream_options.include_usage``),
the Responses API (``fakes.responses_api``; or, as a server without it such as
llama-cpp-python, FastAPI's 404 ``{"detail": "Not Found"}``), embeddings (float or base64) and
the model list, checks the bearer key, and fails as scripted (``fakes.upstream.Script``). Every
request is recorded so tests can check what the gateway sent.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import time
from typing import Any

from aiohttp import web

from fakes import responses_api
from fakes.agent_script import Brain, Call
from fakes.upstream import FakeUpstream, Script

DEFAULT_MODELS = ("gpt-test", "gpt-other", "text-embed-test")


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None, usage: bool = False) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-fake123",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage:
        chunk["usage"] = None  # OpenAI sends usage: null on every chunk when include_usage is on
    return chunk


def _usage(prompt: int, completion: int, cached: int, reasoning: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning, "audio_tokens": 0},
    }


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


WORDS = ("Hello", " from", " the", " fake", " upstream!")
TEXT = "".join(WORDS)
SHORT_LIMIT = 5  # a max_tokens below this cuts the answer short, finish_reason "length"
REASONING_PIECES = ("Thinking", " it", " over.")
REASONING = "".join(REASONING_PIECES)
TOOL_CALLS = (
    ("call_aaa111", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
    ("call_bbb222", "get_time", '{"timezone": "Europe/Paris"}'),
)


class FakeOpenAI(FakeUpstream):
    kind = "openai-compatible"
    reasoning_field = "reasoning_content"  # as DeepSeek, vLLM and llama.cpp send it
    # What it answers: text, reasoning, tool calls, and usage as (prompt, completion, cached, reasoning).
    words: tuple[str, ...] = WORDS
    reasoning_pieces: tuple[str, ...] = REASONING_PIECES
    tool_calls: tuple[tuple[str, str, str], ...] = TOOL_CALLS
    usage_whole = (12, 7, 4, 2)
    usage_stream = (12, 5, 0, 0)

    def __init__(
        self,
        *,
        key: str | None = "sk-fake-upstream-key-0001",
        models: tuple[str, ...] = DEFAULT_MODELS,
        ignore_encoding_format: bool = False,
        responses: bool = True,
    ) -> None:
        """``responses``: whether it has the Responses API."""
        super().__init__(key)
        self.models = models
        self.has_responses = responses
        self.stored: dict[str, dict[str, Any]] = {}  # responses kept for previous_response_id
        self.omit_usage = False  # answer as servers that report no usage do
        # False: stream_options ignored, as llama-cpp-python's server does (0.3.36): no usage in any
        # chunk of a stream, not even null; its whole answers still report usage.
        self.stream_usage = True
        self.ignore_encoding_format = ignore_encoding_format
        self.brain: Brain | None = None  # decides each answer in place of the fixed one (fakes.agent_script)
        self.models_status = 200

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/responses", self._responses if self.has_responses else self._not_found)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    @property
    def chat_requests(self) -> list[Any]:
        return self.requests_to("/chat/completions")

    @property
    def responses_requests(self) -> list[Any]:
        return self.requests_to("/v1/responses")

    # --- protocol -------------------------------------------------------------------------------

    def presented(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None

    def error_body(self, status: int, kind: str, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}

    def unauthorized(self) -> web.Response:
        return web.json_response(
            {
                "error": {
                    "message": "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
            status=401,
        )

    def stream_error(self) -> bytes:
        return _sse(
            {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "code": None,
                }
            }
        )

    def _unknown_model(self, model: Any) -> web.Response | None:
        if model in self.models:
            return None
        return web.json_response(
            {
                "error": {
                    "message": f"The model `{model}` does not exist or you do not have access to it.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            },
            status=404,
        )

    # --- endpoints ------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        await self.record(request)
        if not self.authorized(request):
            return self.unauthorized()
        if self.models_status != 200:
            return web.json_response({"error": {"message": "models unavailable"}}, status=self.models_status)
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake"} for m in self.models
                ],
            }
        )

    async def _admit(self, request: web.Request) -> tuple[Script, dict[str, Any]] | web.StreamResponse:
        admitted = await self.admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        if (missing := self._unknown_model(admitted[1].get("model"))) is not None:
            return missing
        return admitted

    async def _not_found(self, request: web.Request) -> web.Response:
        """A path the server does not have, as FastAPI answers it (llama-cpp-python, vLLM)."""
        await self.record(request)
        return web.json_response({"detail": "Not Found"}, status=404)

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        admitted = await self._admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        script, body = admitted
        previous = body.get("previous_response_id")
        if previous is not None and previous not in self.stored:
            return web.json_response(
                {
                    "error": {
                        "message": f"Previous response with id '{previous}' not found.",
                        "type": "invalid_request_error",
                        "param": "previous_response_id",
                        "code": "previous_response_not_found",
                    }
                },
                status=400,
            )
        rid, created = f"resp_fake{len(self.responses_requests):04d}", int(time.time())
        if body.get("store", True):
            self.stored[rid] = body
        if body.get("stream"):
            failed = responses_api.failed_event(body, rid, created, script.after_events)
            return await self.play(request, responses_api.events(body, rid, created, self.brain), script, error=failed)
        return web.json_response(responses_api.response(body, rid, created, self.brain))

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        admitted = await self._admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        _, body = admitted
        inputs = (
            body["input"]
            if isinstance(body["input"], list) and body["input"] and not isinstance(body["input"][0], int)
            else [body["input"]]
        )
        dims = body.get("dimensions") or 8  # null is absent, as in the API
        base64_out = body.get("encoding_format") == "base64" and not self.ignore_encoding_format
        data = []
        for i, _ in enumerate(inputs):
            vector = [round((i + 1) * 0.125 + k * 0.25, 4) for k in range(dims)]
            embedding: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode() if base64_out else vector
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)},
            }
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        admitted = await self._admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        script, body = admitted
        calls, words = self._reply(body)
        if body.get("stream"):
            return await self._stream(request, body, script, calls, words)
        return web.json_response(self._completion(body, calls, words), headers={"x-request-id": "upstream-req-1"})

    def _reply(self, body: dict[str, Any]) -> tuple[tuple[tuple[str, str, str], ...], tuple[str, ...]]:
        """The tool calls the request is answered with (none: it gets the words)."""
        if self.brain is not None:
            decision = self.brain(body)
            if isinstance(decision, Call):
                return ((f"call_{decision.id}", decision.name, json.dumps(decision.arguments)),), ()
            return (), tuple(re.findall(r"\s*\S+", decision.text))
        wants_tools = bool(body.get("tools")) and body.get("tool_choice") != "none"
        return self.tool_calls if wants_tools else (), self.words

    def _words(self, body: dict[str, Any], words: tuple[str, ...]) -> tuple[tuple[str, ...], str]:
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and limit < SHORT_LIMIT:
            return words[:limit], "length"
        return words, "stop"

    def _completion(
        self, body: dict[str, Any], calls: tuple[tuple[str, str, str], ...], words: tuple[str, ...]
    ) -> dict[str, Any]:
        if calls:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                    for cid, name, args in calls
                ],
            }
            finish = "tool_calls"
        else:
            words, finish = self._words(body, words)
            message = {"role": "assistant", "content": "".join(words), "refusal": None}
        if body.get("reasoning_effort"):
            message[self.reasoning_field] = "".join(self.reasoning_pieces)
        return {
            "id": "chatcmpl-fake123",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            **({} if self.omit_usage else {"usage": _usage(*self.usage_whole)}),
        }

    def _events(
        self, body: dict[str, Any], calls: tuple[tuple[str, str, str], ...], words: tuple[str, ...]
    ) -> list[bytes]:
        model = body["model"]
        include_usage = self.stream_usage and bool((body.get("stream_options") or {}).get("include_usage"))
        events = [_sse(_chunk(model, {"role": "assistant", "content": "", "refusal": None}, usage=include_usage))]
        if body.get("reasoning_effort"):
            events += [
                _sse(_chunk(model, {self.reasoning_field: p}, usage=include_usage)) for p in self.reasoning_pieces
            ]
        if calls:
            # First fragment of each call carries id, type and name; the rest only index + arguments.
            for index, (cid, name, _) in enumerate(calls):
                events.append(
                    _sse(
                        _chunk(
                            model,
                            {
                                "tool_calls": [
                                    {
                                        "index": index,
                                        "id": cid,
                                        "type": "function",
                                        "function": {"name": name, "arguments": ""},
                                    }
                                ]
                            },
                            usage=include_usage,
                        )
                    )
                )
            pieces = [[args[i : i + 7] for i in range(0, len(args), 7)] for _, _, args in calls]
            for step in range(max(len(p) for p in pieces)):
                for index, parts in enumerate(pieces):  # fragments of the two calls interleave
                    if step < len(parts):
                        events.append(
                            _sse(
                                _chunk(
                                    model,
                                    {"tool_calls": [{"index": index, "function": {"arguments": parts[step]}}]},
                                    usage=include_usage,
                                )
                            )
                        )
            finish = "tool_calls"
        else:
            words, finish = self._words(body, words)
            events += [_sse(_chunk(model, {"content": word}, usage=include_usage)) for word in words]
        events.append(_sse(_chunk(model, {}, finish=finish, usage=include_usage)))
        if include_usage and not self.omit_usage:
            events.append(
                _sse(
                    {
                        "id": "chatcmpl-fake123",
                        "object": "chat.completion.chunk",
                        "created": 1_700_000_000,
                        "model": model,
                        "system_fingerprint": "fp_fake",
                        "choices": [],
                        "usage": _usage(*self.usage_stream),
                    }
                )
            )
        events.append(b"data: [DONE]\n\n")
        return events

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        script: Script,
        calls: tuple[tuple[str, str, str], ...],
        words: tuple[str, ...],
    ) -> web.StreamResponse:
        return await self.play(request, self._events(body, calls, words), script)
