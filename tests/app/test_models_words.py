"""The Models page's words, without Qt: context, price, state and route as a person reads them."""

from __future__ import annotations

from typing import Any

from app.try_chat import Tried
from app.viewmodels.models import (
    chat_models,
    context_words,
    found,
    price_words,
    route_words,
    state_words,
    tried_words,
)
from gateway import ModelRow


def row(**changes: Any) -> ModelRow:
    base: ModelRow = {
        "id": "openai/gpt-4o-mini",
        "kind": "model",
        "provider": "openai",
        "provider_name": "OpenAI",
        "leads_to": [],
        "context": 128000,
        "output": 16384,
        "capabilities": ["tools", "vision"],
        "billing": "metered",
        "input_price": 0.15,
        "output_price": 0.6,
        "state": "ready",
        "reason": None,
        "seconds_left": None,
    }
    return {**base, **changes}  # type: ignore[typeddict-item]


def test_context_is_spoken_as_models_are() -> None:
    assert [context_words(n) for n in (0, 512, 8192, 128000, 1_000_000, 1_048_576, 2_500_000)] == [
        "",
        "512",
        "8K",
        "128K",
        "1M",
        "1.0M",
        "2.5M",
    ]


def test_price_per_million_or_what_is_paid_otherwise() -> None:
    assert price_words(row()) == "$0.15 in, $0.60 out"
    assert price_words(row(input_price=0.005, output_price=0.0)) == "$0.005 in, $0 out"
    assert price_words(row(billing="local", input_price=None)) == "free (your server)"
    assert price_words(row(billing="subscription", input_price=None)) == "subscription"
    assert price_words(row(input_price=None, output_price=None)) == "not known"
    assert price_words(row(kind="auto", provider="switchboard")) == "cheapest that fits"


def test_state_in_words_never_a_code() -> None:
    assert state_words(row()) == "Ready"
    resting = row(state="resting", reason="quota_exhausted", seconds_left=7300.0)
    assert state_words(resting) == "Resting: its quota is used up (for 2 h 1 min more)"
    assert state_words(row(state="resting", reason="rate_limited")) == "Resting: too many requests just now"
    assert state_words(row(state="failing", reason="openai: the server is overloaded")) == (
        "Failed last time: openai: the server is overloaded"
    )
    assert state_words(row(state="unavailable")) == "No key or account"


def test_search_and_what_try_it_offers() -> None:
    rows = [
        row(),
        row(id="ollama/qwen3:8b", provider_name="Ollama", billing="local"),
        row(id="e", capabilities=["embedding"]),
        row(id="claude-*", kind="rule"),
    ]
    assert [r["id"] for r in found(rows, "  FREE qwen ")] == ["ollama/qwen3:8b"]
    assert [r["id"] for r in found(rows, "images openai")] == ["openai/gpt-4o-mini"]
    assert found(rows, "") == rows
    assert chat_models(rows) == ["openai/gpt-4o-mini", "ollama/qwen3:8b"]


def test_what_a_test_message_proved() -> None:
    assert route_words("openai/gpt-4o; key=env; risk=subscription-terms") == "openai/gpt-4o (key “env”)"
    assert route_words("codex/gpt-5; key=codex:ada@example.com") == "codex/gpt-5 (account “ada@example.com”)"
    assert route_words("cache; first served by openai/gpt-4o; key=env").startswith("a saved answer")
    tried = Tried("quick", "gpt-4o-2024", "openai/gpt-4o; key=work", 1200, 34, 1.234, "Hi")
    assert tried_words(tried) == "Answered through openai/gpt-4o (key “work”) in 1.2 s: 1,200 tokens in, 34 out."
    assert tried_words(Tried("m", "m-1", "", 1, 2, 0.5, "")).startswith("Answered through m-1 in 0.5 s")
