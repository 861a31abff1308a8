"""Ollama's native API ⇄ the canonical chat, for requests and complete answers (protocols.md §4).

What differs from the others: images are bare base64 strings beside the text; tool-call
arguments are objects; a tool's result names the tool (``tool_name``) and, in newer servers, the
call (``tool_call_id``); thinking is ``think`` in the request and ``thinking`` in messages;
sampling settings live in ``options`` (``num_predict`` is the output limit); ``stream`` is on
unless switched off; an answer that called tools still says ``done_reason: "stop"``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from gateway.core.chat import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    ImagePart,
    Message,
    Part,
    Reasoning,
    TextPart,
    Tool,
    ToolCall,
    ToolResult,
)
from gateway.core.timing import Timing
from gateway.core.usage import Usage, token_count
from gateway.formats.common.jsonbody import as_object, untranslatable
from gateway.formats.common.system_turns import place_system, system_text
from gateway.formats.common.tool_arguments import arguments_object, arguments_text

DONE_REASON: dict[FinishReason, str] = {"length": "length"}  # everything else reads "stop"
# Magic numbers at the start of base64 image data, for the media type Ollama never states.
_MEDIA_TYPES = (("iVBOR", "image/png"), ("/9j/", "image/jpeg"), ("R0lGOD", "image/gif"), ("UklGR", "image/webp"))


def media_type(data: str) -> str:
    return next((kind for magic, kind in _MEDIA_TYPES if data.startswith(magic)), "image/png")


def iso_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


# --- requests: Ollama -> canonical ----------------------------------------------------------


def _images(images: Any) -> list[ImagePart]:
    return [ImagePart(media_type=media_type(i), data=i) for i in images or () if isinstance(i, str)]


def tool_calls(message: dict[str, Any], unnamed: str) -> list[ToolCall]:
    """A message's tool calls. Older servers give calls no id: they get ``{unnamed}_{n}``."""
    calls = []
    for k, call in enumerate(message.get("tool_calls") or ()):
        call = as_object(call)
        function = as_object(call.get("function"))
        given = call.get("id")
        call_id = given if isinstance(given, str) and given else f"{unnamed}_{k}"
        calls.append(ToolCall(call_id, str(function.get("name") or ""), arguments_text(function.get("arguments"))))
    return calls


def answer_call_prefix(chunk: dict[str, Any]) -> str:
    """An id stem for the calls of one answer, from the time Ollama stamped on it (to the
    nanosecond), so ids differ between the answers of one conversation."""
    stamp = str(chunk.get("created_at") or "") + str(chunk.get("model") or "")
    return "call_" + hashlib.sha256(stamp.encode()).hexdigest()[:16]


def _effort(think: Any) -> str | None:
    if think is True:
        return "medium"
    if think in ("low", "medium", "high"):
        return str(think)
    return "high" if think == "max" else None


def _response_format(fmt: Any) -> dict[str, Any] | None:
    if fmt == "json":
        return {"type": "json_object"}
    if isinstance(fmt, dict):
        return {"type": "json_schema", "json_schema": {"name": "response", "schema": fmt}}
    return None


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    options = as_object(body.get("options"))
    limit = options.get("num_predict")
    stop = options.get("stop")
    return {
        "max_tokens": limit if isinstance(limit, int) and limit > 0 else None,  # -1 and -2 mean "no limit"
        "temperature": options.get("temperature"),
        "top_p": options.get("top_p"),
        "top_k": options.get("top_k"),
        "stop": (stop,) if isinstance(stop, str) else tuple(stop or ()),
        "stream": body.get("stream") is not False,
        "reasoning_effort": _effort(body.get("think")),
        "response_format": _response_format(body.get("format")),
    }


class _Results:
    """Tool messages name their call by id, or only by tool name (older clients): matched to the
    earliest call of that name still unanswered."""

    def __init__(self) -> None:
        self._open: list[ToolCall] = []

    def called(self, calls: list[ToolCall]) -> None:
        self._open = list(calls)

    def answer(self, message: dict[str, Any]) -> str:
        wanted, name = message.get("tool_call_id"), message.get("tool_name")
        for i, call in enumerate(self._open):
            if call.id == wanted or (not wanted and (call.name == name or not name)):
                return self._open.pop(i).id
        return str(wanted or name or "")


def decode_chat(body: dict[str, Any]) -> ChatRequest:
    """A checked /api/chat body (see ``checks.parse_chat``) in canonical form."""
    system: list[TextPart] = []
    turns: list[Message] = []
    pending: list[Part] = []
    results = _Results()

    def flush() -> None:
        if pending:
            turns.append(Message("user", tuple(pending)))
            pending.clear()

    for i, m in enumerate(body["messages"]):
        role, content = m["role"], m.get("content") or ""
        if role == "system":
            flush()
            place_system(system, turns, [TextPart(content)])
        elif role == "tool":
            pending.append(ToolResult(results.answer(m), (TextPart(content),) if content else ()))
        elif role == "user":
            pending.extend([*([TextPart(content)] if content else []), *_images(m.get("images"))])
            flush()
        else:
            flush()
            calls = tool_calls(m, f"call_{i}")
            results.called(calls)
            thinking = m.get("thinking")
            parts: list[Part] = [Reasoning(thinking)] if isinstance(thinking, str) and thinking else []
            turns.append(Message("assistant", (*parts, *([TextPart(content)] if content else []), *calls)))
    flush()
    return ChatRequest(
        model=body["model"],
        messages=tuple(turns),
        system=tuple(system),
        tools=_tools(body.get("tools")),
        **_sampling(body),
    )


def _tools(tools: Any) -> tuple[Tool, ...]:
    out = []
    for i, tool in enumerate(tools or ()):
        function = as_object(tool.get("function"))
        if tool.get("type", "function") != "function" or not isinstance(function.get("name"), str):
            raise untranslatable(f"tools[{i}]", f"a {tool.get('type')!r} tool")
        parameters = function.get("parameters")
        out.append(
            Tool(
                function["name"],
                str(function.get("description") or ""),
                parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}},
            )
        )
    return tuple(out)


def decode_generate(body: dict[str, Any]) -> ChatRequest:
    """A checked /api/generate body in canonical form: the prompt as one user turn."""
    for name, what in (
        ("suffix", "a suffix (fill-in-the-middle)"),
        ("template", "a prompt template"),
        ("context", "a context from an earlier answer"),
    ):
        if body.get(name):
            raise untranslatable(name, what)
    if body.get("raw") is True:
        raise untranslatable("raw", "a raw prompt (it bypasses the model's own template)")
    prompt = body.get("prompt") or ""
    parts: list[Part] = [*([TextPart(prompt)] if prompt else []), *_images(body.get("images"))]
    system = body.get("system")
    return ChatRequest(
        model=body["model"],
        messages=(Message("user", tuple(parts)),),
        system=(TextPart(system),) if isinstance(system, str) and system else (),
        **_sampling(body),
    )


# --- requests: canonical -> Ollama ----------------------------------------------------------


def _user_messages(message: Message, names: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    text: list[str] = []
    images: list[str] = []

    def add_images(parts: Any, param: str) -> None:
        for part in parts:
            if isinstance(part, ImagePart):
                if part.url:
                    raise untranslatable(param, "an image given by URL (Ollama takes base64 image data)")
                images.append(part.data)

    for part in message.parts:
        if isinstance(part, ToolResult):
            content = "".join(p.text for p in part.content if isinstance(p, TextPart))
            out.append(
                {
                    "role": "tool",
                    "content": ("Error: " if part.is_error else "") + content,
                    "tool_name": names.get(part.call_id, ""),
                    "tool_call_id": part.call_id,
                }
            )
            add_images(part.content, "tool_result")
        elif isinstance(part, TextPart):
            text.append(part.text)
        else:
            add_images((part,), "image")
    if text or images:
        message_out: dict[str, Any] = {"role": "user", "content": "".join(text)}
        if images:
            message_out["images"] = images
        out.append(message_out)
    return out


def _wire_messages(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": "\n\n".join(p.text for p in request.system)})
    names: dict[str, str] = {}
    for index, message in enumerate(request.messages):
        if message.role == "user":
            out.extend(_user_messages(message, names))
            continue
        if message.role == "system":
            out.append({"role": "system", "content": system_text(message)})
            continue
        entry: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(p.text for p in message.parts if isinstance(p, TextPart)),
        }
        if thinking := "".join(p.text for p in message.parts if isinstance(p, Reasoning)):
            entry["thinking"] = thinking
        calls = [p for p in message.parts if isinstance(p, ToolCall)]
        if calls:
            names.update((c.id, c.name) for c in calls)
            entry["tool_calls"] = [
                {
                    "id": c.id,
                    "function": {
                        "index": k,
                        "name": c.name,
                        "arguments": arguments_object(c, f"messages[{index}].tool_calls"),
                    },
                }
                for k, c in enumerate(calls)
            ]
        out.append(entry)
    return out


def _wire_format(response_format: dict[str, Any] | None) -> Any:
    kind = (response_format or {}).get("type", "text")
    if kind == "json_object":
        return "json"
    if kind == "json_schema" and response_format is not None:
        return as_object(response_format.get("json_schema")).get("schema") or "json"
    return None


def encode_request(request: ChatRequest, upstream_model: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": upstream_model, "messages": _wire_messages(request), "stream": request.stream}
    if request.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
            for t in request.tools
        ]
    if request.reasoning_effort or request.reasoning_budget:
        body["think"] = True  # level names are honoured by few models; on/off by all that think
    if (fmt := _wire_format(request.response_format)) is not None:
        body["format"] = fmt
    options = {
        "num_predict": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "stop": list(request.stop) or None,
    }
    if options := {k: v for k, v in options.items() if v is not None}:
        body["options"] = options
    return body


# --- complete answers -----------------------------------------------------------------------


def usage_from(body: dict[str, Any]) -> Usage | None:
    """Counts from a final line; ``prompt_eval_count`` is left out when the prompt was cached."""
    completion = token_count(body.get("eval_count"))
    if completion is None:
        return None
    return Usage(token_count(body.get("prompt_eval_count")) or 0, completion)


def finish_of(done_reason: Any, has_calls: bool) -> FinishReason:
    if has_calls:
        return "tool_calls"
    return "length" if done_reason == "length" else "stop"


def decode_response(body: dict[str, Any]) -> ChatResponse:
    message = as_object(body.get("message"))
    parts: list[TextPart | Reasoning | ToolCall] = []
    if isinstance(thinking := message.get("thinking"), str) and thinking:
        parts.append(Reasoning(thinking))
    if isinstance(content := message.get("content"), str) and content:
        parts.append(TextPart(content))
    calls = tool_calls(message, answer_call_prefix(body))
    parts.extend(calls)
    return ChatResponse(
        id="",
        model=str(body.get("model") or ""),
        parts=tuple(parts),
        finish=finish_of(body.get("done_reason"), bool(calls)),
        usage=usage_from(body),
    )


def metrics(usage: Usage | None, total_ns: int, first_ns: int | None) -> dict[str, Any]:
    """The final line's counts and durations. The gateway sees no model loading; the prompt's
    time is the wait for the first output (when it was streamed)."""
    out: dict[str, Any] = {"total_duration": total_ns, "load_duration": 0}
    if usage is not None:
        out["prompt_eval_count"] = usage.prompt_tokens
    if first_ns is not None:
        out["prompt_eval_duration"] = first_ns
    if usage is not None:
        out["eval_count"] = usage.completion_tokens
    out["eval_duration"] = total_ns - (first_ns or 0)
    return out


def wire_calls(calls: list[ToolCall]) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "function": {"index": k, "name": c.name, "arguments": arguments_object(c, None)}}
        for k, c in enumerate(calls)
    ]


def encode_response(response: ChatResponse, model: str, timing: Timing, *, generate: bool) -> dict[str, Any]:
    text = "".join(p.text for p in response.parts if isinstance(p, TextPart))
    thinking = "".join(p.text for p in response.parts if isinstance(p, Reasoning))
    calls = [p for p in response.parts if isinstance(p, ToolCall)]
    body: dict[str, Any] = {"model": model, "created_at": iso_time(timing.created)}
    if generate:
        body["response"] = text
        if thinking:
            body["thinking"] = thinking
    else:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if thinking:
            message["thinking"] = thinking
        if calls:
            message["tool_calls"] = wire_calls(calls)
        body["message"] = message
    body["done"] = True
    body["done_reason"] = DONE_REASON.get(response.finish, "stop") if response.finish else "stop"
    return {**body, **metrics(response.usage, timing.elapsed_ns(), None)}
