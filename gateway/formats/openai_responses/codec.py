"""OpenAI Responses ⇄ the canonical chat, for requests and complete answers (protocols.md §2).

Responses is item-based: the conversation and the answer are lists of items (messages, function
calls, their outputs, reasoning). Function tools are flat (``{type, name, parameters}``), not
nested under ``function`` as in Chat, and a call's ``call_id`` (not its item ``id``) links it to
its output. The gateway keeps no state, so ``previous_response_id`` and ``conversation`` cannot be
translated: only an upstream that speaks Responses itself (the passthrough) can honour them.
Reasoning travels as its summary text; encrypted reasoning belongs to the upstream that made it
and does not cross protocols. Responses has no stop sequences: they are not sent.
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
    ToolCall,
    ToolResult,
)
from gateway.formats.common.jsonbody import BodyError, as_object, untranslatable
from gateway.formats.common.system_turns import system_text
from gateway.formats.openai_chat.codec import effort_for, image_from_url, image_url
from gateway.formats.openai_responses.items import (
    output_items,
    response_id,
    response_object,
    status_of,
)
from gateway.formats.openai_responses.tools import (
    ToolNames,
    custom_arguments,
    decode_choice,
    decode_tools,
    flat_name,
)
from gateway.formats.openai_responses.usage import usage_from

STATELESS = (
    "this model's provider keeps no conversations and the gateway stores none; "
    "send the whole conversation in 'input' (as with store: false)"
)


# --- requests: Responses -> canonical -------------------------------------------------------


def _text_of(content: Any, param: str, kinds: tuple[str, ...]) -> list[TextPart]:
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    out = []
    for i, part in enumerate(content or ()):
        kind = as_object(part).get("type")
        if kind in kinds:
            out.append(TextPart(str(part.get("text") or "")))
        elif kind == "refusal":
            out.append(TextPart(str(part.get("refusal") or "")))
        else:
            raise untranslatable(f"{param}[{i}]", f"a {kind!r} part")
    return out


def _user_content(content: Any, param: str) -> list[TextPart | ImagePart]:
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    out: list[TextPart | ImagePart] = []
    for i, part in enumerate(content or ()):
        part = as_object(part)
        kind = part.get("type")
        if kind in ("input_text", "output_text"):
            out.append(TextPart(str(part.get("text") or "")))
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            out.append(image_from_url(part["image_url"]))
        else:
            raise untranslatable(f"{param}[{i}]", f"a {kind!r} part")
    return out


class _Turns:
    """Items become turns: consecutive items of one role join one message."""

    def __init__(self) -> None:
        self.turns: list[tuple[Role, list[Part]]] = []

    def add(self, role: Role, parts: list[Any]) -> None:
        if not parts:
            return
        if self.turns and self.turns[-1][0] == role:
            self.turns[-1][1].extend(parts)
        else:
            self.turns.append((role, list(parts)))

    def messages(self) -> tuple[Message, ...]:
        return tuple(Message(role, tuple(parts)) for role, parts in self.turns)


def _reasoning_text(item: dict[str, Any]) -> str:
    summary = "".join(str(s.get("text") or "") for s in item.get("summary") or () if isinstance(s, dict))
    if summary:
        return summary
    return "".join(str(c.get("text") or "") for c in item.get("content") or () if isinstance(c, dict))


# Records of hosted tools run on OpenAI's side: no other upstream can read them.
_HOSTED_CALLS = frozenset({"web_search_call", "file_search_call", "image_generation_call", "code_interpreter_call"})


def _output(item: dict[str, Any], param: str) -> ToolResult:
    output = item.get("output")
    content = _user_content(output, f"{param}.output") if isinstance(output, list) else [TextPart(str(output or ""))]
    return ToolResult(str(item.get("call_id") or ""), tuple(content))


def _item(item: dict[str, Any], param: str, turns: _Turns, system: list[TextPart], dropped: list[str]) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role in ("system", "developer"):
            parts = _text_of(item.get("content"), f"{param}.content", ("input_text",))
            if turns.turns:  # given mid-conversation: it stays where it was given
                turns.add("system", parts)
            else:
                system.extend(parts)
        elif role == "user":
            turns.add("user", _user_content(item.get("content"), f"{param}.content"))
        elif role == "assistant":
            turns.add("assistant", _text_of(item.get("content"), f"{param}.content", ("output_text", "input_text")))
        else:
            raise untranslatable(f"{param}.role", f"the {role!r} role")
    elif kind == "function_call":
        arguments = item.get("arguments")
        name = flat_name(str(item.get("namespace") or ""), str(item.get("name") or ""))
        turns.add(
            "assistant",
            [ToolCall(str(item.get("call_id") or ""), name, arguments if isinstance(arguments, str) else "{}")],
        )
    elif kind == "custom_tool_call":
        turns.add(
            "assistant",
            [
                ToolCall(
                    str(item.get("call_id") or ""),
                    str(item.get("name") or ""),
                    custom_arguments(str(item.get("input") or "")),
                )
            ],
        )
    elif kind in ("function_call_output", "custom_tool_call_output"):
        turns.add("user", [_output(item, param)])
    elif kind == "reasoning":
        if text := _reasoning_text(item):
            turns.add("assistant", [Reasoning(text)])
    elif kind in _HOSTED_CALLS:
        dropped.append(f"{param} ({kind})")
    else:
        raise untranslatable(param, f"a {kind!r} item")


def _response_format(text: Any) -> dict[str, Any] | None:
    """``text.format`` as Chat's ``response_format`` (the canonical form keeps Chat's shape)."""
    fmt = as_object(as_object(text).get("format"))
    kind = fmt.get("type")
    if kind == "json_schema":
        return {"type": "json_schema", "json_schema": {k: v for k, v in fmt.items() if k != "type"}}
    if kind == "json_object":
        return {"type": "json_object"}
    return None


def decode_request(body: dict[str, Any]) -> ChatRequest:
    """A checked Responses body (see ``checks.parse_request``) in canonical form."""
    for name in ("previous_response_id", "conversation"):
        if body.get(name) is not None:
            raise BodyError(f"'{name}': {STATELESS}.", name)
    system: list[TextPart] = []
    if instructions := body.get("instructions"):
        system.append(TextPart(instructions))
    turns = _Turns()
    items = body["input"]
    if isinstance(items, str):
        items = [{"type": "message", "role": "user", "content": items}]
    tools, dropped = decode_tools(body.get("tools"), body.get("tool_choice"))
    history_dropped: list[str] = []
    for i, item in enumerate(items):
        _item(item, f"input[{i}]", turns, system, history_dropped)
    effort = as_object(body.get("reasoning")).get("effort")
    return ChatRequest(
        model=body["model"],
        messages=turns.messages(),
        system=tuple(system),
        tools=tools,
        tool_choice=decode_choice(body.get("tool_choice")),
        parallel_tool_calls=body.get("parallel_tool_calls"),
        max_tokens=body.get("max_output_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        stream=body.get("stream") is True,
        reasoning_effort=effort if isinstance(effort, str) and effort != "none" else None,
        response_format=_response_format(body.get("text")),
        user=body.get("user") or body.get("safety_identifier"),
        dropped=(*dropped, *history_dropped),
    )


# --- requests: canonical -> Responses -------------------------------------------------------


def _input_parts(parts: list[TextPart | ImagePart]) -> list[dict[str, Any]]:
    return [
        {"type": "input_text", "text": p.text}
        if isinstance(p, TextPart)
        else {"type": "input_image", "image_url": image_url(p)}
        for p in parts
    ]


def _tool_output(result: ToolResult) -> str | list[dict[str, Any]]:
    prefix = "Error: " if result.is_error else ""
    if all(isinstance(p, TextPart) for p in result.content):
        return prefix + "".join(p.text for p in result.content if isinstance(p, TextPart))
    parts = list(result.content)
    if prefix:
        parts.insert(0, TextPart(prefix))
    return _input_parts(parts)


def _input_items(request: ChatRequest) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            items.append(
                {
                    "type": "message",
                    "role": "developer",
                    "content": [{"type": "input_text", "text": system_text(message)}],
                }
            )
            continue
        if message.role == "user":
            rest: list[TextPart | ImagePart] = []
            for part in message.parts:
                if isinstance(part, ToolResult):
                    items.append(
                        {"type": "function_call_output", "call_id": part.call_id, "output": _tool_output(part)}
                    )
                elif isinstance(part, TextPart | ImagePart):
                    rest.append(part)
            if rest:
                items.append({"type": "message", "role": "user", "content": _input_parts(rest)})
            continue
        for part in message.parts:
            if isinstance(part, TextPart) and part.text:
                items.append(
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": part.text}]}
                )
            elif isinstance(part, ToolCall):
                items.append(
                    {"type": "function_call", "call_id": part.id, "name": part.name, "arguments": part.arguments}
                )
    return items


def _text_format(response_format: dict[str, Any] | None) -> dict[str, Any] | None:
    kind = (response_format or {}).get("type", "text")
    if kind == "json_schema":
        return {
            "format": {
                "type": "json_schema",
                **as_object(response_format.get("json_schema") if response_format else None),
            }
        }
    if kind == "json_object":
        return {"format": {"type": "json_object"}}
    return None


def encode_request(request: ChatRequest, upstream_model: str) -> dict[str, Any]:
    body: dict[str, Any] = {"model": upstream_model, "input": _input_items(request), "store": False}
    if request.system:
        body["instructions"] = "\n\n".join(p.text for p in request.system)
    if request.tools:
        # Responses makes function tools strict unless told otherwise; Chat and Messages do not.
        body["tools"] = [
            {
                "type": "function",
                "name": t.name,
                "description": t.description,
                "parameters": t.parameters,
                "strict": False,
            }
            for t in request.tools
        ]
    choice = request.tool_choice
    if choice is not None:
        body["tool_choice"] = {"type": "function", "name": choice.name} if choice.mode == "tool" else choice.mode
    if request.parallel_tool_calls is not None and request.tools:
        body["parallel_tool_calls"] = request.parallel_tool_calls
    if effort := request.reasoning_effort or effort_for(request.reasoning_budget):
        body["reasoning"] = {"effort": effort, "summary": "auto"}
    optional = {
        "max_output_tokens": request.max_tokens,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "text": _text_format(request.response_format),
        "user": request.user,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if request.stream:
        body["stream"] = True
    return body


# --- complete answers -----------------------------------------------------------------------

_INCOMPLETE: dict[str, FinishReason] = {"max_output_tokens": "length", "content_filter": "content_filter"}


def finish_of(response: dict[str, Any], has_calls: bool) -> FinishReason:
    """A Responses answer's outcome as a finish reason (protocols.md §2.3)."""
    if has_calls:
        return "tool_calls"
    if response.get("status") == "incomplete":
        reason = as_object(response.get("incomplete_details")).get("reason")
        return _INCOMPLETE.get(reason, "length") if isinstance(reason, str) else "length"
    return "stop"


def decode_response(body: dict[str, Any]) -> ChatResponse:
    parts: list[TextPart | Reasoning | ToolCall] = []
    refused = False
    for item in body.get("output") or ():
        item = as_object(item)
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or ():
                part = as_object(part)
                if part.get("type") == "output_text":
                    parts.append(TextPart(str(part.get("text") or "")))
                elif part.get("type") == "refusal":
                    parts.append(TextPart(str(part.get("refusal") or "")))
                    refused = True
        elif kind == "function_call":
            arguments = item.get("arguments")
            parts.append(
                ToolCall(
                    str(item.get("call_id") or item.get("id") or ""),
                    str(item.get("name") or ""),
                    arguments if isinstance(arguments, str) else "{}",
                )
            )
        elif kind == "reasoning" and (text := _reasoning_text(item)):
            parts.append(Reasoning(text))
    has_calls = any(isinstance(p, ToolCall) for p in parts)
    return ChatResponse(
        id=str(body.get("id") or ""),
        model=str(body.get("model") or ""),
        parts=tuple(parts),
        finish="refusal" if refused and not has_calls else finish_of(body, has_calls),
        usage=usage_from(body.get("usage")),
    )


def encode_response(
    response: ChatResponse, model: str, created: int, echo: dict[str, Any], names: ToolNames | None = None
) -> dict[str, Any]:
    rid = response_id(response.id or "switchboard")
    return response_object(
        rid,
        model,
        created,
        echo,
        status=status_of(response.finish),
        output=output_items(response.parts, rid, names),
        usage=response.usage,
        finish=response.finish,
    )
