"""Claude Code's kinds of request — its slots — recognised where Claude Code marks them, so that one
model rule each (``[aliases] "claude-code:haiku" = [...]``) routes them:

- ``claude-code:subagent``: a Task agent's turn; its system prompt opens "You are an agent for
  Claude Code".
- ``claude-code:main``: the session's own turns; the system prompt opens "You are Claude Code".
- ``claude-code:opus`` / ``:sonnet`` / ``:haiku``: by the family of the model asked for (Claude
  Code's small, fast requests — titles, topic checks — ask for Haiku and carry no system marker).

A request is Claude Code's when its ``anthropic-beta`` header names ``claude-code-…`` (Claude Code
sends it on every request) or its system prompt bears one of the markers above. The most specific
slot comes first; the caller routes by the first one a rule names.
"""

from __future__ import annotations

from typing import Any

from gateway.formats.anthropic.checks import MessagesCall, parse_request

PREFIX = "claude-code:"
SUBAGENT, MAIN = PREFIX + "subagent", PREFIX + "main"
_AGENT_MARK = "You are an agent for Claude Code"
_MAIN_MARK = "You are Claude Code"
_FAMILIES = ("opus", "sonnet", "haiku")
_LOOKED_AT = 3  # system blocks read for a marker: a billing line may come before the prompt
_BETA = "claude-code-20250219"  # what Claude Code names in its anthropic-beta header


def slots(call: MessagesCall) -> tuple[str, ...]:
    """The call's slots, most specific first; () for a request that is not Claude Code's."""
    marks = _marks(call.body.get("system"))
    if not marks and (call.beta is None or "claude-code-" not in call.beta):
        return ()
    model = call.model.lower()
    family = next((PREFIX + f for f in _FAMILIES if f in model), None)
    return (*marks, *((family,) if family else ()))


def _marks(system: Any) -> tuple[str, ...]:
    texts: list[Any] = [system] if isinstance(system, str) else []
    if isinstance(system, list):
        texts = [b.get("text") for b in system[:_LOOKED_AT] if isinstance(b, dict)]
    opened = [t for t in texts if isinstance(t, str)]
    found = ((SUBAGENT, _AGENT_MARK), (MAIN, _MAIN_MARK))
    return tuple(slot for slot, mark in found if any(t.startswith(mark) for t in opened))


def sent(model: str, prompt: str, kind: str) -> MessagesCall:
    """A request as Claude Code sends it (for a dry run): a ``main`` turn, a ``subagent``'s, or
    ``other`` (its small requests, a title or a topic check, which carry no system marker)."""
    body: dict[str, Any] = {"model": model, "max_tokens": 1024, "messages": [{"role": "user", "content": prompt}]}
    mark = {"main": _MAIN_MARK, "subagent": _AGENT_MARK}.get(kind)
    if mark is not None:
        body["system"] = f"{mark}, Anthropic's official CLI for Claude."
    return parse_request(body, version="2023-06-01", beta=_BETA)
