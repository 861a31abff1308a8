"""Reading and editing the settings file, the same for every front-end: a change is checked the
way a start reads it (the whole resulting file, with the stored provider keys, in a worker thread),
applied to the running gateway or put back and refused with the reason, and audited with the
settings it changed (``config.edited``: their names, and their new values with every credential in
them masked, so the log can say what a setting was set to).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from gateway.admin.applying import Apply, applies, apply_or_undo, audited, carried_through
from gateway.admin.state import State
from gateway.config.editing import Change, SettingsFile
from gateway.errors import ConfigError, InvalidRequest, RouteNotFound
from gateway.paths import write_private
from gateway.redact import MASK, redact

APP_TABLE = "app"
_SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw(or)?d|passphrase|credentials?|cookie)s?$")


class SettingsRead(TypedDict):
    """The config file as written; what the running gateway reads from it is in the status."""

    file: str
    config: dict[str, Any]
    applies: str  # when an edit takes effect: "now", or "at the gateway's next start"


class SettingsEdit(TypedDict):
    changed: bool  # False: the file already said so
    applied: bool  # in use now: the running gateway took it, or only the app reads it (``[app]``)
    applies: str


def app_only(changes: Sequence[Change]) -> bool:
    """Only settings of ``[app]``, which the tray app reads and the gateway does not (its theme, its
    update checks): a change of them asks no provider for its models again."""
    return all(table == APP_TABLE for table, _, _ in changes)


def _text(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _put_back(path: Path, before: str | None) -> None:
    if before is None:
        path.unlink(missing_ok=True)
    else:
        write_private(path, before)


class SettingsEdits:
    """``file``: none when the gateway was started without one it may edit (every call is then
    ``RouteNotFound``). ``state``: where edits are audited. ``apply``: makes the running gateway
    read the settings again (none: they apply at its next start). ``one_at_a_time``: held from an
    edit's write to its apply or undo (shared with the provider keys: an apply reads both)."""

    def __init__(
        self,
        file: SettingsFile | None,
        state: State | None,
        apply: Apply | None,
        one_at_a_time: asyncio.Lock | None = None,
    ) -> None:
        self.file = file
        self._state = state
        self._apply = apply
        self._one_at_a_time = one_at_a_time or asyncio.Lock()

    def _needs_file(self) -> SettingsFile:
        if self.file is None:
            raise RouteNotFound("This gateway was started without a config file it may edit.")
        return self.file

    async def read(self) -> SettingsRead:
        found = self._needs_file()
        config = await asyncio.to_thread(found.read)
        return {"file": str(found.path), "config": config, "applies": applies(self._apply is not None)}

    async def change(self, changes: Sequence[Change], actor: str) -> SettingsEdit:
        """Edit the file; refused (``InvalidRequest``, the file as it was) when a start could not
        read the result or the running gateway could not take it."""
        return await carried_through(self._change(self._needs_file(), changes, actor))

    async def _change(self, found: SettingsFile, changes: Sequence[Change], actor: str) -> SettingsEdit:
        async with self._one_at_a_time:
            before = await asyncio.to_thread(_text, found.path)
            try:
                changed = await asyncio.to_thread(found.change, changes)
            except ConfigError as exc:
                raise InvalidRequest(str(exc), param="changes", fix=exc.fix, detail=exc.detail) from None
            if not changed:
                return {"changed": False, "applied": False, "applies": applies(self._apply is not None)}
            if app_only(changes):
                applied = True  # the app reads them itself; the gateway has nothing to rebuild
            else:
                applied = await apply_or_undo(self._apply, lambda: _put_back(found.path, before), "changes")
        keys = sorted({f"{table}.{key}" for table, key, _ in changes})
        values = {f"{table}.{key}": audited_value(key, value) for table, key, value in changes}  # "set to …"
        payload = {"file": found.path.name, "keys": keys, "values": values, "applied": applied}
        await audited(self._state, actor, "config.edited", payload)
        return {"changed": True, "applied": applied, "applies": applies(applied)}


def audited_value(name: str, value: Any) -> Any:
    """A setting's new value as the audit log keeps it, nothing secret in it: a setting named as a
    credential is masked whole, every header's value too (any may carry one), text has anything
    credential-shaped masked (an address may hold a password or a key), lists and tables likewise;
    numbers and switches as they are (None: removed)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if _SECRET_NAME.search(name):
        return MASK
    if isinstance(value, Mapping):
        headers = name.lower().endswith("headers")
        return {str(k): MASK if headers else audited_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [audited_value(name, v) for v in value]
    return redact(str(value))
