from __future__ import annotations

from gateway.core.models import ModelEntry
from gateway.routing.model_facts import UNKNOWN, facts_for


def test_known_families_by_name_without_the_vendor_path() -> None:
    claude = facts_for(ModelEntry("openrouter", "anthropic/claude-sonnet-4.5"))
    assert (claude.family, claude.context_length) == ("claude", 200000)
    assert "vision" in claude.capabilities and "tools" in claude.capabilities
    assert facts_for(ModelEntry("openai", "gpt-4.1-mini")).context_length == 1047576
    assert facts_for(ModelEntry("openai", "text-embedding-3-small")).capabilities == ("embedding",)


def test_a_providers_own_context_window_wins_and_unknown_models_get_the_defaults() -> None:
    assert facts_for(ModelEntry("groq", "llama-3.3-70b-versatile", context_length=32768)).context_length == 32768
    assert facts_for(ModelEntry("x", "something-new")) == UNKNOWN
