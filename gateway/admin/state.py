"""What the gateway keeps between runs, opened together: the database (ledger, audit log, client
keys, admin login) and the secrets that key it, from the secret store.

Opening is blocking (SQLite, the keychain) and happens once, before the gateway serves. Reports
need less: ``stored_database`` and ``stored_anchor`` read a state folder as it is (a gateway may be
serving it), creating nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from gateway.admin import start_audit
from gateway.auth.admin_account import AdminAccount
from gateway.auth.key_table import ClientKeys
from gateway.auth.passwords import Passwords
from gateway.auth.sessions import SHORTEST_SECRET, Sessions
from gateway.clock import Clock
from gateway.errors import ConfigError
from gateway.store import audit
from gateway.store.database import Database
from gateway.store.db import FILE_NAME, StoreError
from gateway.store.reader import Reader
from gateway.store.seam import Event
from gateway.store.secrets import SecretStore, ensure
from gateway.store.team import TeamAudit

PEPPER = "client-key-pepper"
JWT_SECRET = "jwt-secret"
ANCHOR_KEY = "audit-anchor-key"


def _secret(store: SecretStore, name: str, size: int) -> bytes:
    value = bytes.fromhex(ensure(store, name, size))
    if len(value) < size:
        raise ConfigError(f"the secret {name!r} in {store.where} is shorter than {size} bytes; delete it to renew it")
    return value


def stored_database(data_dir: Path) -> Reader:
    """The folder's database, read-only; ``StoreError`` when there is none yet."""
    if not (data_dir / FILE_NAME).exists():
        raise StoreError(f"no database yet in {data_dir} (the gateway creates it on its first start)")
    return Reader(data_dir / FILE_NAME)


def stored_anchor(data_dir: Path, secrets: SecretStore) -> audit.Anchor | None:
    """The audit log's sealed head as the gateway keeps it; None when its key is missing from the
    secret store (never made here: a new key would only make the seal look forged)."""
    key = secrets.get(ANCHOR_KEY)
    return audit.Anchor(data_dir / audit.ANCHOR_FILE, bytes.fromhex(key)) if key else None


class State:
    def __init__(
        self,
        data_dir: Path,
        secrets: SecretStore,
        clock: Clock,
        *,
        local_token: str | None = None,
        passwords: Passwords | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.secrets = secrets
        self.db = Database(data_dir, _secret(secrets, ANCHOR_KEY, 32), clock)
        self.keys = ClientKeys(self.db, _secret(secrets, PEPPER, 32), clock)
        self.sessions = Sessions(_secret(secrets, JWT_SECRET, SHORTEST_SECRET), self.db, clock)
        self.admin = AdminAccount(self.db, passwords or Passwords(), self.sessions, clock, local_token)
        self._team_audit: tuple[TeamAudit, str] | None = None

    def open(self) -> None:
        """Open the database, load the keys."""
        self.db.open()
        self.keys.load()

    async def first_password(self, password: str | None) -> None:
        """Set the admin password from the environment (``SWITCHBOARD_ADMIN_PASSWORD``) where the
        login is kept (the team's, once joined) when none is set yet; never over one already set,
        nor over one another gateway of the team set while this one hashed its own."""
        if password and not await self.admin.exists():
            await self.admin.set_password(password, "environment", first=True)

    def share_audit(self, team: tuple[TeamAudit, str] | None) -> None:
        """From now on (None: no longer) starts and address changes are audited in a team's chain
        (``team``: it, and this gateway's id there), against this gateway's own last ones there."""
        self._team_audit = team

    async def started(self, host: str, port: int, require_keys: bool, lan: bool, config: Path | None) -> None:
        """Audit this start; and, against the last bind recorded, a change of address or of LAN
        mode, and against the last start, of the config file (whoever edited it: the app, a
        person, a script)."""
        now_ms = self.db.now_ms()
        digest = await asyncio.to_thread(_digest, config)
        bind = {"host": host, "port": port, "require_keys": require_keys, "lan": lan, "config_sha256": digest}
        name = config.name if config else None
        if (team := self._team_audit) is not None:
            chain, gateway = team
            last_start = await chain.last_of(gateway, (start_audit.STARTED,))
            start = last_start.payload if last_start else None
            events = start_audit.start_events(now_ms, bind, name, start, await _team_bind(chain, gateway))
            await chain.append_all(start_audit.named(events, gateway))
            return

        def op(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT action, payload FROM audit WHERE action = 'gateway.started' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            events = start_audit.start_events(now_ms, bind, name, json.loads(row[1]) if row else None, _last_bind(conn))
            _append(conn, events)

        await self.db.writer.call(op)

    async def rebound(self, host: str, port: int, require_keys: bool, lan: bool) -> None:
        """Audit settings applied live that changed the address, LAN mode or the need for client
        keys, as a start would against the last bind recorded (a start's or an earlier change's)."""
        now_ms = self.db.now_ms()
        bind = {"host": host, "port": port, "require_keys": require_keys, "lan": lan}
        if (team := self._team_audit) is not None:
            chain, gateway = team
            events = start_audit.bind_events(now_ms, await _team_bind(chain, gateway), bind)
            await chain.append_all(start_audit.named(events, gateway))
            return
        await self.db.writer.call(lambda conn: _append(conn, start_audit.bind_events(now_ms, _last_bind(conn), bind)))

    def close(self) -> None:
        self.keys.flush_used()
        self.db.close()


def _digest(config: Path | None) -> str | None:
    return hashlib.sha256(config.read_bytes()).hexdigest() if config is not None and config.is_file() else None


def _last_bind(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """Where the gateway last listened, and how, as audited: by a start, or by a change since."""
    row = conn.execute(
        "SELECT action, payload FROM audit WHERE action IN ('gateway.started', 'config.bind_changed') "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return start_audit.bind_of(row[0], json.loads(row[1])) if row else None


async def _team_bind(chain: TeamAudit, gateway: str) -> dict[str, Any] | None:
    """Where this gateway of the team last listened, and how, as audited in the team's chain."""
    last = await chain.last_of(gateway, (start_audit.STARTED, start_audit.BIND_CHANGED))
    return start_audit.bind_of(last.action, last.payload) if last else None


def _append(conn: sqlite3.Connection, events: list[Event]) -> None:
    for event in events:
        audit.append(conn, event.ts, event.actor, event.action, event.payload)
