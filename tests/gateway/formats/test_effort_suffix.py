"""Effort and thinking suffixes on model names, made each client protocol's own field."""

from __future__ import annotations

import pytest

from gateway.core.chat import ChatRequest, Message, TextPart
from gateway.formats.anthropic.checks import parse_request as parse_messages
from gateway.formats.common.effort_suffix import MAX_BUDGET, MIN_BUDGET, Fit, Suffix, parse, unsuffixed
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
    fitted, said = Fit(True, output=32000).call(call)
    assert fitted.body["thinking"]["budget_tokens"] == 32000 - 1024 and said == ("thinking budget 60000 as 30976",)
    assert Fit(True, output=64000).call(call) == (call, ())


def test_an_effort_the_model_does_not_take_becomes_the_nearest_it_does_and_says_so() -> None:
    xhigh = parse_chat({"model": "gpt-5", "messages": HI, "reasoning_effort": "xhigh"})
    three = Fit(True)  # low, medium, high
    fitted, said = three.call(xhigh)
    assert (fitted.body["reasoning_effort"], said) == ("high", ("reasoning_effort xhigh as high",))
    assert Fit(True, ("low", "medium", "high", "xhigh")).call(xhigh) == (xhigh, ())
    minimal = parse_responses({"model": "o3", "input": "hi", "reasoning": {"effort": "minimal", "summary": "auto"}})
    responses, said = three.call(minimal)
    assert responses.body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert said == ("reasoning.effort minimal as low",)
    assert Fit(True, ("low", "high")).nearest("medium") == "low"  # the cheaper of two as near


def test_a_model_that_does_not_think_is_sent_no_effort_nor_thinking() -> None:
    plain = Fit(False, output=16384)
    fitted, said = plain.call(parse_chat({"model": "gpt-4o", "messages": HI, "reasoning_effort": "high"}))
    assert "reasoning_effort" not in fitted.body and said == ("reasoning_effort (the model does not think)",)
    messages = unsuffixed(parse_messages({"model": "gpt-4o-thinking-5000", "max_tokens": 100, "messages": HI}))
    anthropic, said = plain.call(messages)
    assert "thinking" not in anthropic.body and said == ("thinking (the model does not think)",)
    ollama, said = plain.call(parse_ollama({"model": "llama3.2(high)", "messages": HI, "think": "high"}))
    assert "think" not in ollama.body and said == ("think (the model does not think)",)
    request = ChatRequest("m", (Message("user", (TextPart("hi"),)),), reasoning_effort="high", reasoning_budget=5000)
    assert (plain.request(request).reasoning_effort, plain.request(request).reasoning_budget) == (None, None)


def test_a_budget_under_the_upstreams_least_is_raised_to_it_with_room_for_the_answer() -> None:
    body = {
        "model": "claude-x",
        "max_tokens": 600,
        "messages": HI,
        "thinking": {"type": "enabled", "budget_tokens": 500},
    }
    fitted, said = Fit(True, output=64000).call(parse_messages(body))
    assert fitted.body["thinking"]["budget_tokens"] == MIN_BUDGET and fitted.body["max_tokens"] == MIN_BUDGET + 1024
    assert said == ("thinking budget 500 as 1024",)
    request = ChatRequest("m", (Message("user", (TextPart("hi"),)),), reasoning_effort="xhigh", reasoning_budget=90000)
    fitted_request = Fit(True, output=32000).request(request)
    assert (fitted_request.reasoning_effort, fitted_request.reasoning_budget) == ("high", 32000 - 1024)
