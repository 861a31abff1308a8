"""Usage as OpenAI-compatible upstreams really report it, read so that pricing is right: DeepSeek
says its cache hits in ``prompt_cache_hit_tokens`` (not ``prompt_tokens_details``), and some
servers (Gemini's OpenAI-compatible endpoint, proxies translating Gemini) leave the reasoning out
of ``completion_tokens`` while ``total_tokens`` counts it; OpenAI's own reasoning is in
``completion_tokens`` already and must not be counted twice."""

from __future__ import annotations

import pytest

from gateway.core.usage import Usage
from gateway.formats import openai_chat
from gateway.routing.pricing import Pricing


def test_deepseeks_cache_hits_are_cached_input_and_cost_the_cached_price() -> None:
    raw = {
        "prompt_tokens": 1000, "completion_tokens": 10, "total_tokens": 1010,
        "prompt_cache_hit_tokens": 800, "prompt_cache_miss_tokens": 200,
    }  # fmt: skip
    usage = openai_chat.usage_from(raw)
    assert usage == Usage(1000, 10, cached_tokens=800)
    price = Pricing().of("deepseek", "deepseek-chat")
    assert price is not None and price.dollars(usage) < price.dollars(Usage(1000, 10))
    # Where both are said, OpenAI's field is the one read.
    both = {**raw, "prompt_tokens_details": {"cached_tokens": 640}}
    assert openai_chat.usage_from(both) == Usage(1000, 10, cached_tokens=640)


def test_reasoning_left_out_of_completion_tokens_is_put_back_by_the_total() -> None:
    raw = {
        "prompt_tokens": 21,
        "completion_tokens": 0,
        "total_tokens": 81,
        "completion_tokens_details": {"reasoning_tokens": 60},
    }
    assert openai_chat.usage_from(raw) == Usage(21, 60, reasoning_tokens=60)


@pytest.mark.parametrize("total", [80, None, 200])
def test_openais_reasoning_is_within_completion_tokens_and_counted_once(total: int | None) -> None:
    raw = {"prompt_tokens": 10, "completion_tokens": 70, "completion_tokens_details": {"reasoning_tokens": 60}}
    if total is not None:
        raw["total_tokens"] = total  # a total that does not add up otherwise changes nothing
    assert openai_chat.usage_from(raw) == Usage(10, 70, reasoning_tokens=60)
