"""Which client tool sent a request, from its ``User-Agent`` (and Codex's ``originator`` header):
a name for the usage reports' "by tool" view. Only a label: the header is the client's own word,
never trusted for anything, so what is kept of an unknown one is bounded in length and charset.

The User-Agents as the tools send them: Claude Code ``claude-cli/2.0.14 (external, cli)``; Codex
CLI ``codex_cli_rs/0.58.0 (Ubuntu 24.04; x86_64) WindowsTerminal`` with ``originator:
codex_cli_rs`` (``codex_exec`` for ``codex exec``, ``codex_vscode`` for its extension); VS Code
Copilot Chat ``GitHubCopilotChat/0.33.0``; the OpenAI and Anthropic SDKs ``OpenAI/Python 1.99.1``,
``OpenAI/JS 5.12.0``, ``Anthropic/Python 0.64.0``, ``Anthropic/JS 0.60.0``; Ollama's clients
``ollama-python/0.5.3 (x86_64 linux) Python/3.12``, ``ollama-js/0.5.16 (...)``, ``ollama/0.11.4
(...) Go/go1.24``; LiteLLM ``litellm/1.75.0``; the AI SDK ``ai-sdk/openai/2.0.10
ai-sdk/provider-utils/3.0.3 runtime/node.js/22``; curl ``curl/8.5.0``.
"""

from __future__ import annotations

import functools
import re

from aiohttp import web

# Lower-cased User-Agent prefixes, the more specific first (Claude Code is built on the Anthropic
# SDK but names itself).
_PREFIXES = (
    ("claude-cli/", "claude-code"),
    ("codex_", "codex"),
    ("githubcopilotchat/", "copilot-chat"),
    ("openai/python", "openai-python"),
    ("openai/js", "openai-js"),
    ("anthropic/python", "anthropic-python"),
    ("anthropic/js", "anthropic-js"),
    ("ollama-python/", "ollama-python"),
    ("ollama-js/", "ollama-js"),
    ("ollama/", "ollama"),
    ("litellm/", "litellm"),
    ("curl/", "curl"),
)
# Found anywhere in it: the AI SDK puts an app's own suffix first; Continue runs inside an editor.
_WITHIN = (("ai-sdk", "ai-sdk"), ("continue", "continue"))
_PRODUCT = re.compile(r"[A-Za-z0-9._-]{1,32}")
MAX_UA = 512  # a longer header is looked at only this far


def client_tool(user_agent: str | None, originator: str | None = None) -> str:
    """The tool's name (``claude-code``, ``codex``, ``copilot-chat``, ...), else the User-Agent's
    product token (``my_app`` from ``my_app/1.2``), bounded; "" when it sent none."""
    return _tool(user_agent[:MAX_UA] if user_agent else "", originator[:64] if originator else "")


def tool_of(request: web.BaseRequest) -> str:
    """The tool that sent ``request``."""
    headers = request.headers
    return client_tool(headers.get("User-Agent"), headers.get("originator"))


@functools.lru_cache(maxsize=256)  # a gateway sees few distinct User-Agents, each many times
def _tool(user_agent: str, originator: str) -> str:
    if originator.startswith("codex"):
        return "codex"
    lowered = user_agent.lower()
    for prefix, tool in _PREFIXES:
        if lowered.startswith(prefix):
            return tool
    for part, tool in _WITHIN:
        if part in lowered:
            return tool
    found = _PRODUCT.match(user_agent.strip())
    return found.group(0) if found is not None else ""
