"""Model rules: the ``[aliases]`` entries that say which routes a requested name stands for.

A key is an exact name (``coding``), a glob matched against the whole name as asked, case-sensitive
like model ids (``claude-*``, ``*-haiku-*``), or ``default``, for any name nothing else serves. An
exact name wins over a glob, then globs in file order. The globs are compiled into one pattern
when the rules are built (at config load), and a name's match is remembered, so a request pays one
dictionary lookup however many rules there are.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from gateway.formats.anthropic import claude_code

DEFAULT = "default"
GLOB_CHARS = frozenset("*?[")
MAX_REMEMBERED = 4096  # names come from clients: keep the remembered matches bounded


def is_glob(key: str) -> bool:
    return not GLOB_CHARS.isdisjoint(key)


@dataclass(frozen=True, slots=True)
class Rule:
    key: str
    chain: tuple[str, ...]  # "provider/model" routes, in the order to try them
    kind: Literal["alias", "glob", "default"]

    @property
    def fired(self) -> str:
        """The rule as ``decide`` names it: ``alias "coding"``, ``glob "claude-*"``, ``default``,
        ``Claude Code slot "claude-code:subagent"``."""
        if self.kind == "alias" and self.key.startswith(claude_code.PREFIX):
            return f'Claude Code slot "{self.key}"'
        return DEFAULT if self.kind == "default" else f'{self.kind} "{self.key}"'


class Rules:
    def __init__(self, aliases: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        every = tuple(
            Rule(key, chain, "glob" if is_glob(key) else "default" if key == DEFAULT else "alias")
            for key, chain in aliases
        )
        exact = {rule.key: rule for rule in every if rule.kind != "glob"}
        globs = [rule for rule in every if rule.kind == "glob"]
        self.every = every  # in file order
        self.exact = exact
        self.globs = tuple(globs)
        self.default = exact.get(DEFAULT)
        # One alternation, tried in file order; each glob's group is named by its position.
        joined = "|".join(f"(?P<r{i}>{fnmatch.translate(rule.key)})" for i, rule in enumerate(globs))
        self._pattern = re.compile(joined) if globs else None
        self._matched: dict[str, Rule | None] = {}

    def match(self, name: str) -> Rule | None:
        """The exact alias for ``name``, else the first glob it matches; None for neither."""
        rule = self.exact.get(name)
        if rule is not None or self._pattern is None:
            return rule
        matched = self._matched
        if name in matched:
            return matched[name]
        found = self._pattern.match(name)
        rule = self.globs[int(found.lastgroup[1:])] if found is not None and found.lastgroup else None
        if len(matched) >= MAX_REMEMBERED:
            matched.clear()
        matched[name] = rule
        return rule
