"""OpenAI Chat Completions ⇄ the canonical chat, for requests and complete answers.

Used when the client and the upstream speak different protocols. Chat Completions has a ``tool``
role where the canonical form keeps tool results in the user turn, puts leading ``developer`` and
``system`` messages into one system prompt (later ones stay in place), and carries tool-call
arguments as JSON text.
"""

from __future__ import annotations

import re
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
    ToolChoice,
    ToolResult,
)
from gateway.core.usage import Usage
from gateway.formats.common.jsonbody import BodyError, as_object, untranslatable
from gateway.formats.common.system_turns import place_system, system_text
from gateway.formats.openai_chat.usage import usage_from

FINISH_FROM_OPENAI: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
FINISH_TO_OPENAI: dict[FinishReason, str] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "pause": "stop",
}


# --- requests: OpenAI -> canonical ----------------------------------------------------------


def image_from_url(url: str) -> ImagePart:
    """An image URL as OpenAI sends it: a ``data:`` URL holds the image itself."""
    if url.startswith("data:") and ";base64," in url:
        media_type, _, data = url[5:].partition(";base64,")
        return ImagePart(media_type=media_type, data=data)
    return ImagePart(url=url)


def _content(content: Any, param: str, *, images: bool = True) -> list[TextPart | ImagePart]:
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[TextPart | ImagePart] = []
    for i, part in enumerate(content or ()):
        kind = part.get("type")
        if kind == "text":
            parts.append(TextPart(part.get("text", "")))
        elif kind == "image_url" and images:
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise BodyError(f"'{param}[{i}].image_url.url' must be a string.", f"{param}[{i}].image_url")
            parts.append(image_from_url(url))
        else:
            raise untranslatable(f"{param}[{i}]", f"a {kind!r} part")
    return parts


def _tool_call(call: Any, param: str) -> ToolCall:
    function = call.get("function") if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise BodyError(f"'{param}.function.name' is required.", f"{param}.function.name")
    arguments = function.get("arguments")
    return ToolCall(
        id=str(call.get("id") or ""),
        name=function["name"],
        arguments=arguments if isinstance(arguments, str) else "{}",
    )


def decode_request(body: dict[str, Any]) -> ChatRequest:
    """A checked Chat Completions body (see ``checks.parse_request``) in canonical form."""
    system: list[TextPart] = []
    messages: list[Message] = []
    pending_results: list[Part] = []

    def flush_results() -> None:
        if pending_results:
            messages.append(Message("user", tuple(pending_results)))
            pending_results.clear()

    for i, m in enumerate(body["messages"]):
        role, content, param = m["role"], m.get("content"), f"messages[{i}].content"
        if role in ("system", "developer"):
            flush_results()
            place_system(
                system, messages, (p for p in _content(content, param, images=False) if isinstance(p, TextPart))
            )
        elif role == "tool":
            pending_results.append(ToolResult(str(m.get("tool_call_id") or ""), tuple(_content(content, param))))
        elif role == "user":
            flush_results()
            messages.append(Message("user", tuple(_content(content, param))))
        elif role == "assistant":
            flush_results()
            parts: list[Part] = []
            thinking = m.get("reasoning_content") or m.get("reasoning")
            if isinstance(thinking, str) and thinking:
                parts.append(Reasoning(thinking))
            parts.extend(_content(content, param, images=False))
            parts.extend(
                _tool_call(c, f"messages[{i}].tool_calls[{k}]") for k, c in enumerate(m.get("tool_calls") or ())
            )
            messages.append(Message("assistant", tuple(parts)))
        else:
            raise untranslatable(f"messages[{i}].role", f"the {role!r} role")
    flush_results()

    if (body.get("n") or 1) > 1:
        raise untranslatable("n", "more than one choice")
    stop = body.get("stop")
    return ChatRequest(
        model=body["model"],
        messages=tuple(messages),
        system=tuple(system),
        tools=_tools(body.get("tools") or ()),
        tool_choice=_tool_choice(body.get("tool_choice")),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stop=(stop,) if isinstance(stop, str) else tuple(stop or ()),
        stream=body.get("stream") is True,
        reasoning_effort=body.get("reasoning_effort"),
        response_format=body.get("response_format"),
        user=body.get("user"),
    )


def _tools(tools: Any) -> tuple[Tool, ...]:
    out = []
    for i, tool in enumerate(tools):
        function = tool.get("function")
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise untranslatable(f"tools[{i}]", f"a {tool.get('type')!r} tool")
        if not isinstance(function.get("name"), str):
            raise BodyError(f"'tools[{i}].function.name' is required.", f"tools[{i}].function.name")
        parameters = function.get("parameters")
        out.append(
            Tool(
                name=function["name"],
                description=function.get("description") or "",
                parameters=parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}},
            )
        )
    return tuple(out)


def _tool_choice(choice: Any) -> ToolChoice | None:
    if choice in ("auto", "none", "required"):
        return ToolChoice(choice)
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return ToolChoice("tool", str(choice["function"].get("name", "")))
    return None


# --- requests: canonical -> OpenAI ----------------------------------------------------------


def image_url(part: ImagePart) -> str:
    return part.url or f"data:{part.media_type};base64,{part.data}"


def _wire_content(parts: list[TextPart | ImagePart]) -> str | list[dict[str, Any]]:
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    return [
        {"type": "text", "text": p.text}
        if isinstance(p, TextPart)
        else {"type": "image_url", "image_url": {"url": image_url(p)}}
        for p in parts
    ]


def _wire_messages(request: ChatRequest, reasoning_history: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": "\n\n".join(p.text for p in request.system)})
    for message in request.messages:
        if message.role == "system":
            out.append({"role": "system", "content": system_text(message)})
            continue
        if message.role == "assistant":
            text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
            calls = [p for p in message.parts if isinstance(p, ToolCall)]
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            if reasoning_history and (thinking := "".join(p.text for p in message.parts if isinstance(p, Reasoning))):
                entry["reasoning_content"] = thinking
            if calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in calls
                ]
            out.append(entry)
            continue
        # Tool results go first, one "tool" message each; images they carry have no place there
        # and follow in the user message.
        rest: list[TextPart | ImagePart] = []
        for part in message.parts:
            if isinstance(part, ToolResult):
                text = "".join(p.text for p in part.content if isinstance(p, TextPart))
                out.append(
                    {
                        "role": "tool",
                        "tool_call_id": part.call_id,
                        "content": ("Error: " if part.is_error else "") + text,
                    }
                )
                rest.extend(p for p in part.content if isinstance(p, ImagePart))
            elif isinstance(part, TextPart | ImagePart):
                rest.append(part)
        if rest:
            out.append({"role": "user", "content": _wire_content(rest)})
    return out


# OpenAI's reasoning models (o1, o3, o4-mini, gpt-5…) refuse max_tokens and take only
# max_completion_tokens, which many other servers do not know.
_REASONING_MODEL = re.compile(r"(?:^|/)(?:o\d|gpt-5)", re.IGNORECASE)


def encode_request(
    request: ChatRequest, upstream_model: str, *, stream_usage: bool, reasoning_history: bool = False
) -> dict[str, Any]:
    """``reasoning_history``: send earlier turns' thinking back as ``reasoning_content``, for the
    servers that want it (DeepSeek's and Kimi's thinking models refuse a tool turn without it)."""
    body: dict[str, Any] = {"model": upstream_model, "messages": _wire_messages(request, reasoning_history)}
    if request.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
            for t in request.tools
        ]
    choice = request.tool_choice
    if choice is not None:
        body["tool_choice"] = (
            {"type": "function", "function": {"name": choice.name}} if choice.mode == "tool" else choice.mode
        )
    if request.parallel_tool_calls is not None and request.tools:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    limit = "max_completion_tokens" if _REASONING_MODEL.search(upstream_model) else "max_tokens"
    optional = {
        limit: request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "reasoning_effort": request.reasoning_effort or effort_for(request.reasoning_budget),
        "response_format": request.response_format,
        "user": request.user,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.stop:
        body["stop"] = list(request.stop)
    if request.stream:
        body["stream"] = True
        if stream_usage:
            body["stream_options"] = {"include_usage": True}
    return body


def effort_for(budget: int | None) -> str | None:
    """A thinking budget as an OpenAI reasoning effort (thresholds are a convention)."""
    if budget is None:
        return None
    return "low" if budget < 4096 else "medium" if budget < 16384 else "high"


# --- complete answers -----------------------------------------------------------------------


def decode_response(body: dict[str, Any]) -> ChatResponse:
    choices = body.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = as_object(choice.get("message"))
    parts: list[TextPart | Reasoning | ToolCall] = []
    thinking = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(thinking, str) and thinking:
        parts.append(Reasoning(thinking))
    content = message.get("content")
    if isinstance(content, str) and content:
        parts.append(TextPart(content))
    for k, call in enumerate(message.get("tool_calls") or ()):
        parts.append(_tool_call(call, f"choices[0].message.tool_calls[{k}]"))
    finish = choice.get("finish_reason")
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        parts=tuple(parts),
        finish=FINISH_FROM_OPENAI.get(finish) if isinstance(finish, str) else None,
        usage=usage_from(body.get("usage")),
    )


def usage_object(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def encode_response(response: ChatResponse, model: str, created: int) -> dict[str, Any]:
    text = "".join(p.text for p in response.parts if isinstance(p, TextPart))
    thinking = "".join(p.text for p in response.parts if isinstance(p, Reasoning))
    calls = [p for p in response.parts if isinstance(p, ToolCall)]
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    if thinking:
        message["reasoning_content"] = thinking
    if calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls
        ]
    body: dict[str, Any] = {
        "id": response.id if response.id.startswith("chatcmpl") else f"chatcmpl-{response.id}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH_TO_OPENAI[response.finish] if response.finish else "stop",
            }
        ],
    }
    if response.usage is not None:
        body["usage"] = usage_object(response.usage)
    return body
