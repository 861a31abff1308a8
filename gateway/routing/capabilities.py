"""What each route's model can do and costs: the bundled facts, what the provider's model list
said, and the config's overrides, in rising precedence. Models of local servers cost nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from gateway.config.settings import ModelOverride
from gateway.core.models import ModelEntry, ModelFacts, Target
from gateway.formats.common.effort_suffix import EFFORTS, TAKEN, Fit
from gateway.routing.model_facts import facts_for, thinking_known
from gateway.routing.model_index import ModelIndex

FREE = (0.0, 0.0)
MAX_REMEMBERED = 4096


class Capabilities:
    def __init__(self, index: ModelIndex, overrides: Mapping[str, ModelOverride], local: Iterable[str]) -> None:
        self._index = index
        self._overrides = dict(overrides)
        self._local = frozenset(local)
        self._known: dict[Target, ModelFacts] = {}
        self._version = index.version

    def of(self, target: Target) -> ModelFacts:
        if self._version != self._index.version:  # new lists may state new context windows
            self._known.clear()
            self._version = self._index.version
        facts = self._known.get(target)
        if facts is not None:
            return facts
        model_id = f"{target.provider}/{target.upstream_model}"
        facts = facts_for(self._index.get(model_id) or ModelEntry(target.provider, target.upstream_model))
        if target.provider in self._local:
            facts = replace(facts, cost=FREE)
        override = self._overrides.get(model_id)
        if override is not None:
            facts = replace(
                facts,
                context_length=override.context or facts.context_length,
                output=override.output or facts.output,
                rating=override.rating or facts.rating,
                cost=override.cost or facts.cost,
                capabilities=override.capabilities or facts.capabilities,
                reasons=facts.reasons if override.reasons is None else override.reasons,
            )
        if len(self._known) >= MAX_REMEMBERED:
            self._known.clear()
        self._known[target] = facts
        return facts

    def fit(self, target: Target) -> Fit:
        """What the route's model takes of reasoning effort and thinking budgets; a model not
        known takes any effort, its budget only kept within bounds."""
        facts = self.of(target)
        if not thinking_known(facts):
            return Fit(True, EFFORTS, facts.output)
        return Fit("thinking" in facts.capabilities, facts.efforts or TAKEN, facts.output)
