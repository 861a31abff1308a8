"""Logins other tools keep on disk, read for a one-click import (protocols.md §7.1, §8.2).

- Codex CLI: ``$CODEX_HOME/auth.json`` (default ``~/.codex/auth.json``). Read only — unless the
  user asks to keep both in step, in which case rotated tokens are written back atomically
  (0600) with every key Switchboard does not know left as it was. Where there is no file and
  Codex keeps its login in the system keyring (``cli_auth_credentials_store``), the keyring
  entry it writes for that CODEX_HOME: service "Codex Auth", account ``cli|`` and the first 16
  hex digits of the SHA-256 of the folder's canonical path, holding the same JSON as the file
  (UNCONFIRMED for Codex's per-field Windows layout, which is not read). Never written.
- Copilot editors: ``GH_COPILOT_TOKEN``, then ``apps.json`` and ``hosts.json`` in the
  github-copilot config folder (``%LOCALAPPDATA%`` on Windows, ``$XDG_CONFIG_HOME`` or
  ``~/.config`` elsewhere); the first entry for the GitHub host gives the token.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.auth.oauth.openai import Tokens
from gateway.errors import Fix, Fixable, os_reason
from gateway.paths import write_private


class ImportProblem(Fixable):
    """There is no login to import where we looked, or it cannot be read; the message says, and
    ``fix`` offers signing in instead."""


CODEX_KEYRING_SERVICE = "Codex Auth"
KeyringGet = Callable[[str, str], str | None]  # (service, account) -> the secret, or None


@dataclass(frozen=True, slots=True)
class CodexLogin:
    tokens: Tokens
    account_id: str | None
    path: Path
    in_keyring: bool = False  # read from the system keyring (so never written back)


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
    except OSError as exc:
        raise ImportProblem(f"{path} cannot be read: {os_reason(exc)}.", detail=str(exc)) from None
    except ValueError as exc:
        raise ImportProblem(f"{path} cannot be read: it is not JSON.", detail=str(exc)) from None
    if not isinstance(data, dict):
        raise ImportProblem(f"{path} is not a JSON object")
    return data


def codex_keyring_account(codex_home: Path) -> str:
    """The keyring account Codex files a CODEX_HOME's login under."""
    try:
        canonical = codex_home.resolve(strict=True)
    except OSError:
        canonical = codex_home
    return "cli|" + hashlib.sha256(str(canonical).encode("utf-8")).hexdigest()[:16]


def system_keyring_get(service: str, account: str) -> str | None:
    """The OS keyring's entry, or None where there is none or no keyring works."""
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            value: str | None = keyring.get_password(service, account)
        except (KeyringError, RuntimeError):
            return None
        return value
    except ImportError:
        return None


def read_codex_login(path: Path, keyring_get: KeyringGet = system_keyring_get) -> CodexLogin:
    """The Codex CLI's ChatGPT sign-in from ``path``, or, where that file does not exist, from
    the keyring entry Codex keeps for the folder it would be in."""
    in_keyring = not path.exists()
    if in_keyring:
        text = keyring_get(CODEX_KEYRING_SERVICE, codex_keyring_account(path.parent))
        if text is None:
            raise ImportProblem(
                "No Codex login was found on this computer.",
                fix=Fix("sign_in_chatgpt"),
                detail=f"{path} does not exist, and the system keyring holds no Codex login for {path.parent}",
            )
        try:
            found = json.loads(text)
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise ImportProblem(f"the Codex login in the system keyring for {path.parent} is not a JSON object")
        data: dict[str, Any] = found
    else:
        data = _read_json(path)
    where = f"the system keyring's Codex login for {path.parent}" if in_keyring else str(path)
    tokens = data.get("tokens")
    if not isinstance(tokens, dict) or not all(
        isinstance(tokens.get(k), str) and tokens.get(k) for k in ("access_token", "refresh_token")
    ):
        hint = " (it holds an API key, not a ChatGPT sign-in)" if data.get("OPENAI_API_KEY") else ""
        raise ImportProblem(f"{where} holds no ChatGPT sign-in{hint}.", fix=Fix("sign_in_chatgpt"))
    account_id = tokens.get("account_id")
    return CodexLogin(
        Tokens(str(tokens.get("id_token") or ""), tokens["access_token"], tokens["refresh_token"]),
        account_id if isinstance(account_id, str) and account_id else None,
        path,
        in_keyring,
    )


def write_back_to(login: CodexLogin, sync: bool) -> Path | None:
    """Where renewed tokens go when the user asks to keep the Codex CLI in step with us."""
    if not sync:
        return None
    if login.in_keyring:
        raise ImportProblem(
            "the Codex CLI keeps this login in the system keyring, which Switchboard reads but never "
            "writes: import it without keeping the two in step"
        )
    return login.path


def write_codex_login(path: Path, tokens: Tokens, now: float) -> None:
    """Put rotated tokens back into the Codex CLI's file, keeping every other key as it was."""
    data = _read_json(path)
    kept = data.get("tokens")
    kept = kept if isinstance(kept, dict) else {}
    data["tokens"] = {
        **kept,
        "id_token": tokens.id_token or kept.get("id_token", ""),
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
    }
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
        f"No GitHub Copilot login for {host} was found on this computer.",
        fix=Fix("sign_in_copilot", host),
        detail=f"looked at GH_COPILOT_TOKEN, {', '.join(looked)}",
    )
