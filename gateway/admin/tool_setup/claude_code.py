"""Claude Code: the ``env`` of its user settings (``~/.claude/settings.json``, or under
CLAUDE_CONFIG_DIR), which it applies to every session.

The names are Claude Code's own (its environment-variable reference, and the strings of the
2.1.332 binary the real-client tests install): ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN (sent
as ``Authorization: Bearer``), and one model per slot — the main model, the Opus, Sonnet, Haiku
(background work) and Fable aliases, and sub-agents. Every slot is given the chosen model:
without that, a slot asks for Anthropic's own model names, which a gateway without an Anthropic
key cannot serve.
"""

from __future__ import annotations

from typing import Any

from gateway.admin.tool_setup import jsonc
from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool

MODEL_SLOTS = (
    "ANTHROPIC_MODEL",
    "ANTHROPIC_DEFAULT_OPUS_MODEL",
    "ANTHROPIC_DEFAULT_SONNET_MODEL",
    "ANTHROPIC_DEFAULT_HAIKU_MODEL",
    "ANTHROPIC_DEFAULT_FABLE_MODEL",
    "CLAUDE_CODE_SUBAGENT_MODEL",
)


def environment(target: Target) -> dict[str, str]:
    """What Claude Code needs to reach the gateway: for its settings' ``env`` and for ``launch``."""
    return {
        "ANTHROPIC_BASE_URL": target.url.rstrip("/"),
        "ANTHROPIC_AUTH_TOKEN": target.token,
        **dict.fromkeys(MODEL_SLOTS, target.model),
    }


def configure(text: str, target: Target) -> str:
    for name, value in environment(target).items():
        text = jsonc.set_value(text, ("env", name), value)
    return text


def points_at(text: str, url: str) -> bool:
    settings: Any = jsonc.loads(text)
    env = settings.get("env") if isinstance(settings, dict) else None
    return isinstance(env, dict) and env.get("ANTHROPIC_BASE_URL") == url.rstrip("/")


TOOL = Tool(
    id="claude-code",
    name="Claude Code",
    programs=("claude",),
    folder=Places.claude_dir,
    file_name="settings.json",
    configure=configure,
    points_at=points_at,
)
