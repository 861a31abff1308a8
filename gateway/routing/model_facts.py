"""Facts about models (family, context window, capabilities) from the bundled table
``model_facts.toml``, with what a provider's own list says taking precedence."""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from functools import cache
from importlib import resources

from gateway.core.models import ModelEntry, ModelFacts

# Unknown models: what VS Code Copilot Chat assumes itself, and tool use, which most chat
# models served today have.
UNKNOWN = ModelFacts("switchboard", 32768, ("completion", "tools"))


@cache
def _table() -> tuple[tuple[tuple[str, ...], ModelFacts], ...]:
    text = resources.files(__package__).joinpath("model_facts.toml").read_text(encoding="utf-8")
    rows = tomllib.loads(text)["model"]
    return tuple(
        (tuple(row["match"]), ModelFacts(row["family"], int(row["context"]), tuple(row["capabilities"])))
        for row in rows
    )


@functools.lru_cache(maxsize=4096)  # model lists are asked for often and change rarely
def facts_for(entry: ModelEntry) -> ModelFacts:
    name = entry.upstream_id.lower().rsplit("/", 1)[-1]
    found = next((facts for patterns, facts in _table() if any(fnmatch.fnmatchcase(name, p) for p in patterns)), UNKNOWN)
    if entry.context_length:
        return ModelFacts(found.family, entry.context_length, found.capabilities)
    return found
