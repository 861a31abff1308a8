"""Every provider's models, and how a requested name becomes a provider and upstream model.

Names are ``provider/model``. A model id may itself hold a slash (``openrouter/anthropic/claude``):
only the part before the first slash is read as a provider, and only when it names one. A bare
name goes to every provider that lists it, in configuration order (the first serves, the others
are its fallbacks); Ollama clients may add the default tag ``:latest`` to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.core.models import ModelEntry, Target
from gateway.formats.common.fields import model_name
from gateway.formats.common.jsonbody import BodyError


def _servable(entry: ModelEntry) -> bool:
    try:
        model_name(entry.id, "model")
    except BodyError:
        return False
    return True


MAX_REMEMBERED = 4096


class ModelIndex:
    def __init__(self, provider_ids: Sequence[str]) -> None:
        self._order = tuple(provider_ids)
        self._lists: dict[str, tuple[ModelEntry, ...]] = {}
        self._by_id: dict[str, ModelEntry] = {}
        self._bare: dict[str, tuple[ModelEntry, ...]] = {}
        # Resolutions are remembered (Targets are immutable): the same few names arrive all day.
        self._resolved: dict[str, tuple[Target, ...]] = {}
        self.version = 0  # changes whenever a list does, so what is derived from them can be redone

    def set_models(self, provider_id: str, entries: Iterable[ModelEntry]) -> None:
        self._lists[provider_id] = tuple(e for e in entries if _servable(e))
        self._rebuild()

    def drop(self, provider_id: str) -> None:
        """Forget a provider's list: it has none again."""
        if self._lists.pop(provider_id, None) is not None:
            self._rebuild()

    def _rebuild(self) -> None:
        by_id: dict[str, ModelEntry] = {}
        bare: dict[str, tuple[ModelEntry, ...]] = {}
        for pid in self._order:
            for entry in self._lists.get(pid, ()):
                by_id[entry.id] = entry
                bare[entry.upstream_id] = (*bare.get(entry.upstream_id, ()), entry)
        self._by_id, self._bare = by_id, bare
        self._resolved = {}
        self.version += 1

    def has_list(self, provider_id: str) -> bool:
        return provider_id in self._lists

    def entries(self) -> list[ModelEntry]:
        return list(self._by_id.values())

    def get(self, model_id: str) -> ModelEntry | None:
        return self._by_id.get(model_id)

    def resolve(self, name: str) -> Target | None:
        """Where a name goes first; None when no provider serves it."""
        targets = self.resolve_all(name)
        return targets[0] if targets else None

    def resolve_all(self, name: str) -> tuple[Target, ...]:
        """Every provider and upstream name that can serve a name, first choice first."""
        targets = self._resolved.get(name)
        if targets is not None:
            return targets
        provider, sep, rest = name.partition("/")
        if sep and rest and provider in self._order:
            untagged = rest.removesuffix(":latest")
            if untagged != rest and name not in self._by_id and f"{provider}/{untagged}" in self._by_id:
                rest = untagged
            targets = (Target(provider, rest),)
        elif entries := self._bare.get(name) or self._bare.get(name.removesuffix(":latest")):
            targets = tuple(Target(entry.provider, entry.upstream_id) for entry in entries)
        else:
            return ()
        if len(self._resolved) >= MAX_REMEMBERED:
            self._resolved.clear()  # names come from clients: keep the memory bounded
        self._resolved[name] = targets
        return targets
