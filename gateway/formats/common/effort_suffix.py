"""Effort and thinking suffixes users type on a model name — ``gpt-5(high)``,
``claude-sonnet-4-5-thinking-10000`` — taken off the name before routing and made the client
protocol's own field, so the passthrough carries it as it is and a translation carries it through
the canonical form: ``reasoning_effort`` (Chat Completions), ``reasoning.effort`` (Responses),
``thinking: {type: enabled, budget_tokens}`` (Messages), ``think`` (Ollama).

A budget is kept within bounds any thinking model takes: at least Anthropic's least (1024) and at
most 128000 (the largest answer ``model_facts.toml`` lists; the table states no thinking limit of
its own). A route's model then fits it to its own answer's limit (``fitted_budget``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TypeVar

from gateway.formats.anthropic.codec import EFFORT_BUDGET
from gateway.formats.interfaces import ClientCall

C = TypeVar("C", bound=ClientCall)

EFFORTS = ("minimal", "low", "medium", "high", "xhigh")
MIN_BUDGET = 1024  # the least thinking budget Anthropic takes
MAX_BUDGET = 128_000  # the largest answer of any model model_facts.toml lists
_ROOM = 1024  # answer tokens kept beside the thinking budget (Messages wants max_tokens above it)

_SUFFIX = re.compile(r"^(?P<base>.+?)(?:\((?P<effort>[a-z]+)\)|-thinking-(?P<budget>\d{1,9}))$")


@dataclass(frozen=True, slots=True)
class Suffix:
    model: str  # the name without its suffix, as routing sees it
    effort: str | None = None
    budget: int | None = None  # thinking tokens, within MIN_BUDGET..MAX_BUDGET


def parse(name: str) -> Suffix | None:
    """The suffix on ``name``; None when it has none (a ``(word)`` that is no effort is no suffix)."""
    if not (name.endswith(")") or "-thinking-" in name):
        return None
    found = _SUFFIX.match(name)
    if found is None:
        return None
    effort, budget = found.group("effort"), found.group("budget")
    if effort is not None:
        return Suffix(found.group("base"), effort=effort) if effort in EFFORTS else None
    return Suffix(found.group("base"), budget=min(max(int(budget), MIN_BUDGET), MAX_BUDGET))


def unsuffixed(call: C) -> C:
    """The call with its model's suffix taken off and said in its protocol's own field instead;
    the call itself when its model has none."""
    suffix = parse(call.model)
    if suffix is None:
        return call
    body = {**call.body, "model": suffix.model}
    effort, budget = suffix.effort, suffix.budget
    protocol = call.protocol
    if protocol == "openai-chat":
        body["reasoning_effort"] = effort or _effort_for(budget)
    elif protocol == "openai-responses":
        reasoning = body.get("reasoning")
        body["reasoning"] = {
            **(reasoning if isinstance(reasoning, dict) else {}),
            "effort": effort or _effort_for(budget),
        }
    elif protocol == "anthropic":
        tokens = budget or EFFORT_BUDGET[effort or "high"]
        body["thinking"] = {"type": "enabled", "budget_tokens": tokens}
        asked = body.get("max_tokens")
        body["max_tokens"] = max(asked if type(asked) is int else 0, tokens + _ROOM)
    else:  # Ollama's think: the three levels it names, else on
        level = effort or _effort_for(budget)
        body["think"] = level if level in ("low", "medium", "high") else True
    new: C = replace(call, model=suffix.model, body=body, source=None)  # type: ignore[type-var]
    return new


def fitted_budget(call: C, output: int) -> C:
    """A Messages call whose thinking budget would not leave room for an answer within a model's
    ``output`` limit, with the budget brought down to fit; any other call as it is."""
    thinking = call.body.get("thinking")
    if not isinstance(thinking, dict) or thinking.get("type") != "enabled":
        return call
    budget = thinking.get("budget_tokens")
    most = max(output - _ROOM, MIN_BUDGET)
    if type(budget) is not int or budget <= most:
        return call
    body = {**call.body, "thinking": {**thinking, "budget_tokens": most}}
    new: C = replace(call, body=body, source=None)  # type: ignore[type-var]
    return new


def _effort_for(budget: int | None) -> str:
    """A thinking budget as an effort (the same thresholds as the Chat Completions codec)."""
    if budget is None or budget >= 16384:
        return "high"
    return "low" if budget < 4096 else "medium"
