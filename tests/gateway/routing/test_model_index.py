from __future__ import annotations

from gateway.core.models import ModelEntry, Target
from gateway.routing.model_index import ModelIndex


def index() -> ModelIndex:
    idx = ModelIndex(["openai", "openrouter", "ollama"])
    idx.set_models("openrouter", [ModelEntry("openrouter", "openai/gpt-4o"), ModelEntry("openrouter", "gpt-4o")])
    idx.set_models("openai", [ModelEntry("openai", "gpt-4o"), ModelEntry("openai", "bad name with spaces")])
    return idx


def test_prefixed_names_go_to_that_provider_even_unlisted() -> None:
    assert index().resolve("openai/gpt-9") == Target("openai", "gpt-9")
    assert index().resolve("openrouter/anthropic/claude-3.5") == Target("openrouter", "anthropic/claude-3.5")


def test_bare_names_go_to_the_first_provider_in_order() -> None:
    assert index().resolve("gpt-4o") == Target("openai", "gpt-4o")


def test_bare_names_fall_back_to_every_other_provider_listing_them() -> None:
    assert index().resolve_all("gpt-4o") == (Target("openai", "gpt-4o"), Target("openrouter", "gpt-4o"))
    assert index().resolve_all("openai/gpt-4o") == (Target("openai", "gpt-4o"),)  # a pinned provider stays pinned
    assert index().resolve_all("nope") == ()


def test_names_whose_prefix_is_not_a_provider_are_bare() -> None:
    assert index().resolve("anthropic/claude") is None
    idx = index()
    idx.set_models("ollama", [ModelEntry("ollama", "library/llama3")])
    assert idx.resolve("library/llama3") == Target("ollama", "library/llama3")


def test_listing_is_the_union_in_provider_order_without_unservable_ids() -> None:
    assert [e.id for e in index().entries()] == ["openai/gpt-4o", "openrouter/openai/gpt-4o", "openrouter/gpt-4o"]


def test_unknown_names() -> None:
    assert index().resolve("nope") is None
    assert index().resolve("openai/") is None


def test_ollama_clients_may_add_the_latest_tag() -> None:
    index = ModelIndex(["openai", "ollama"])
    index.set_models("openai", [ModelEntry("openai", "gpt-4o")])
    index.set_models("ollama", [ModelEntry("ollama", "llama3:latest")])
    assert index.resolve("gpt-4o:latest") == Target("openai", "gpt-4o")
    assert index.resolve("openai/gpt-4o:latest") == Target("openai", "gpt-4o")
    assert index.resolve("ollama/llama3:latest") == Target("ollama", "llama3:latest")  # a real tag is kept
