"""Facts about models (family, context window, output cap, capabilities, rating, cost) from the
bundled table ``model_facts.toml``, with what a provider's own model list says — the startup
probe — taking precedence."""

from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from dataclasses import replace
from functools import cache
from importlib import resources

from gateway.core.models import ModelEntry, ModelFacts

# Unknown models: what VS Code Copilot Chat assumes itself, and tool use, which most chat
# models served today have.
UNKNOWN = ModelFacts("switchboard", 32768, ("completion", "tools"))

_SIZE = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)b(?![a-z])")
_RATING_BY_SIZE = ((2.0, 1), (9.0, 2), (100.0, 3))  # billions of parameters below which, rating


@cache
def _table() -> tuple[tuple[tuple[str, ...], ModelFacts], ...]:
    text = resources.files(__package__).joinpath("model_facts.toml").read_text(encoding="utf-8")
    rows = tomllib.loads(text)["model"]
    return tuple(
        (
            tuple(row["match"]),
            ModelFacts(
                row["family"],
                int(row["context"]),
                tuple(row["capabilities"]),
                output=int(row.get("output", 0)),
                rating=int(row.get("rating", 0)),
                cost=(float(row["cost"][0]), float(row["cost"][1])) if "cost" in row else None,
                reasons=bool(row.get("reasons", False)),
                cached=float(row["cached"]) if "cached" in row else None,
                efforts=tuple(row.get("efforts", ())),
            ),
        )
        for row in rows
    )


def rating_by_size(name: str) -> int:
    """A rating from the parameter count in a model's name (``llama3.2:3b``, ``qwen-2.5-72b``);
    0 when the name has none."""
    found = _SIZE.search(name)
    if found is None:
        return 0
    size = float(found.group(1))
    return next((rating for below, rating in _RATING_BY_SIZE if size < below), 4)


def thinking_known(facts: ModelFacts) -> bool:
    """Whether ``facts`` say if the model thinks: the table knows the model, or its provider's list
    said what it can do (an unknown model takes whatever effort it is sent)."""
    return facts.family != UNKNOWN.family or facts.capabilities != UNKNOWN.capabilities


@functools.lru_cache(maxsize=4096)  # model lists are asked for often and change rarely
def facts_for(entry: ModelEntry) -> ModelFacts:
    name = entry.upstream_id.lower().rsplit("/", 1)[-1]
    found = next(
        (facts for patterns, facts in _table() if any(fnmatch.fnmatchcase(name, p) for p in patterns)), UNKNOWN
    )
    if "embedding" not in found.capabilities and (by_size := rating_by_size(name)):
        # A size in the name bounds what the family's row says: a 14b distill of a frontier
        # model is not the frontier model.
        found = replace(found, rating=min(found.rating, by_size) if found.rating else by_size)
    if entry.context_length:
        found = replace(found, context_length=entry.context_length)
    if entry.output:
        found = replace(found, output=entry.output)
    if entry.capabilities is not None:
        found = replace(found, capabilities=entry.capabilities)
    if entry.cost is not None:
        found = replace(found, cost=entry.cost, cached=None)  # the table's cached price goes with its own
    return found
