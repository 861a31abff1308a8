"""VS Code Copilot Chat: its Ollama endpoint, ``github.copilot.chat.byok.ollamaEndpoint`` in VS
Code's user settings.json (JSON with comments: the user's comments stay, one member changes).
Copilot Chat then lists the gateway's models under Ollama in its model picker, where the model is
chosen, so no model is written here."""

from __future__ import annotations

from typing import Any

from gateway.admin.tool_setup import jsonc
from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool

SETTING = "github.copilot.chat.byok.ollamaEndpoint"


def configure(text: str, target: Target) -> str:
    return jsonc.set_value(text, (SETTING,), target.url.rstrip("/"))


def points_at(text: str, url: str) -> bool:
    settings: Any = jsonc.loads(text)
    return isinstance(settings, dict) and settings.get(SETTING) == url.rstrip("/")


TOOL = Tool(
    id="vscode",
    name="VS Code Copilot Chat",
    programs=("code",),
    folder=Places.vscode_user,
    file_name="settings.json",
    configure=configure,
    points_at=points_at,
    uses_model=False,
)
