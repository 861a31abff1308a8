"""Anthropic Messages ⇄ the canonical chat, for requests and complete answers (protocols.md §3.6).

The canonical form was shaped after Messages, so most of this is renaming: system blocks,
tool results inside the user turn, thinking with its signature. What differs: tool inputs are
objects here and JSON text in canonical form; ``input_tokens`` leaves out cached tokens.
"""

from __future__ import annotations

from typing import Any

from gateway.core.chat import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    ImagePart,
    Message,
    Part,
    Reasoning,
    Role,
    TextPart,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from gateway.formats.anthropic.usage import usage_from, usage_object
from gateway.formats.common.jsonbody import untranslatable
from gateway.formats.common.system_turns import system_text
from gateway.formats.common.tool_arguments import arguments_object, arguments_text

DEFAULT_MAX_TOKENS = 4096  # Messages requires max_tokens; the value llama.cpp's compat layer uses
EFFORT_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576, "xhigh": 32768}

FINISH_FROM_ANTHROPIC: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    "pause_turn": "pause",
}
FINISH_TO_ANTHROPIC: dict[FinishReason, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
    "pause": "pause_turn",
}


# --- requests: Anthropic -> canonical -------------------------------------------------------


def _cached(block: dict[str, Any]) -> bool:
    return isinstance(block.get("cache_control"), dict)


def _image(block: dict[str, Any], param: str) -> ImagePart:
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "base64":
        return ImagePart(media_type=str(source.get("media_type") or ""), data=str(source.get("data") or ""))
    if isinstance(source, dict) and source.get("type") == "url" and isinstance(source.get("url"), str):
        return ImagePart(url=source["url"])
    raise untranslatable(f"{param}.source", "an image source other than base64 or url")


def _result_content(content: Any, param: str) -> tuple[TextPart | ImagePart, ...]:
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    parts: list[TextPart | ImagePart] = []
    for i, block in enumerate(content or ()):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(str(block.get("text") or "")))
        elif kind == "image":
            parts.append(_image(block, f"{param}.{i}"))
        else:
            raise untranslatable(f"{param}.{i}", f"a {kind!r} block in a tool result")
    return tuple(parts)


def _blocks(content: Any, role: Role, param: str) -> tuple[Part, ...]:
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    parts: list[Part] = []
    for i, block in enumerate(content):
        kind, where = block.get("type"), f"{param}.{i}"
        if kind == "text":
            parts.append(TextPart(str(block.get("text") or ""), cache=_cached(block)))
        elif kind == "image":
            parts.append(_image(block, where))
        elif role == "system":
            raise untranslatable(where, f"a {kind!r} block in a system message")
        elif kind == "tool_use" and role == "assistant":
            parts.append(
                ToolCall(str(block.get("id") or ""), str(block.get("name") or ""), arguments_text(block.get("input")))
            )
        elif kind == "tool_result" and role == "user":
            parts.append(
                ToolResult(
                    str(block.get("tool_use_id") or ""),
                    _result_content(block.get("content"), f"{where}.content"),
                    is_error=block.get("is_error") is True,
                )
            )
        elif kind == "thinking" and role == "assistant":
            parts.append(Reasoning(str(block.get("thinking") or ""), signature=str(block.get("signature") or "")))
        elif kind == "redacted_thinking" and role == "assistant":
            parts.append(Reasoning(redacted=str(block.get("data") or "")))
        else:
            raise untranslatable(where, f"a {kind!r} block")
    return tuple(parts)


def _tools(tools: Any, choice: ToolChoice | None) -> tuple[tuple[Tool, ...], tuple[str, ...]]:
    """The client's tools, and what was left out: server tools (web search, code execution, …)
    run on Anthropic's side and nowhere else, so they are dropped unless the client forces one."""
    out, dropped = [], []
    for i, tool in enumerate(tools or ()):
        if tool.get("type") in (None, "custom") and isinstance(tool.get("input_schema"), dict):
            out.append(
                Tool(str(tool["name"]), str(tool.get("description") or ""), tool["input_schema"], cache=_cached(tool))
            )
            continue
        name = str(tool.get("name") or tool.get("type"))
        if choice is not None and choice.mode == "tool" and choice.name == name:
            raise untranslatable(f"tools.{i}", f"the server tool {name!r} that tool_choice requires")
        dropped.append(f"tools.{i} ({tool.get('type')})")
    return tuple(out), tuple(dropped)


def _tool_choice(choice: Any) -> tuple[ToolChoice | None, bool | None]:
    if not isinstance(choice, dict):
        return None, None
    parallel = False if choice.get("disable_parallel_tool_use") is True else None
    mode = {"auto": "auto", "any": "required", "none": "none", "tool": "tool"}.get(str(choice.get("type")))
    if mode is None:
        return None, parallel
    return ToolChoice(mode, str(choice.get("name") or "")), parallel  # type: ignore[arg-type]


def _effort(config: Any, thinking: Any) -> str | None:
    """``output_config.effort`` (with adaptive thinking, Claude Code's way of asking) as the
    canonical effort; "max" is beyond what other protocols name, so it is their highest."""
    if isinstance(thinking, dict) and thinking.get("type") == "disabled":
        return None
    effort = config.get("effort") if isinstance(config, dict) else None
    if effort in ("low", "medium", "high"):
        return str(effort)
    return "high" if effort == "max" else None


def decode_request(body: dict[str, Any]) -> ChatRequest:
    """A checked Messages body (see ``checks.parse_request``) in canonical form."""
    system = body.get("system")
    if isinstance(system, str):
        system_parts: tuple[TextPart, ...] = (TextPart(system),) if system else ()
    else:
        system_parts = tuple(TextPart(str(b.get("text") or ""), cache=_cached(b)) for b in system or ())
    messages = tuple(
        Message(m["role"], _blocks(m["content"], m["role"], f"messages.{i}.content"))
        for i, m in enumerate(body["messages"])
    )
    thinking = body.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, dict) and thinking.get("type") == "enabled" else None
    effort = _effort(body.get("output_config"), thinking)
    choice, parallel = _tool_choice(body.get("tool_choice"))
    tools, dropped = _tools(body.get("tools"), choice)
    metadata = body.get("metadata")
    return ChatRequest(
        model=body["model"],
        messages=messages,
        system=system_parts,
        tools=tools,
        tool_choice=choice,
        parallel_tool_calls=parallel,
        max_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        top_k=body.get("top_k"),
        stop=tuple(body.get("stop_sequences") or ()),
        stream=body.get("stream") is True,
        reasoning_budget=budget if isinstance(budget, int) else None,
        reasoning_effort=effort,
        user=metadata.get("user_id") if isinstance(metadata, dict) else None,
        dropped=dropped,
    )


# --- requests: canonical -> Anthropic -------------------------------------------------------


def _cache_mark(block: dict[str, Any], cache: bool) -> dict[str, Any]:
    if cache:
        block["cache_control"] = {"type": "ephemeral"}
    return block


def _image_block(part: ImagePart) -> dict[str, Any]:
    if part.url:
        return {"type": "image", "source": {"type": "url", "url": part.url}}
    return {"type": "image", "source": {"type": "base64", "media_type": part.media_type, "data": part.data}}


def _wire_blocks(message: Message, index: int) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text:
                blocks.append(_cache_mark({"type": "text", "text": part.text}, part.cache))
        elif isinstance(part, ImagePart):
            blocks.append(_image_block(part))
        elif isinstance(part, ToolCall):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": part.id,
                    "name": part.name,
                    "input": arguments_object(part, f"messages[{index}].tool_calls"),
                }
            )
        elif isinstance(part, ToolResult):
            content = [
                {"type": "text", "text": p.text} if isinstance(p, TextPart) else _image_block(p) for p in part.content
            ]
            result: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.call_id, "content": content}
            if part.is_error:
                result["is_error"] = True
            blocks.append(result)
        elif part.redacted:
            blocks.append({"type": "redacted_thinking", "data": part.redacted})
        elif part.signature:  # thinking without Anthropic's signature cannot be sent back
            blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
    # Tool results must lead their user turn.
    blocks.sort(key=lambda b: b["type"] != "tool_result")
    return blocks


def _reminder(message: Message) -> list[dict[str, Any]]:
    """A mid-conversation system message as the user-turn text Claude Code itself sends to models
    without that beta: every Messages server takes it, and its words stay where they were."""
    text = system_text(message)
    return [{"type": "text", "text": f"<system-reminder>\n{text}\n</system-reminder>"}] if text else []


def _wire_messages(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, message in enumerate(request.messages):
        role = "user" if message.role == "system" else message.role
        blocks = _reminder(message) if message.role == "system" else _wire_blocks(message, index)
        if not blocks:
            continue
        if out and out[-1]["role"] == role:  # Messages wants the roles to alternate
            out[-1]["content"].extend(blocks)
            out[-1]["content"].sort(key=lambda b: b["type"] != "tool_result")
        else:
            out.append({"role": role, "content": blocks})
    return out


def encode_request(request: ChatRequest, upstream_model: str) -> dict[str, Any]:
    max_tokens = request.max_tokens or DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {"model": upstream_model, "messages": _wire_messages(request)}
    if request.system:
        body["system"] = [_cache_mark({"type": "text", "text": p.text}, p.cache) for p in request.system]
    budget = request.reasoning_budget or EFFORT_BUDGET.get(request.reasoning_effort or "")
    if budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": max(1024, budget)}
        max_tokens = max(max_tokens, body["thinking"]["budget_tokens"] + 1024)
    body["max_tokens"] = max_tokens
    if request.tools:
        body["tools"] = [
            _cache_mark({"name": t.name, "description": t.description, "input_schema": t.parameters}, t.cache)
            for t in request.tools
        ]
    choice: dict[str, Any] | None = None
    if request.tool_choice is not None:
        mode = request.tool_choice.mode
        choice = {"type": {"required": "any"}.get(mode, mode)}
        if mode == "tool":
            choice["name"] = request.tool_choice.name
    if request.parallel_tool_calls is False and request.tools:
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if choice is not None and (request.tools or choice["type"] == "none"):
        body["tool_choice"] = choice
    if request.temperature is not None and "thinking" not in body:
        body["temperature"] = min(1.0, request.temperature)  # Messages allows 0..1
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.top_k is not None:
        body["top_k"] = request.top_k
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    if request.user:
        body["metadata"] = {"user_id": request.user}
    if request.stream:
        body["stream"] = True
    format_type = (request.response_format or {}).get("type", "text")
    if format_type != "text":
        raise untranslatable("response_format", f"a {format_type!r} response format")
    return body


# --- complete answers -----------------------------------------------------------------------


def decode_response(body: dict[str, Any]) -> ChatResponse:
    parts: list[TextPart | Reasoning | ToolCall] = []
    for block in body.get("content") or ():
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(str(block.get("text") or "")))
        elif kind == "thinking":
            parts.append(Reasoning(str(block.get("thinking") or ""), signature=str(block.get("signature") or "")))
        elif kind == "redacted_thinking":
            parts.append(Reasoning(redacted=str(block.get("data") or "")))
        elif kind == "tool_use":
            parts.append(
                ToolCall(str(block.get("id") or ""), str(block.get("name") or ""), arguments_text(block.get("input")))
            )
    stop = body.get("stop_reason")
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        parts=tuple(parts),
        finish=FINISH_FROM_ANTHROPIC.get(stop) if isinstance(stop, str) else None,
        usage=usage_from(body.get("usage")),
        stop_sequence=body.get("stop_sequence") if isinstance(body.get("stop_sequence"), str) else None,
    )


def message_id(upstream_id: str) -> str:
    return upstream_id if upstream_id.startswith("msg_") else f"msg_{upstream_id}"


def encode_response(response: ChatResponse, model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for part in response.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCall):
            content.append(
                {"type": "tool_use", "id": part.id, "name": part.name, "input": arguments_object(part, None)}
            )
        elif part.redacted:
            content.append({"type": "redacted_thinking", "data": part.redacted})
        else:
            content.append({"type": "thinking", "thinking": part.text, "signature": part.signature})
    return {
        "id": message_id(response.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": FINISH_TO_ANTHROPIC[response.finish] if response.finish else "end_turn",
        "stop_sequence": response.stop_sequence,
        "usage": usage_object(response.usage),
    }
