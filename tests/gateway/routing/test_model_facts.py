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


def test_what_a_providers_list_says_beats_the_table() -> None:
    from gateway.formats.openai.models import parse_model_list

    listed = b"""{"data": [
      {"id": "anthropic/claude-sonnet-4.5", "context_length": 1000000,
       "architecture": {"input_modalities": ["text", "image"]},
       "supported_parameters": ["tools", "reasoning", "max_tokens"],
       "pricing": {"prompt": "0.000003", "completion": "0.000015"},
       "top_provider": {"max_completion_tokens": 64000}},
      {"id": "some/text-only-model", "architecture": {"input_modalities": ["text"]},
       "supported_parameters": ["max_tokens"],
       "pricing": {"prompt": "-1", "completion": "-1"}}
    ]}"""
    claude, text_only = (facts_for(e) for e in parse_model_list(listed, "openrouter"))
    assert (claude.context_length, claude.output, claude.cost) == (1000000, 64000, (3.0, 15.0))
    assert claude.capabilities == ("completion", "tools", "vision", "thinking") and claude.rating == 5
    assert text_only.capabilities == ("completion",) and text_only.cost is None
