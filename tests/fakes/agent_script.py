"""A scripted model for the fakes, so that real agent programs (tests/clients) run real tool loops.

An agent only shows that it works through the gateway when the model asks it for one of its own
tools, it runs the tool, and the tool's output comes back in the next request. ``decide`` plays
that model from a request body of any protocol (Messages, Chat, Responses, Ollama), reading only
the tools offered and the body's JSON text:

- the prompt asks for steps by marker words (``SHELL``; ``READ`` followed by a path);
- each asked-for step whose tool is offered and whose output is not yet in the conversation is
  called, in order: the shell tool the client offers (arguments chosen from its schema), then a
  file reader (Claude Code's ``Read``);
- once every output is back, the answer quotes them, so a test sees the tool really ran;
- a request asking for no step gets ``PLAIN``.

The outputs are sentinels that appear only in what the tools print: the command computes its own
(``echo SWB-$((6*7))`` prints ``SWB-42``), the file holds a text the prompt never names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SHELL = "SWB-RUN-SHELL"
SHELL_COMMAND = "echo SWB-$((6*7))"
SHELL_OUTPUT = "SWB-42"
READ = "SWB-READ-FILE"  # followed by the path of the file to read
FILE_TEXT = "SWB-FILE-CONTENTS-SEEN"  # what a test writes in that file
PLAIN = "Hello from the scripted agent."


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Call:
    id: str  # each fake prefixes it the way its protocol names calls (toolu_, call_)
    name: str
    arguments: dict[str, Any]


Decision = Say | Call
Brain = Callable[[dict[str, Any]], Decision]
Tool = tuple[str, dict[str, Any]]  # a function tool's name and its parameters' JSON schema


@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    sentinel: str
    wanted: Callable[[str], str | None]  # from the body's text: the step's subject, if asked for
    arguments: Callable[[dict[str, Any], str], dict[str, Any] | None]  # for a tool's schema


def _shell_arguments(schema: dict[str, Any], command: str) -> dict[str, Any] | None:
    properties = schema.get("properties") or {}
    if (properties.get("cmd") or {}).get("type") == "string":  # Codex's exec_command
        return {"cmd": command}
    kind = (properties.get("command") or {}).get("type")
    if kind == "array":  # Codex's older shell tool: an argv
        return {"command": ["bash", "-lc", command]}
    if kind == "string":  # Claude Code's Bash, and the tools the SDK tests define
        return {"command": command}
    return None


def _read_arguments(schema: dict[str, Any], path: str) -> dict[str, Any] | None:
    # Write and Edit take a file_path too, but they require more than it.
    required = set(schema.get("required") or ())
    return (
        {"file_path": path} if "file_path" in (schema.get("properties") or {}) and required <= {"file_path"} else None
    )


def _asked_path(text: str) -> str | None:
    found = re.search(re.escape(READ) + r" ([^\s\"\\]+)", text)
    return found.group(1) if found else None


STEPS = (
    _Step("shell", SHELL_OUTPUT, lambda text: SHELL_COMMAND if SHELL in text else None, _shell_arguments),
    _Step("read", FILE_TEXT, _asked_path, _read_arguments),
)


def offered(body: dict[str, Any]) -> list[Tool]:
    """The function tools a request offers: Messages' ``input_schema``, Responses' flat
    ``parameters``, Chat's and Ollama's ``function`` object. Hosted and namespace tools have no
    schema of their own and are not offered to the script."""
    tools: list[Tool] = []
    for tool in body.get("tools") or ():
        function = tool.get("function") or tool
        schema = function.get("input_schema") or function.get("parameters")
        if isinstance(function.get("name"), str) and isinstance(schema, dict):
            tools.append((function["name"], schema))
    return tools


def _call(step: _Step, subject: str, tools: list[Tool]) -> Call | None:
    for name, schema in tools:
        if (arguments := step.arguments(schema, subject)) is not None:
            return Call(f"swb_{step.name}", name, arguments)
    return None


def decide(body: dict[str, Any]) -> Decision:
    text = json.dumps(body)
    tools = offered(body) if body.get("tool_choice") not in ("none", {"type": "none"}) else []
    asked = [(step, subject) for step in STEPS if (subject := step.wanted(text)) is not None]
    for step, subject in asked:
        if step.sentinel in text:
            continue
        if f"swb_{step.name}" in text:  # called once and its output did not come back: say so, not loop
            return Say(f"The {step.name} tool ran but {step.sentinel} is not in its output.")
        if (call := _call(step, subject, tools)) is not None:
            return call
    if not asked:
        return Say(PLAIN)
    return Say("Done: " + ", ".join(step.sentinel for step, _ in asked if step.sentinel in text) + ".")
