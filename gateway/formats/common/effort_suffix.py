"""Effort and thinking suffixes users type on a model name — ``gpt-5(high)``,
``claude-sonnet-4-5-thinking-10000`` — taken off the name before routing and made the client
protocol's own field, so the passthrough carries it as it is and a translation carries it through
the canonical form: ``reasoning_effort`` (Chat Completions), ``reasoning.effort`` (Responses),
``thinking: {type: enabled, budget_tokens}`` (Messages), ``think`` (Ollama).

A budget is kept within bounds any thinking model takes: at least Anthropic's least (1024) and at
most 128000 (the largest answer ``model_facts.toml`` lists; the table states no thinking limit of
its own). Each route's model then takes what it can (``Fit``): an effort it does not take becomes
the nearest it does, none for a model that does not think, and the budget fits its answer's limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from gateway.core.chat import ChatRequest
from gateway.formats.anthropic.codec import EFFORT_BUDGET
from gateway.formats.interfaces import ClientCall

C = TypeVar("C", bound=ClientCall)

EFFORTS = ("minimal", "low", "medium", "high", "xhigh")  # least to most
TAKEN = ("low", "medium", "high")  # what a model that thinks takes where its facts name no efforts
MIN_BUDGET = 1024  # the least thinking budget Anthropic takes
MAX_BUDGET = 128_000  # the largest answer of any model model_facts.toml lists
_ROOM = 1024  # answer tokens kept beside the thinking budget (Messages wants max_tokens above it)
_NO_THINKING = "{} (the model does not think)"

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


@dataclass(frozen=True, slots=True)
class Fit:
    """What one route's model takes of reasoning (from its facts): whether it thinks, the efforts
    it takes, its answer's limit. A call's effort it does not take becomes the nearest it does
    (none, for a model that does not think); a thinking budget is kept within ``MIN_BUDGET`` and
    what leaves room for an answer. Each change is said in words (the dropped header, the log)."""

    thinks: bool
    efforts: tuple[str, ...] = TAKEN
    output: int = 0  # 0: not known

    def call(self, call: C) -> tuple[C, tuple[str, ...]]:
        """``call`` as the model takes it (its own protocol's field: what a passthrough sends)."""
        body, said = dict(call.body), list[str]()
        protocol = call.protocol
        if protocol == "openai-chat":
            self._effort(body, "reasoning_effort", "reasoning_effort", said)
        elif protocol == "openai-responses" and isinstance(reasoning := body.get("reasoning"), dict):
            reasoning = dict(reasoning)
            self._effort(reasoning, "effort", "reasoning.effort", said)
            body["reasoning"] = reasoning
        elif protocol == "anthropic" and isinstance(thinking := body.get("thinking"), dict):
            if not self.thinks and thinking.get("type") == "enabled":
                del body["thinking"]
                said.append(_NO_THINKING.format("thinking"))
            elif type(budget := thinking.get("budget_tokens")) is int and (fit := self._budget(budget)) != budget:
                body["thinking"] = {**thinking, "budget_tokens": fit}
                asked = body.get("max_tokens")
                if type(asked) is int and asked <= fit:  # Messages wants the answer's room above it
                    body["max_tokens"] = fit + _ROOM
                said.append(f"thinking budget {budget} as {fit}")
        elif protocol == "ollama" and not self.thinks and body.get("think") not in (None, False):
            del body["think"]
            said.append(_NO_THINKING.format("think"))
        if not said:
            return call, ()
        new: C = replace(call, body=body, source=None)  # type: ignore[type-var]
        return new, tuple(said)

    def request(self, request: ChatRequest) -> ChatRequest:
        """The canonical form as the model takes it (what a translation sends), as ``call`` does."""
        effort, budget = request.reasoning_effort, request.reasoning_budget
        if effort is not None:
            effort = self.nearest(effort)
        if budget is not None:
            budget = self._budget(budget) if self.thinks else None
        if (effort, budget) == (request.reasoning_effort, request.reasoning_budget):
            return request
        return replace(request, reasoning_effort=effort, reasoning_budget=budget)

    def nearest(self, effort: str) -> str | None:
        """The effort the model takes nearest to ``effort`` (the cheaper of two as near); None
        when it does not think. An effort not known here is left as it is."""
        if not self.thinks or not self.efforts:
            return None
        if effort in self.efforts or effort not in EFFORTS:
            return effort
        at = EFFORTS.index(effort)
        return min(self.efforts, key=lambda e: (abs(EFFORTS.index(e) - at), EFFORTS.index(e)))

    def _effort(self, holder: dict[str, Any], key: str, field: str, said: list[str]) -> None:
        effort = holder.get(key)
        if not isinstance(effort, str):
            return
        fit = self.nearest(effort)
        if fit is None:
            del holder[key]
            said.append(_NO_THINKING.format(field))
        elif fit != effort:
            holder[key] = fit
            said.append(f"{field} {effort} as {fit}")

    def _budget(self, budget: int) -> int:
        most = max(self.output - _ROOM, MIN_BUDGET) if self.output else MAX_BUDGET
        return min(max(budget, MIN_BUDGET), most)


def _effort_for(budget: int | None) -> str:
    """A thinking budget as an effort (the same thresholds as the Chat Completions codec)."""
    if budget is None or budget >= 16384:
        return "high"
    return "low" if budget < 4096 else "medium"
