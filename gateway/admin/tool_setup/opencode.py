"""OpenCode: a ``switchboard`` provider in its global config (``~/.config/opencode/opencode.json``,
JSON with comments), an OpenAI-compatible one at the gateway's /v1, with the chosen model listed
and made the default (``model``: provider/model)."""

from __future__ import annotations

from typing import Any

from gateway.admin.tool_setup import jsonc
from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool

PROVIDER = "switchboard"


def configure(text: str, target: Target) -> str:
    if not text.strip():
        text = '{\n  "$schema": "https://opencode.ai/config.json"\n}\n'
    provider = {
        "npm": "@ai-sdk/openai-compatible",
        "name": "Switchboard",
        "options": {"baseURL": target.v1, "apiKey": target.token},
        "models": {target.model: {"name": target.model}},
    }
    text = jsonc.set_value(text, ("provider", PROVIDER), provider)
    return jsonc.set_value(text, ("model",), f"{PROVIDER}/{target.model}")


def points_at(text: str, url: str) -> bool:
    config: Any = jsonc.loads(text)
    if not isinstance(config, dict):
        return False
    ours = (config.get("provider") or {}).get(PROVIDER) or {}
    return bool((ours.get("options") or {}).get("baseURL") == f"{url.rstrip('/')}/v1")


TOOL = Tool(
    id="opencode",
    name="OpenCode",
    programs=("opencode",),
    folder=Places.opencode_dir,
    file_name="opencode.json",
    configure=configure,
    points_at=points_at,
)
