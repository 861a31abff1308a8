"""Codex CLI: ``config.toml`` in CODEX_HOME (``~/.codex`` by default), edited with tomlkit so the
user's comments and layout stay. A ``[model_providers.switchboard]`` table and the top-level
``model_provider`` and ``model`` that choose it.

Checked against Codex 0.171 (the real-client tests' pin): a provider's fields include
``base_url``, ``wire_api`` (only "responses" is accepted now: "chat" is refused with a message),
``env_key`` and ``experimental_bearer_token``; ``-c key=value`` overrides any setting for one run,
its value read as TOML.
"""

from __future__ import annotations

from typing import Any

import tomlkit

from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool

PROVIDER = "switchboard"
KEY_ENV = "SWITCHBOARD_API_KEY"  # where ``launch`` hands Codex the client key (never on its command line)


def provider(target: Target, *, key_in_file: bool) -> dict[str, str]:
    table = {"name": "Switchboard", "base_url": target.v1, "wire_api": "responses"}
    if target.key:
        table["experimental_bearer_token" if key_in_file else "env_key"] = target.key if key_in_file else KEY_ENV
    return table


def configure(text: str, target: Target) -> str:
    document = tomlkit.parse(text)
    document["model_provider"] = PROVIDER
    document["model"] = target.model
    providers: Any = document.get("model_providers")
    if providers is None:
        providers = tomlkit.table(is_super_table=True)
        document["model_providers"] = providers
    table = tomlkit.table()
    for name, value in provider(target, key_in_file=True).items():
        table[name] = value
    providers[PROVIDER] = table
    return tomlkit.dumps(document)


def points_at(text: str, url: str) -> bool:
    document: Any = tomlkit.parse(text).unwrap()
    ours = (document.get("model_providers") or {}).get(PROVIDER) or {}
    return bool(document.get("model_provider") == PROVIDER and ours.get("base_url") == f"{url.rstrip('/')}/v1")


def overrides(target: Target) -> list[str]:
    """``-c`` arguments that point one run of Codex at the gateway, its files untouched."""
    table = ", ".join(
        f"{name} = {tomlkit.string(value).as_string()}" for name, value in provider(target, key_in_file=False).items()
    )
    return [
        "-c",
        f"model_provider={tomlkit.string(PROVIDER).as_string()}",
        "-c",
        f"model={tomlkit.string(target.model).as_string()}",
        "-c",
        f"model_providers.{PROVIDER}={{ {table} }}",
    ]


TOOL = Tool(
    id="codex",
    name="Codex CLI",
    programs=("codex",),
    folder=Places.codex_home,
    file_name="config.toml",
    configure=configure,
    points_at=points_at,
)
