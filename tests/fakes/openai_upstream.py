"""A faithful fake OpenAI-compatible upstream (shared/protocols.md §1, §9), on a loopback port.

It answers chat completions (plain, streamed, with parallel tool calls streamed as argument
fragments keyed by ``index``, with the usage-only chunk when ``stream_options.include_usage``),
embeddings (float or base64) and the model list, checks the bearer key, and can be scripted to
fail the way real upstreams do: 429 with rate-limit headers, 5xx, an HTML page, a hang, a trickle,
a connection reset or a clean close mid-stream, an in-stream error event, a redirect, and an error
body that echoes the credential it received.

Every request is recorded (method, path, headers, body) so tests can check exactly what the
gateway sent, and streams note when the gateway hangs up on them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_MODELS = ("gpt-test", "gpt-other", "text-embed-test")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Script:
    """What the fake does with the next chat or embeddings request."""

    kind: str = "ok"  # ok | status | hang | trickle | reset | truncate | held | error_event | redirect | html_200 | echo_auth | json_200_error
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0  # trickle: pause between events; error_event: pause before the error
    after_events: int = 2  # reset / truncate / held / error_event: events sent before the fault
    location: str = ""  # redirect target


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


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


TOOL_CALLS = (
    ("call_aaa111", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
    ("call_bbb222", "get_time", '{"timezone": "Europe/Paris"}'),
)


class FakeOpenAI:
    def __init__(
        self,
        *,
        key: str | None = "sk-fake-upstream-key-0001",
        models: tuple[str, ...] = DEFAULT_MODELS,
        ignore_encoding_format: bool = False,
    ) -> None:
        self.key = key
        self.models = models
        self.ignore_encoding_format = ignore_encoding_format
        self.requests: list[Recorded] = []
        self.scripts: deque[Script] = deque()
        self.gate = asyncio.Event()  # "held" streams wait on this before their later events
        self.holding = asyncio.Event()  # set once a held stream has sent its first events
        self.hung_up = asyncio.Event()  # set when a client closes a stream or hang early
        self.hang_ups = 0
        self.models_status = 200
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeOpenAI:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_route("*", "/{tail:.*}", self._anything)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def then(self, script: Script) -> FakeOpenAI:
        self.scripts.append(script)
        return self

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # --- helpers --------------------------------------------------------------------------------

    async def _record(self, request: web.Request) -> Recorded:
        rec = Recorded(request.method, request.path, dict(request.headers), await request.read())
        self.requests.append(rec)
        return rec

    def _auth_error(self, request: web.Request) -> web.Response | None:
        if self.key is None:
            return None
        if request.headers.get("Authorization") == f"Bearer {self.key}":
            return None
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

    async def _scripted(self, request: web.Request, script: Script, rec: Recorded) -> web.StreamResponse | None:
        """Faults that do not depend on the endpoint; None when the script is for the stream."""
        if script.kind == "status":
            return web.Response(
                status=script.status, body=script.body, headers={"Content-Type": script.content_type, **script.headers}
            )
        if script.kind == "html_200":
            return web.Response(body=b"<html><body>Please log in to the captive portal</body></html>", content_type="text/html")
        if script.kind == "json_200_error":
            return web.json_response({"error": {"message": "upstream overloaded", "code": 503}})
        if script.kind == "redirect":
            return web.Response(status=302, headers={"Location": script.location})
        if script.kind == "echo_auth":
            seen = request.headers.get("Authorization", "")
            return web.json_response(
                {"error": {"message": f"bad credential {seen} at https://x.example/?key={self.key}", "type": "invalid_request_error"}},
                status=400,
            )
        if script.kind == "hang":
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self._note_hang_up()
                raise
        return None

    def _note_hang_up(self) -> None:
        self.hang_ups += 1
        self.hung_up.set()

    # --- endpoints ------------------------------------------------------------------------------

    async def _anything(self, request: web.Request) -> web.Response:
        await self._record(request)
        return web.json_response({"error": {"message": "Not found", "type": "invalid_request_error"}}, status=404)

    async def _models(self, request: web.Request) -> web.Response:
        await self._record(request)
        if (denied := self._auth_error(request)) is not None:
            return denied
        if self.models_status != 200:
            return web.json_response({"error": {"message": "models unavailable"}}, status=self.models_status)
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake"} for m in self.models],
            }
        )

    async def _admit(self, request: web.Request) -> tuple[Script, dict[str, Any]] | web.StreamResponse:
        """Record the request, then answer it early if the key, the script or the model says so."""
        rec = await self._record(request)
        if (denied := self._auth_error(request)) is not None:
            return denied
        script = self.scripts.popleft() if self.scripts else Script()
        if (scripted := await self._scripted(request, script, rec)) is not None:
            return scripted
        body = rec.json
        if (missing := self._unknown_model(body.get("model"))) is not None:
            return missing
        return script, body

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        admitted = await self._admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        _, body = admitted
        inputs = body["input"] if isinstance(body["input"], list) and body["input"] and not isinstance(body["input"][0], int) else [body["input"]]
        dims = body.get("dimensions", 8)
        base64_out = body.get("encoding_format") == "base64" and not self.ignore_encoding_format
        data = []
        for i, _ in enumerate(inputs):
            vector = [round((i + 1) * 0.125 + k * 0.25, 4) for k in range(dims)]
            embedding: Any = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode() if base64_out else vector
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        return web.json_response(
            {"object": "list", "data": data, "model": body["model"], "usage": {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)}}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        admitted = await self._admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        script, body = admitted
        wants_tools = bool(body.get("tools")) and body.get("tool_choice") != "none"
        if body.get("stream"):
            return await self._stream(request, body, script, wants_tools)
        return web.json_response(self._completion(body, wants_tools), headers={"x-request-id": "upstream-req-1"})

    def _completion(self, body: dict[str, Any], wants_tools: bool) -> dict[str, Any]:
        if wants_tools:
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                    for cid, name, args in TOOL_CALLS
                ],
            }
            finish = "tool_calls"
        else:
            message = {"role": "assistant", "content": "Hello from the fake upstream!", "refusal": None}
            finish = "stop"
        return {
            "id": "chatcmpl-fake123",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": 12,
                "completion_tokens": 7,
                "total_tokens": 19,
                "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 0},
            },
        }

    def _events(self, body: dict[str, Any], wants_tools: bool) -> list[bytes]:
        model = body["model"]
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        events = [_sse(_chunk(model, {"role": "assistant", "content": "", "refusal": None}, usage=include_usage))]
        if wants_tools:
            # First fragment of each call carries id, type and name; the rest only index + arguments.
            for index, (cid, name, _) in enumerate(TOOL_CALLS):
                events.append(_sse(_chunk(model, {"tool_calls": [{"index": index, "id": cid, "type": "function", "function": {"name": name, "arguments": ""}}]}, usage=include_usage)))
            pieces = [[args[i : i + 7] for i in range(0, len(args), 7)] for _, _, args in TOOL_CALLS]
            for step in range(max(len(p) for p in pieces)):
                for index, parts in enumerate(pieces):  # fragments of the two calls interleave
                    if step < len(parts):
                        events.append(_sse(_chunk(model, {"tool_calls": [{"index": index, "function": {"arguments": parts[step]}}]}, usage=include_usage)))
            finish = "tool_calls"
        else:
            for word in ("Hello", " from", " the", " fake", " upstream!"):
                events.append(_sse(_chunk(model, {"content": word}, usage=include_usage)))
            finish = "stop"
        events.append(_sse(_chunk(model, {}, finish=finish, usage=include_usage)))
        if include_usage:
            events.append(
                _sse(
                    {
                        "id": "chatcmpl-fake123",
                        "object": "chat.completion.chunk",
                        "created": 1_700_000_000,
                        "model": model,
                        "system_fingerprint": "fp_fake",
                        "choices": [],
                        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
                    }
                )
            )
        events.append(b"data: [DONE]\n\n")
        return events

    async def _stream(self, request: web.Request, body: dict[str, Any], script: Script, wants_tools: bool) -> web.StreamResponse:
        events = self._events(body, wants_tools)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"})
        await response.prepare(request)
        try:
            for n, event in enumerate(events):
                if script.kind in ("reset", "truncate", "error_event", "held") and n == script.after_events:
                    if script.kind == "reset":
                        assert request.transport is not None
                        request.transport.abort()
                        return response
                    if script.kind == "truncate":
                        await response.write_eof()
                        return response
                    if script.kind == "error_event":
                        await asyncio.sleep(script.delay)
                        await response.write(_sse({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "code": None}}))
                        await response.write_eof()
                        return response
                    self.holding.set()
                    await self.gate.wait()
                if script.kind == "trickle" and n:
                    await asyncio.sleep(script.delay)
                await response.write(event)
        except (asyncio.CancelledError, ConnectionResetError):
            self._note_hang_up()
            raise
        await response.write_eof()
        return response
