"""Model rules edited as a list (the app's Model rules page): ``[aliases]`` read in file order and
written back in a new order — globs are tried in file order, which an edit of one key cannot say —
and ``[routing] enforce_model``. A rule whose name cannot be one, or whose routes (or an enforced
model) name nothing a provider lists, is refused in words before anything is written; the rest
goes through the settings door: checked as a start reads it, applied live, audited as
``config.edited``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from gateway.admin.settings import SettingsEdit, SettingsEdits
from gateway.config.editing import Change
from gateway.errors import InvalidRequest
from gateway.pipeline.gateway import Gateway
from gateway.routing.rules import DEFAULT, is_glob
from gateway.routing.unserved import unlisted_routes

ALIASES, ROUTING, ENFORCE = "aliases", "routing", "enforce_model"
OWN_CHOICES = ("auto", "auto:fast", "auto:local")  # Switchboard's own choices: never a rule's name
_NAME_CHARS = re.compile(r"^[A-Za-z0-9._:/*?!\[\]-]{1,128}$")  # what config loading takes, in words below


class RuleDoc(TypedDict):
    name: str  # an exact name, a pattern ("claude-*") or "default"
    kind: Literal["alias", "glob", "default"]
    routes: list[str]  # "provider/model", in the order to try them


class RulesRead(TypedDict):
    rules: list[RuleDoc]  # in file order: the order globs are tried in
    enforce_model: str | None  # what serves every request whatever it names; None: what it names


def rule_doc(name: str, routes: Sequence[str]) -> RuleDoc:
    kind: Literal["alias", "glob", "default"] = "glob" if is_glob(name) else "default" if name == DEFAULT else "alias"
    return {"name": name, "kind": kind, "routes": list(routes)}


def _name_refusal(name: str) -> str | None:
    if not name:
        return "A rule needs a name or a pattern, such as claude-*."
    if name in OWN_CHOICES:
        return f"“{name}” is Switchboard's own choice of model, so it cannot be a rule's name."
    if not _NAME_CHARS.match(name) or (not is_glob(name) and name[0] in "./:-_"):
        return (
            f"“{name[:60]}” cannot be a rule's name: use letters, digits and . _ : - "
            "(and * ? or […] in a pattern), with no spaces."
        )
    if name.count("[") != name.count("]"):
        return f"“{name[:60]}” is not a pattern a name can match: each “[” needs its “]”."
    return None


class ModelRules:
    """``gateway``: the running pipeline (its providers and their model lists say what a route may
    name); ``edits``: the settings door every change is written through."""

    def __init__(self, gateway: Callable[[], Gateway], edits: SettingsEdits) -> None:
        self._gateway = gateway
        self._edits = edits

    async def _file(self) -> dict[str, Any]:
        return (await self._edits.read())["config"]

    async def read(self) -> RulesRead:
        config = await self._file()
        aliases: Mapping[str, Any] = config.get(ALIASES, {})
        enforced = config.get(ROUTING, {}).get(ENFORCE)
        return {
            "rules": [
                rule_doc(name, routes if isinstance(routes, list) else [routes]) for name, routes in aliases.items()
            ],
            "enforce_model": enforced if isinstance(enforced, str) and enforced.strip() else None,
        }

    async def save(self, rules: Sequence[RuleDoc], actor: str) -> SettingsEdit:
        """Make ``[aliases]`` these rules, in this order; refused with the reason (nothing written)
        when a name cannot be a rule's, appears twice, or a route is one no provider serves."""
        seen: set[str] = set()
        for rule in rules:
            name = rule["name"].strip()
            refusal = _name_refusal(name)
            if refusal is None and name in seen:
                refusal = f"There are two rules for “{name}”: a name can have one rule."
            if refusal is not None:
                raise InvalidRequest(refusal, param="rules")
            seen.add(name)
            self._check_routes(name, rule["routes"])
        before = list((await self._file()).get(ALIASES, {}).items())
        after = [(rule["name"].strip(), [r.strip() for r in rule["routes"]]) for rule in rules]
        return await self._edits.change(reordered(before, after), actor)

    async def enforce(self, name: str | None, actor: str) -> SettingsEdit:
        """Serve every request with ``name`` (an alias, a model or one of ``auto``'s), or, None,
        with what each asks for."""
        name = (name or "").strip() or None
        if name is not None and name not in OWN_CHOICES:
            aliases = (await self._file()).get(ALIASES, {})
            if name not in aliases and not self._serves(name):
                raise InvalidRequest(
                    f"No provider lists “{name[:80]}”, and no rule has that name, so it cannot serve every request.",
                    param=ENFORCE,
                )
        return await self._edits.change([(ROUTING, ENFORCE, name)], actor)

    def _serves(self, name: str) -> bool:
        gateway = self._gateway()
        provider = name.partition("/")[0]
        if "/" in name and provider not in {p.id for p in gateway.providers}:
            return False
        return not unlisted_routes((name,), gateway.sync.index)

    def _check_routes(self, name: str, routes: Sequence[str]) -> None:
        if not routes:
            raise InvalidRequest(f"The rule “{name}” needs a model to send its requests to.", param="rules")
        gateway = self._gateway()
        ids = {p.id for p in gateway.providers}
        for route in routes:
            provider, _, model = route.strip().partition("/")
            if not model:
                why = f"“{route[:80]}” names no provider: a rule's models are written provider/model."
            elif provider not in ids:
                why = f"There is no provider “{provider[:60]}” set up, so “{route[:80]}” cannot serve."
            elif not self._serves(route.strip()):
                why = f"{provider} does not list “{model[:80]}”, so the rule “{name}” could not use it."
            else:
                continue
            raise InvalidRequest(why, param="rules")


def reordered(before: Sequence[tuple[str, Any]], after: Sequence[tuple[str, list[str]]]) -> list[Change]:
    """The edits that turn the ``[aliases]`` table ``before`` into ``after``, order included. A
    table keeps a key where it was and adds one at its end, so a move is a removal and an
    addition: the rules ``after`` opens with that stand in ``before`` in the same order stay where
    they are (set in place, their comments kept; a rule removed between them moves none); the other
    old ones are removed and the rest of ``after`` added in order."""
    where = {name: at for at, (name, _) in enumerate(before)}
    staying, last = 0, -1
    while staying < len(after) and where.get(after[staying][0], -1) > last:
        last = where[after[staying][0]]
        staying += 1
    kept = dict(before)
    stay = {name for name, _ in after[:staying]}
    changes: list[Change] = [(ALIASES, name, routes) for name, routes in after[:staying] if kept[name] != routes]
    changes += [(ALIASES, name, None) for name, _ in before if name not in stay]
    changes += [(ALIASES, name, routes) for name, routes in after[staying:]]
    return changes
