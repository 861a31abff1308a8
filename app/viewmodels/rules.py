"""Model rules as the Model rules page shows and changes them: the words for each, and the new
list an action makes (added, replaced, removed, moved), so the page sends the whole list, in order,
to the gateway, which writes it as one edit."""

from __future__ import annotations

from collections.abc import Sequence

from gateway import ModelRow, RuleDoc, rule_doc

DEFAULT = "default"
CLAUDE_CODE = "claude-*"  # every model name Claude Code asks for (claude-opus-…, claude-haiku-…)
KINDS = {"alias": "Exact name", "glob": "Pattern", "default": "Any other name"}
# Claude Code's kinds of request, recognised by the gateway and routed by a rule of that name.
CLAUDE_CODE_SLOTS = {
    "claude-code:main": "Claude Code's session",
    "claude-code:subagent": "Claude Code's sub-agents",
    "claude-code:opus": "Claude Code asking for Opus",
    "claude-code:sonnet": "Claude Code asking for Sonnet",
    "claude-code:haiku": "Claude Code asking for Haiku",
}


def kind_words(rule: RuleDoc) -> str:
    return CLAUDE_CODE_SLOTS.get(rule["name"], KINDS[rule["kind"]])


def serves_words(rule: RuleDoc) -> str:
    """``a/b, then c/d``: the routes in the order they are tried."""
    return ", then ".join(rule["routes"])


def route_choices(rows: Sequence[ModelRow]) -> list[str]:
    """The models a rule may send to: each provider's own (provider/model), not aliases nor auto,
    and not those that only make embeddings."""
    return [r["id"] for r in rows if r["kind"] == "model" and r["capabilities"] != ["embedding"]]


def with_rule(rules: Sequence[RuleDoc], rule: RuleDoc, at: int | None = None) -> list[RuleDoc]:
    """``rule`` put in place of the one at ``at``, or of the one with its name, or else last."""
    out = list(rules)
    if at is None:
        at = next((n for n, r in enumerate(out) if r["name"] == rule["name"]), None)
    if at is None:
        out.append(rule)
    else:
        out[at] = rule
    return out


def without(rules: Sequence[RuleDoc], at: int) -> list[RuleDoc]:
    return [r for n, r in enumerate(rules) if n != at]


def moved(rules: Sequence[RuleDoc], at: int, step: int) -> list[RuleDoc] | None:
    """The rule at ``at`` one place up (``step`` -1) or down (+1); None where it cannot go."""
    to = at + step
    if not (0 <= at < len(rules) and 0 <= to < len(rules)):
        return None
    out = list(rules)
    out[at], out[to] = out[to], out[at]
    return out


def default_of(rules: Sequence[RuleDoc]) -> str | None:
    """The first model the ``default`` rule sends to (what the page's Default model shows)."""
    rule = next((r for r in rules if r["kind"] == "default"), None)
    return rule["routes"][0] if rule is not None and rule["routes"] else None


def with_default(rules: Sequence[RuleDoc], model: str | None) -> list[RuleDoc]:
    """The default rule set to ``model`` (the rest of its chain kept after it), or, None, removed."""
    at = next((n for n, r in enumerate(rules) if r["kind"] == "default"), None)
    if model is None:
        return list(rules) if at is None else without(rules, at)
    rest = [r for r in rules[at]["routes"] if r != model] if at is not None else []
    return with_rule(rules, rule_doc(DEFAULT, [model, *rest]), at)


def enforce_choices(rules: Sequence[RuleDoc], models: Sequence[str]) -> list[str]:
    """What "Always use" offers: Switchboard's own choices, the rules with exact names, the models."""
    named = [r["name"] for r in rules if r["kind"] == "alias"]
    return ["auto", "auto:fast", "auto:local", *named, *models]


def saved_words(rule: RuleDoc) -> str:
    if rule["kind"] == "default":
        return f"Any name nothing else serves now goes to {serves_words(rule)}."
    if rule["kind"] == "glob":
        return f"Names like “{rule['name']}” now go to {serves_words(rule)}."
    return f"“{rule['name']}” now goes to {serves_words(rule)}."
