"""What this computer already has that Switchboard can use, for the first-run welcome: local model
servers that answer, a Codex CLI login, a Copilot editor login and provider keys in the environment;
and for each, whether the running gateway uses it already and will still use it at its next start.

Local servers are found by the gateway's own detection (their usual ports asked again now, as
Rescan does). Logins are looked for where an import reads them, in files only: the system keyring
is not read here, since asking it may put an unlock prompt in front of someone who only opened the
app. Keys are read from the same variables the settings loader reads. Nothing here changes a thing.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, TypedDict

from gateway.admin.providers import Providers
from gateway.admin.state import State
from gateway.auth.account_book import AccountBook, AccountEntry
from gateway.auth.oauth.logins_on_disk import (
    ImportProblem,
    codex_auth_file,
    copilot_config_dir,
    read_codex_login,
    read_editor_login,
)
from gateway.pipeline.gateway import Gateway
from gateway.providers.catalog import load_catalog
from gateway.store.provider_keys import stored_keys

FoundKind = Literal["local", "codex", "copilot", "key"]


class Found(TypedDict):
    kind: FoundKind
    id: str  # the provider's id ("ollama", "openai"), or the account kind ("codex", "copilot")
    name: str  # what it is, in words
    detail: str  # what was seen of it, in words
    in_use: bool  # the running gateway serves it now
    kept: bool  # and will at its next start, whatever the environment it is started from


def _no_keyring(service: str, account: str) -> str | None:
    return None


class Discovery:
    """``current``: the running pipeline; ``env``, ``home``: where other tools keep their logins
    and where provider keys are read from (the gateway's own, injected)."""

    def __init__(
        self,
        current: Callable[[], Gateway],
        providers: Providers,
        book: AccountBook,
        state: State | None,
        env: Mapping[str, str],
        home: Path,
        *,
        windows: bool = sys.platform == "win32",
    ) -> None:
        self._current = current
        self._providers = providers
        self._book = book
        self._state = state
        self._env = env
        self._home = home
        self._windows = windows

    async def find(self) -> list[Found]:
        local = await self._local()
        accounts = self._book.listing()
        codex = await asyncio.to_thread(self._codex, accounts)
        copilot = await asyncio.to_thread(self._copilot, accounts)
        keys = await self._keys()
        return [*local, *codex, *copilot, *keys]

    async def _local(self) -> list[Found]:
        found: list[Found] = []
        for row in await self._providers.rescan_local():
            if row["local"] and row["configured"] and row["models"] and row["error"] is None:
                count = len(row["models"])
                where = row["base_url"].removesuffix(row["url_path"]) if row["url_path"] else row["base_url"]
                detail = f"{count} model{'s' if count != 1 else ''} at {where}"
                found.append(Found(kind="local", id=row["id"], name=row["name"], detail=detail, in_use=True, kept=True))
        return found

    def _codex(self, accounts: list[AccountEntry]) -> list[Found]:
        """Blocking: reads a file."""
        path = codex_auth_file(self._env, self._home)
        try:
            login = read_codex_login(path, _no_keyring)
        except ImportProblem:
            return []
        mine = [a for a in accounts if a["kind"] == "codex"]
        used = any(a["subject"] == login.account_id for a in mine) if login.account_id else bool(mine)
        detail = "The ChatGPT sign-in the Codex app keeps on this computer"
        return [Found(kind="codex", id="codex", name="ChatGPT (Codex)", detail=detail, in_use=used, kept=used)]

    def _copilot(self, accounts: list[AccountEntry]) -> list[Found]:
        """Blocking: reads files."""
        folder = copilot_config_dir(self._env, self._home, self._windows)
        try:
            login = read_editor_login(self._env, folder, self._book.github.host)
        except ImportProblem:
            return []
        mine = [a for a in accounts if a["kind"] == "copilot"]
        used = any(a["subject"] == login.user for a in mine) if login.user else bool(mine)
        who = f" as {login.user}" if login.user else ""
        detail = f"The GitHub Copilot sign-in{who} an editor keeps on this computer"
        return [Found(kind="copilot", id="copilot", name="GitHub Copilot", detail=detail, in_use=used, kept=used)]

    async def _keys(self) -> list[Found]:
        in_env = {
            entry.id: (entry.name, keys)
            for entry in load_catalog().values()
            if not entry.local and (keys := _keys_in(self._env, entry.key_env))
        }
        if not in_env:
            return []
        stored = await asyncio.to_thread(stored_keys, self._state.secrets) if self._state is not None else {}
        serving = {p.id: p.settings.keys for p in self._current().providers}
        found: list[Found] = []
        for pid, (name, keys) in in_env.items():
            in_use = any(k in serving.get(pid, ()) for k in keys)
            kept = all(k in stored.get(pid, ()) for k in keys)
            detail = f"A key for {name} in this computer's settings for programs"
            found.append(Found(kind="key", id=pid, name=name, detail=detail, in_use=in_use, kept=kept))
        return found

    async def keys_to_keep(self, provider: str) -> tuple[str, ...]:
        """The provider's stored keys and those the environment holds for it, to be stored together
        (none when the environment holds none)."""
        entry = load_catalog().get(provider)
        from_env = _keys_in(self._env, entry.key_env) if entry is not None else ()
        if not from_env or self._state is None:
            return ()
        stored = (await asyncio.to_thread(stored_keys, self._state.secrets)).get(provider, ())
        return (*stored, *(k for k in from_env if k not in stored))


def _keys_in(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, ...]:
    keys: list[str] = []
    for name in names:
        for key in env.get(name, "").split(","):
            if (key := key.strip()) and key not in keys:
                keys.append(key)
    return tuple(keys)
