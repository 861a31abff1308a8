"""Changes to ``config.toml`` made for a person (by the app's Settings, Providers and Local
models pages) that keep what they wrote: comments, order and layout stay. The new text is checked
the way the gateway will read it before it replaces the file, so a bad value never lands.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from gateway.errors import ConfigError
from gateway.paths import write_private

# (table, key, value): table "server" or "providers.ollama"; a value of None removes the key.
Change = tuple[str, str, Any]

_editing = threading.Lock()  # two quick edits from two pages must not lose one another


def read_config(path: Path) -> dict[str, Any]:
    """The file as written, as plain data (empty when there is none)."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def edit_config(path: Path, changes: Sequence[Change], check: Callable[[Path], object]) -> bool:
    """Apply ``changes``; ``check(staged_file)`` raises ``ConfigError`` to refuse the result.
    False when the file already said so. A table left empty by a removal goes too: an empty
    ``[providers.x]`` would still switch ``x`` on."""
    with _editing:
        before = path.read_text(encoding="utf-8") if path.is_file() else ""
        try:
            doc = tomlkit.parse(before)
        except TOMLKitError as exc:
            raise ConfigError(f"{path}: {exc}") from None
        for table, key, value in changes:
            _apply(doc, _names(table), key, value)
        after = tomlkit.dumps(doc)
        if after == before:
            return False
        staged = path.with_name(path.name + ".new")
        write_private(staged, after)
        try:
            check(staged)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        os.replace(staged, path)
        return True


@dataclass(frozen=True, slots=True)
class SettingsFile:
    """The config file a gateway started from, and how a change to it is checked: the way the
    next start will read it. What the app's pages and the admin settings routes edit."""

    path: Path
    check: Callable[[Path], object]

    def read(self) -> dict[str, Any]:
        return read_config(self.path)

    def change(self, changes: Sequence[Change]) -> bool:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return edit_config(self.path, changes, self.check)


def _names(table: str) -> list[str]:
    """A dotted table name's parts, a quoted one kept whole: ``accounts."codex:ann@example.com"``."""
    return [quoted or bare for quoted, bare in re.findall(r'"([^"]*)"|([^."]+)', table)]


def _apply(doc: tomlkit.TOMLDocument, parts: list[str], key: str, value: Any) -> None:
    chain: list[Any] = [doc]
    for part in parts:
        node = chain[-1]
        if part not in node:
            if value is None:
                return  # nothing to remove
            # "providers" holds only sub-tables: a super table prints as [providers.x], not [providers]
            node.add(part, tomlkit.table(is_super_table=part != parts[-1]))
        chain.append(node[part])
    table = chain[-1]
    if not isinstance(table, Table | tomlkit.TOMLDocument):
        raise ConfigError(f"[{'.'.join(parts)}] must be a table")
    if value is None:
        table.pop(key, None)
        for name, parent, child in zip(reversed(parts), reversed(chain[:-1]), reversed(chain[1:]), strict=True):
            if len(child):
                break
            parent.pop(name)
    else:
        table[key] = value
