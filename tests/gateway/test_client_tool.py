"""The client tool, from a request's User-Agent (issue 23 point 6, the "by tool" view): the
User-Agents the tools send (their sources: openai/codex's default_client.rs, the SDKs' base
clients, our own e2e clients), else the product token, bounded — the header is never trusted."""

from __future__ import annotations

import pytest

from gateway.api.client_tool import client_tool


@pytest.mark.parametrize(
    ("user_agent", "originator", "tool"),
    [
        ("claude-cli/2.1.332 (external, cli)", None, "claude-code"),
        ("codex_cli_rs/0.58.0 (Windows 10.0.26200; x86_64) WindowsTerminal", "codex_cli_rs", "codex"),
        ("codex_exec/0.46.0 (Ubuntu 24.04; x86_64) unknown", None, "codex"),
        ("reqwest/0.12", "codex_vscode", "codex"),  # the originator header alone says Codex
        ("GitHubCopilotChat/0.33.0", None, "copilot-chat"),
        ("OpenAI/Python 1.99.1", None, "openai-python"),
        ("OpenAI/JS 5.12.0", None, "openai-js"),
        ("Anthropic/Python 0.64.0", None, "anthropic-python"),
        ("Anthropic/JS 0.60.0", None, "anthropic-js"),
        ("ollama-python/0.5.3 (x86_64 linux) Python/3.12.3", None, "ollama-python"),
        ("ollama-js/0.5.16 (x64 linux Node.js/v22.3.0)", None, "ollama-js"),
        ("ollama/0.11.4 (amd64 linux) Go/go1.24.0", None, "ollama"),
        ("litellm/1.75.0", None, "litellm"),
        ("ai-sdk/openai/2.0.10 ai-sdk/provider-utils/3.0.3 runtime/node.js/22", None, "ai-sdk"),
        ("my-app/1.0 ai-sdk/openai-compatible/1.0.0", None, "ai-sdk"),
        ("Continue/1.2.8", None, "continue"),
        ("curl/8.5.0", None, "curl"),
    ],
)
def test_known_tools_are_named(user_agent: str, originator: str | None, tool: str) -> None:
    assert client_tool(user_agent, originator) == tool


def test_an_unknown_tool_is_its_product_token_bounded_in_length_and_charset() -> None:
    assert client_tool("Zed/0.200.4 (linux; x86_64)") == "Zed"
    assert client_tool("python-requests/2.32.3") == "python-requests"
    assert client_tool("a" * 100 + "/1") == "a" * 32
    assert client_tool("<script>alert(1)</script>") == ""
    assert client_tool("tool\x00name/1") == "tool"
    assert client_tool(None) == client_tool("") == ""
