"""Claude Code's slots, recognised where Claude Code marks its requests."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.formats.anthropic.checks import parse_request
from gateway.formats.anthropic.claude_code import slots

HI = [{"role": "user", "content": "hi"}]
BETA = "claude-code-20250219,interleaved-thinking-2025-05-14"
BILLING = {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=cli;"}
MAIN = {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."}
AGENT = {"type": "text", "text": "You are an agent for Claude Code, Anthropic's official CLI for Claude."}


@pytest.mark.parametrize(
    ("model", "system", "beta", "expected"),
    [
        ("claude-opus-4-8", [BILLING, MAIN], BETA, ("claude-code:main", "claude-code:opus")),
        ("claude-sonnet-4-5", [MAIN, AGENT], BETA, ("claude-code:subagent", "claude-code:main", "claude-code:sonnet")),
        (
            "claude-haiku-4-5",
            "Analyze if this message indicates a new conversation topic.",
            BETA,
            ("claude-code:haiku",),
        ),
        ("gpt-5", [MAIN], None, ("claude-code:main",)),
        ("claude-haiku-4-5", "You are a helpful assistant.", None, ()),  # not Claude Code's
        ("claude-haiku-4-5", None, "interleaved-thinking-2025-05-14", ()),
    ],
)
def test_slots(model: str, system: Any, beta: str | None, expected: tuple[str, ...]) -> None:
    body: dict[str, Any] = {"model": model, "max_tokens": 10, "messages": HI}
    if system is not None:
        body["system"] = system
    assert slots(parse_request(body, beta=beta)) == expected
