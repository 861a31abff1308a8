from __future__ import annotations

import pytest

from gateway.routing.pool import KeyPool


def labels(pool: KeyPool) -> list[str]:
    return [c.label for c in pool.order()]


def test_round_robin_starts_one_key_further_each_request() -> None:
    pool = KeyPool("groq", ("k1", "k2", "k3"))
    assert [labels(pool) for _ in range(4)] == [
        ["groq#1", "groq#2", "groq#3"],
        ["groq#2", "groq#3", "groq#1"],
        ["groq#3", "groq#1", "groq#2"],
        ["groq#1", "groq#2", "groq#3"],
    ]


def test_sequential_always_drains_the_first_key_first() -> None:
    pool = KeyPool("groq", ("k1", "k2"), "sequential")
    assert labels(pool) == labels(pool) == ["groq#1", "groq#2"]


def test_a_single_key_or_none_is_labelled_by_the_provider() -> None:
    assert labels(KeyPool("openai", ("sk-1",))) == ["openai"]
    (only,) = KeyPool("ollama", ()).order()
    assert only.secret is None and only.label == "ollama"


def test_secrets_stay_out_of_reprs() -> None:
    pool = KeyPool("openai", ("sk-secret-aaaa", "sk-secret-bbbb"))
    assert "sk-secret" not in repr(pool.order())


def test_unknown_rotation_is_refused() -> None:
    with pytest.raises(ValueError, match="rotation"):
        KeyPool("openai", ("k",), "random")
