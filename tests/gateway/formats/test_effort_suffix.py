"""Effort and thinking suffixes on model names, made each client protocol's own field."""

from __future__ import annotations

import pytest

from gateway.formats.anthropic.checks import parse_request as parse_messages
from gateway.formats.common.effort_suffix import MAX_BUDGET, MIN_BUDGET, Suffix, fitted_budget, parse, unsuffixed
from gateway.formats.ollama.checks import parse_chat as parse_ollama
from gateway.formats.openai_chat.checks import parse_request as parse_chat
from gateway.formats.openai_responses.checks import parse_request as parse_responses

HI = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("gpt-5(high)", Suffix("gpt-5", effort="high")),
        ("openai/gpt-5.1-codex-max(xhigh)", Suffix("openai/gpt-5.1-codex-max", effort="xhigh")),
        ("claude-sonnet-4-5-thinking-10000", Suffix("claude-sonnet-4-5", budget=10000)),
        ("claude-sonnet-4-5-thinking-10", Suffix("claude-sonnet-4-5", budget=MIN_BUDGET)),
        ("claude-sonnet-4-5-thinking-999999999", Suffix("claude-sonnet-4-5", budget=MAX_BUDGET)),
        ("gpt-5", None),
        ("gpt-5(hot)", None),
        ("x-thinking-", None),
    ],
)
def test_parse(name: str, suffix: Suffix | None) -> None:
    assert parse(name) == suffix


def test_each_protocol_gets_its_own_field_and_the_bare_name() -> None:
    chat = unsuffixed(parse_chat({"model": "gpt-5(high)", "messages": HI}))
    assert (chat.model, chat.body["model"], chat.body["reasoning_effort"]) == ("gpt-5", "gpt-5", "high")
    assert chat.canonical().reasoning_effort == "high" and chat.source is None
    responses = unsuffixed(
        parse_responses({"model": "gpt-5-thinking-20000", "input": "hi", "reasoning": {"summary": "auto"}})
    )
    assert responses.body["reasoning"] == {"summary": "auto", "effort": "high"}
    messages = unsuffixed(parse_messages({"model": "claude-x-thinking-10000", "max_tokens": 100, "messages": HI}))
    assert messages.body["thinking"] == {"type": "enabled", "budget_tokens": 10000}
    assert messages.body["max_tokens"] == 11024  # room for an answer beside the thinking
    assert messages.canonical().reasoning_budget == 10000
    ollama = unsuffixed(parse_ollama({"model": "qwen3:8b(low)", "messages": HI}))
    assert (ollama.model, ollama.body["think"]) == ("qwen3:8b", "low")


def test_a_name_without_suffix_is_the_same_call() -> None:
    call = parse_chat({"model": "gpt-5", "messages": HI})
    assert unsuffixed(call) is call


def test_a_budget_is_fitted_to_the_models_answer_limit() -> None:
    call = unsuffixed(parse_messages({"model": "claude-x-thinking-60000", "max_tokens": 100, "messages": HI}))
    assert fitted_budget(call, 32000).body["thinking"]["budget_tokens"] == 32000 - 1024
    assert fitted_budget(call, 64000) is call
