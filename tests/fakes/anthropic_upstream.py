"""A faithful fake Anthropic Messages upstream (shared/protocols.md §3), on a loopback port.

``POST /v1/messages`` answers plain or streamed. The stream keeps the real event order:
``message_start``, a ``ping``, each content block as start / deltas / stop, ``message_delta``
with cumulative usage, ``message_stop``. A request with ``thinking`` enabled gets a thinking block
whose ``signature_delta`` comes just before its stop; a request with tools gets a text block and
two ``tool_use`` blocks whose input streams as ``input_json_delta`` pieces, the first one empty.
``stop_sequences`` cut the text where one matches. ``/v1/messages/count_tokens`` and
``/v1/models`` answer too. The key is checked from ``x-api-key`` or a bearer token,
``anthropic-version`` is required and ``max_tokens`` is required on messages, as upstream.
Errors are Anthropic's ``{"type": "error", "error": {...}}``; a failing stream ends with
``event: error`` (overloaded) after the 200.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fakes.agent_script import Brain, Call
from fakes.upstream import FakeUpstream, Script

DEFAULT_MODELS = ("claude-test", "claude-other")
TEXT = "Hello from the fake Anthropic upstream!"
SHORT_LIMIT = 5  # a max_tokens below this cuts the answer short, stop_reason "max_tokens"
THINKING = "The user greets me; answer briefly."
SIGNATURE = "EqQBCkYIARgCIkD-fake-signature=="
TOOL_TEXT = "Let me look that up."
TOOL_USES = (
    ("toolu_01AAAaaa", "get_weather", {"city": "Paris", "unit": "celsius"}),
    ("toolu_01BBBbbb", "get_time", {"timezone": "Europe/Paris"}),
)
# The answer's usage: input excludes the cache, as upstream (§3.3).
USAGE = {"input_tokens": 21, "cache_creation_input_tokens": 3, "cache_read_input_tokens": 8, "output_tokens": 17}


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n".encode()


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeAnthropic(FakeUpstream):
    kind = "anthropic"

    def __init__(
        self, *, key: str | None = "sk-ant-fake-upstream-0001", models: tuple[str, ...] = DEFAULT_MODELS
    ) -> None:
        super().__init__(key)
        self.models = models
        self.brain: Brain | None = None  # decides each answer in place of the fixed one (fakes.agent_script)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        app.router.add_get("/v1/models", self._models)

    @property
    def url(self) -> str:
        return self.root  # Anthropic base URLs are the server root; paths carry /v1

    @property
    def message_requests(self) -> list[Any]:
        return self.requests_to("/v1/messages")

    # --- protocol -------------------------------------------------------------------------------

    def presented(self, request: web.Request) -> str | None:
        auth = request.headers.get("Authorization", "")
        return request.headers.get("x-api-key") or (
            auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        )

    def error_body(self, status: int, kind: str, message: str) -> dict[str, Any]:
        return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake_error"}

    def unauthorized(self) -> web.Response:
        return self.error(401, "authentication_error", "invalid x-api-key")

    def stream_error(self) -> bytes:
        return _event("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})

    async def _checked(
        self, request: web.Request, *, needs_max_tokens: bool
    ) -> tuple[Script, dict[str, Any]] | web.StreamResponse:
        admitted = await self.admit(request)
        if isinstance(admitted, web.StreamResponse):
            return admitted
        script, body = admitted
        if not request.headers.get("anthropic-version"):
            return self.error(400, "invalid_request_error", "anthropic-version: header is required")
        if needs_max_tokens and not isinstance(body.get("max_tokens"), int):
            return self.error(400, "invalid_request_error", "max_tokens: Field required")
        if body.get("model") not in self.models:
            return self.error(404, "not_found_error", f"model: {body.get('model')}")
        return script, body

    # --- endpoints ------------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        await self.record(request)
        if not self.authorized(request):
            return self.unauthorized()
        data = [
            {
                "type": "model",
                "id": m,
                "display_name": m.replace("-", " ").title(),
                "created_at": "2025-05-14T00:00:00Z",
            }
            for m in self.models
        ]
        return web.json_response(
            {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]}
        )

    async def _count_tokens(self, request: web.Request) -> web.StreamResponse:
        checked = await self._checked(request, needs_max_tokens=False)
        if isinstance(checked, web.StreamResponse):
            return checked
        _, body = checked
        # Deterministic and unlike any local count, so tests can tell who answered.
        return web.json_response({"input_tokens": 1000 + len(json.dumps(body.get("messages")))})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        checked = await self._checked(request, needs_max_tokens=True)
        if isinstance(checked, web.StreamResponse):
            return checked
        script, body = checked
        blocks, stop_reason, stop_sequence = self._answer(body)
        headers = {"request-id": "req_fake_0001", "anthropic-organization-id": "org-fake"}
        if body.get("stream"):
            return await self.play(
                request, self._events(body["model"], blocks, stop_reason, stop_sequence), script, headers
            )
        message = {
            "id": "msg_fake0001",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": {**USAGE, "service_tier": "standard"},
        }
        return web.json_response(message, headers=headers)

    def _answer(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], str, str | None]:
        if self.brain is not None:
            decision = self.brain(body)
            if isinstance(decision, Call):
                return (
                    [
                        {
                            "type": "tool_use",
                            "id": f"toolu_{decision.id}",
                            "name": decision.name,
                            "input": decision.arguments,
                        }
                    ],
                    "tool_use",
                    None,
                )
            return [{"type": "text", "text": decision.text}], "end_turn", None
        blocks: list[dict[str, Any]] = []
        if (body.get("thinking") or {}).get("type") in ("enabled", "adaptive"):  # adaptive: the model chooses to
            blocks.append({"type": "thinking", "thinking": THINKING, "signature": SIGNATURE})
        if body.get("tools") and (body.get("tool_choice") or {}).get("type") != "none":
            blocks.append({"type": "text", "text": TOOL_TEXT})
            blocks += [{"type": "tool_use", "id": tid, "name": name, "input": args} for tid, name, args in TOOL_USES]
            return blocks, "tool_use", None
        if body["max_tokens"] < SHORT_LIMIT:
            blocks.append({"type": "text", "text": TEXT[: body["max_tokens"] * 3]})
            return blocks, "max_tokens", None
        for stop in body.get("stop_sequences") or ():
            if stop in TEXT:
                blocks.append({"type": "text", "text": TEXT[: TEXT.index(stop)]})
                return blocks, "stop_sequence", stop
        blocks.append({"type": "text", "text": TEXT})
        return blocks, "end_turn", None

    def _events(
        self, model: str, blocks: list[dict[str, Any]], stop_reason: str, stop_sequence: str | None
    ) -> list[bytes]:
        start_usage = {**{k: v for k, v in USAGE.items() if k != "output_tokens"}, "output_tokens": 1}
        message: dict[str, Any] = {
            "id": "msg_fake0001",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        events = [_event("message_start", {"message": message}), _event("ping", {})]
        for index, block in enumerate(blocks):
            events += self._block_events(index, block)
        events.append(
            _event(
                "message_delta",
                {
                    "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                    "usage": {"output_tokens": USAGE["output_tokens"]},
                },
            )
        )
        events.append(_event("message_stop", {}))
        return events

    def _block_events(self, index: int, block: dict[str, Any]) -> list[bytes]:
        kind = block["type"]
        if kind == "thinking":
            opening: dict[str, Any] = {"type": "thinking", "thinking": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"], 9)]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], 6)]
        else:
            opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": p} for p in ["", *_pieces(json.dumps(block["input"]), 7)]
            ]
        return [
            _event("content_block_start", {"index": index, "content_block": opening}),
            *(_event("content_block_delta", {"index": index, "delta": d}) for d in deltas),
            _event("content_block_stop", {"index": index}),
        ]
