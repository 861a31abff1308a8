"""Each answered request's cost in dollars (issue 23 point 6): list prices from the bundled table,
a provider's own list (OpenRouter's) and the config's [models] cost, in rising precedence; cached
input at its published price or the family's share; reasoning counted as output; subscription
and local routes cost 0 and keep what the tokens would have cost at list price."""

from __future__ import annotations

import pytest

from gateway.config.settings import ModelOverride
from gateway.core.models import ModelEntry
from gateway.core.usage import Usage
from gateway.formats.anthropic.usage import usage_from as anthropic_usage
from gateway.routing.model_index import ModelIndex
from gateway.routing.pricing import Price, Pricing, cost_of, price_of

MILLION = 1_000_000


def test_a_metered_route_costs_its_list_price_from_the_table() -> None:
    price = Pricing().of("openai", "gpt-4.1")
    assert price == Price(2.00, 8.00, 0.50)  # the row's published cached price
    assert cost_of(price, Usage(MILLION, MILLION // 2)) == (6.0, 6.0, False)


def test_openais_embedding_models_have_their_list_price() -> None:
    small = Pricing().of("openai", "text-embedding-3-small")
    assert small is not None and (small.input, small.output) == (0.02, 0.0)
    assert cost_of(small, Usage(MILLION, 0)) == (0.02, 0.02, False)
    assert Pricing().of("ollama", "nomic-embed-text") is None  # no price known for the generic row


def test_cached_input_costs_its_published_price_or_the_familys_share() -> None:
    usage = Usage(MILLION, 0, cached_tokens=800_000)
    gpt5 = Pricing().of("openai", "gpt-5")  # $1.25 input, $0.125 cached
    assert cost_of(gpt5, usage)[0] == pytest.approx(0.2 * 1.25 + 0.8 * 0.125)
    sonnet = Pricing().of("anthropic", "claude-sonnet-4-5")  # no cached price in the row: claude's 0.1
    assert sonnet is not None and sonnet.cached == pytest.approx(0.30)
    mistral = Pricing().of("mistral", "mistral-large-latest")  # no discount known: full input price
    assert mistral is not None and mistral.cached == mistral.input


def test_input_written_to_anthropics_prompt_cache_costs_a_quarter_more() -> None:
    sonnet = Pricing().of("anthropic", "claude-sonnet-4-5")  # $3 input, $0.30 cache read, $3.75 cache write
    usage = Usage(MILLION, 0, cached_tokens=500_000, cache_write_tokens=400_000)
    assert cost_of(sonnet, usage)[0] == pytest.approx(0.1 * 3 + 0.5 * 0.3 + 0.4 * 3.75)
    gpt = Pricing().of("openai", "gpt-4.1")  # OpenAI writes its cache for free: as other input
    assert cost_of(gpt, Usage(MILLION, 0, cache_write_tokens=MILLION))[0] == pytest.approx(2.0)


def test_reasoning_tokens_are_output_tokens() -> None:
    price = Price(1.0, 10.0, 0.1)
    plain = cost_of(price, Usage(0, 1000))[0]
    assert cost_of(price, Usage(0, 1000, reasoning_tokens=900))[0] == plain == pytest.approx(0.01)


def test_the_configs_cost_overrides_the_table_and_prices_cached_input_by_share() -> None:
    pricing = Pricing(overrides={"openai/gpt-4.1": ModelOverride(cost=(4.0, 16.0))})
    assert pricing.of("openai", "gpt-4.1") == Price(4.0, 16.0, 2.0)  # gpt's share, not the table's $0.50
    assert pricing.of("other/gpt-4.1", "x") is None  # an unknown name on a metered route


def test_a_providers_own_listed_price_beats_the_table() -> None:
    index = ModelIndex(["openrouter"])
    listed = ModelEntry("openrouter", "anthropic/claude-sonnet-4.5", cost=(2.5, 12.0))
    index.set_models("openrouter", [listed])
    pricing = Pricing(index)
    assert pricing.of("openrouter", "anthropic/claude-sonnet-4.5") == Price(
        2.5, 12.0, 0.25, written=3.125, written_hour=5.0
    )
    index.set_models("openrouter", [ModelEntry("openrouter", "anthropic/claude-sonnet-4.5", cost=(3.0, 15.0))])
    again = pricing.of("openrouter", "anthropic/claude-sonnet-4.5")  # a new list: its new price
    assert again is not None and again.input == 3.0 and again.cached == pytest.approx(0.3)


def test_subscription_and_local_routes_cost_nothing_and_keep_the_list_price() -> None:
    pricing = Pricing(free=["codex", "ollama"])
    usage = Usage(MILLION, MILLION)
    cost, list_cost, unpriced = cost_of(pricing.of("codex", "gpt-5"), usage)
    assert cost == 0.0 and list_cost == pytest.approx(11.25) and not unpriced
    # A local model with no list price: free, and nothing to compare with, but not unpriced.
    assert cost_of(pricing.of("ollama", "llama3.2:3b"), usage) == (0.0, 0.0, False)


def test_tokens_on_a_route_of_unknown_price_are_marked_unpriced() -> None:
    assert price_of(ModelEntry("acme", "mystery-model"), None, billed=True) is None
    assert cost_of(None, Usage(10, 5)) == (0.0, 0.0, True)
    assert cost_of(None, Usage(0, 0)) == (0.0, 0.0, False)  # nothing used: nothing to price
    assert cost_of(None, None) == (0.0, 0.0, False)


def test_a_routes_price_is_worked_out_once() -> None:
    pricing = Pricing()
    assert pricing.of("openai", "gpt-5") is pricing.of("openai", "gpt-5")


def test_input_written_to_anthropics_cache_for_an_hour_costs_twice_the_input_price() -> None:
    """Claude Code writes part of its prompt to the one-hour cache; Anthropic says those tokens
    apart (cache_creation.ephemeral_1h_input_tokens, within cache_creation_input_tokens) and bills
    them at twice the input price, the five-minute ones at a quarter more."""
    raw = {
        "input_tokens": 100_000, "output_tokens": 0, "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 900_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 300_000, "ephemeral_1h_input_tokens": 600_000},
    }  # fmt: skip
    usage = anthropic_usage(raw)
    assert usage is not None and (usage.prompt_tokens, usage.cache_write_tokens) == (MILLION, 900_000)
    sonnet = Pricing().of("anthropic", "claude-sonnet-4-5")  # $3 input: $3.75 for five minutes, $6 for an hour
    assert cost_of(sonnet, usage)[0] == pytest.approx(0.1 * 3 + 0.3 * 3.75 + 0.6 * 6)
    gpt = Pricing().of("openai", "gpt-4.1")  # no such cache: as other input
    assert cost_of(gpt, Usage(MILLION, 0, cache_write_tokens=MILLION, cache_write_hour_tokens=MILLION))[0] == 2.0
