"""Logins other tools keep on disk, read for a one-click import (protocols.md §7.1, §8.2).

- Codex CLI: ``$CODEX_HOME/auth.json`` (default ``~/.codex/auth.json``). Read only — unless the
  user asks to keep both in step, in which case rotated tokens are written back atomically
  (0600) with every key Switchboard does not know left as it was.
- Copilot editors: ``GH_COPILOT_TOKEN``, then ``apps.json`` and ``hosts.json`` in the
  github-copilot config folder (``%LOCALAPPDATA%`` on Windows, ``$XDG_CONFIG_HOME`` or
  ``~/.config`` elsewhere); the first entry for the GitHub host gives the token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.auth.oauth.openai import Tokens
from gateway.paths import write_private


class ImportProblem(Exception):
    """There is no login to import where we looked, or it cannot be read; the message says."""


@dataclass(frozen=True, slots=True)
class CodexLogin:
    tokens: Tokens
    account_id: str | None
    path: Path


@dataclass(frozen=True, slots=True)
class EditorLogin:
    token: str = field(repr=False)
    user: str
    source: str  # where it was found, for the audit log and the message


def codex_auth_file(env: Mapping[str, str], home: Path) -> Path:
    root = env.get("CODEX_HOME", "").strip()
    return (Path(root).expanduser() if root else home / ".codex") / "auth.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportProblem(f"{path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise ImportProblem(f"{path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ImportProblem(f"{path} is not a JSON object")
    return data


def read_codex_login(path: Path) -> CodexLogin:
    data = _read_json(path)
    tokens = data.get("tokens")
    if not isinstance(tokens, dict) or not all(isinstance(tokens.get(k), str) and tokens.get(k) for k in ("access_token", "refresh_token")):
        hint = " (it holds an API key, not a ChatGPT sign-in)" if data.get("OPENAI_API_KEY") else ""
        raise ImportProblem(
            f"{path} holds no ChatGPT sign-in{hint}. Sign in with 'codex login', or use 'accounts login codex'. "
            "(Codex may keep its login in the system keyring instead: cli_auth_credentials_store.)"
        )
    account_id = tokens.get("account_id")
    return CodexLogin(
        Tokens(str(tokens.get("id_token") or ""), tokens["access_token"], tokens["refresh_token"]),
        account_id if isinstance(account_id, str) and account_id else None,
        path,
    )


def write_codex_login(path: Path, tokens: Tokens, now: float) -> None:
    """Put rotated tokens back into the Codex CLI's file, keeping every other key as it was."""
    data = _read_json(path)
    kept = data.get("tokens")
    kept = kept if isinstance(kept, dict) else {}
    data["tokens"] = {**kept, "id_token": tokens.id_token or kept.get("id_token", ""),
                      "access_token": tokens.access_token, "refresh_token": tokens.refresh_token}
    data["last_refresh"] = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    write_private(path, json.dumps(data, indent=2))


def copilot_config_dir(env: Mapping[str, str], home: Path, windows: bool) -> Path:
    if windows:
        local = env.get("LOCALAPPDATA", "").strip()
        return (Path(local) if local else home / "AppData" / "Local") / "github-copilot"
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    return (Path(xdg) if xdg else home / ".config") / "github-copilot"


def read_editor_login(env: Mapping[str, str], folder: Path, host: str = "github.com") -> EditorLogin:
    token = env.get("GH_COPILOT_TOKEN", "").strip()
    if token:
        return EditorLogin(token, "", "GH_COPILOT_TOKEN")
    looked = []
    for name in ("apps.json", "hosts.json"):
        path = folder / name
        looked.append(str(path))
        if not path.is_file():
            continue
        for key, value in _read_json(path).items():
            if key.split(":")[0] == host and isinstance(value, dict) and isinstance(value.get("oauth_token"), str):
                return EditorLogin(value["oauth_token"], str(value.get("user") or ""), str(path))
    raise ImportProblem(
        f"no GitHub Copilot login found (looked at GH_COPILOT_TOKEN, {', '.join(looked)}). "
        "Sign in with 'accounts login copilot' instead."
    )
