"""Responses tools that are not plain functions, for upstreams that know only functions.

Codex sends three kinds besides ``function`` (checked against Codex 0.171's requests):
- ``namespace``: a group of functions (``multi_agent_v1`` holds ``spawn_agent``, …). Flattened
  to functions named ``<namespace>__<name>``; a call to one goes back to the client as a
  ``function_call`` with ``namespace`` and the inner ``name``, as the Responses API answers it.
- ``custom``: a freeform tool whose input is one string (``apply_patch`` with a grammar). Sent as
  a function taking ``{"input": string}``; its call goes back as a ``custom_tool_call``.
- hosted tools (``web_search``, ``image_generation``, …) that run on OpenAI's side and nowhere
  else: left out of the upstream request and named in ``dropped``, unless ``tool_choice``
  forces one, which no other upstream could honour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.core.chat import Tool, ToolChoice
from gateway.formats.common import jsonbody
from gateway.formats.common.jsonbody import BodyError, as_object, untranslatable

SEPARATOR = "__"
_INPUT = {
    "type": "object",
    "properties": {"input": {"type": "string"}},
    "required": ["input"],
    "additionalProperties": False,
}
_NO_PARAMETERS = {"type": "object", "properties": {}}


@dataclass(frozen=True, slots=True)
class ClientTool:
    """A tool as the client named it, behind the flat function name an upstream sees."""

    name: str
    namespace: str = ""
    custom: bool = False


def flat_name(namespace: str, name: str) -> str:
    return f"{namespace}{SEPARATOR}{name}" if namespace else name


class ToolNames:
    """The request's namespaced and custom tools by the flat name an upstream calls them by."""

    __slots__ = ("_by_flat",)

    def __init__(self, tools: Any) -> None:
        self._by_flat: dict[str, ClientTool] = {}
        for tool in tools if isinstance(tools, list) else ():
            tool = as_object(tool)
            kind, name = tool.get("type"), str(tool.get("name") or "")
            if kind == "custom":
                self._by_flat[name] = ClientTool(name, custom=True)
            elif kind == "namespace":
                for inner in tool.get("tools") or ():
                    inner_name = str(as_object(inner).get("name") or "")
                    self._by_flat[flat_name(name, inner_name)] = ClientTool(inner_name, namespace=name)

    def client(self, flat: str) -> ClientTool | None:
        return self._by_flat.get(flat)


def _function(tool: dict[str, Any], name: str) -> Tool:
    parameters = tool.get("parameters")
    return Tool(
        name, str(tool.get("description") or ""), parameters if isinstance(parameters, dict) else _NO_PARAMETERS
    )


def _custom(tool: dict[str, Any]) -> Tool:
    description = str(tool.get("description") or "")
    grammar = as_object(tool.get("format"))
    if grammar.get("type") == "grammar" and isinstance(grammar.get("definition"), str):
        # The grammar is what tells a model the input's syntax; a function schema cannot hold it.
        description += f"\n\nThe input must follow this {grammar.get('syntax') or 'grammar'}:\n{grammar['definition']}"
    return Tool(str(tool.get("name") or ""), description, _INPUT)


def decode_tools(tools: Any, choice: Any) -> tuple[tuple[Tool, ...], tuple[str, ...]]:
    """Every tool as a function an upstream can call, and the hosted ones left out."""
    out: list[Tool] = []
    dropped: list[str] = []
    forced = as_object(choice).get("type")
    for i, tool in enumerate(tools or ()):
        kind = tool.get("type")
        if kind == "function":
            if not isinstance(tool.get("name"), str):
                raise BodyError(f"Missing required parameter: 'tools[{i}].name'.", f"tools[{i}].name")
            out.append(_function(tool, tool["name"]))
        elif kind == "namespace":
            namespace = str(tool.get("name") or "")
            out.extend(
                _function(as_object(inner), flat_name(namespace, str(as_object(inner).get("name") or "")))
                for inner in tool.get("tools") or ()
            )
        elif kind == "custom":
            out.append(_custom(tool))
        elif kind == forced:
            raise untranslatable(f"tools[{i}]", f"the hosted {kind!r} tool that tool_choice requires")
        else:
            dropped.append(f"tools[{i}] ({kind})")
    return tuple(out), tuple(dropped)


def decode_choice(choice: Any) -> ToolChoice | None:
    if choice in ("auto", "none", "required"):
        return ToolChoice(choice)
    choice = as_object(choice)
    if choice.get("type") in ("function", "custom"):
        return ToolChoice("tool", flat_name(str(choice.get("namespace") or ""), str(choice.get("name") or "")))
    return None


def custom_arguments(text: str) -> str:
    """A custom tool's input as the arguments of the function that stands for it."""
    return jsonbody.encode({"input": text}).decode()


def custom_input(arguments: str) -> str:
    """The input a model gave the function standing for a custom tool (its whole arguments when
    they are not the expected object: the model's words are not lost)."""
    try:
        value = jsonbody.loads(arguments)
    except ValueError:
        return arguments
    return value["input"] if isinstance(value, dict) and isinstance(value.get("input"), str) else arguments
