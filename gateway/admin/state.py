"""What the gateway keeps between runs, opened together: the database (ledger, audit log, client
keys, admin login) and the secrets that key it, from the secret store.

Opening is blocking (SQLite, the keychain) and happens once, before the gateway serves. Reports
need less: ``stored_database`` and ``stored_anchor`` read a state folder as it is (a gateway may be
serving it), creating nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

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
from gateway.store.secrets import SecretStore, ensure

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

    def open(self, admin_password: str | None = None) -> None:
        """Open the database, load the keys; set the admin password from the environment on the
        first run (``SWITCHBOARD_ADMIN_PASSWORD``), never over one already set."""
        self.db.open()
        self.keys.load()
        if admin_password and not self.admin.exists():
            self.admin.set_password(admin_password, "environment").result()

    def started(self, host: str, port: int, require_keys: bool, lan: bool, config: Path | None) -> None:
        """Audit this start; and, against the last bind recorded, a change of address or of LAN
        mode, and against the last start, of the config file (whoever edited it: the app, a
        person, a script)."""
        now_ms = self.db.now_ms()
        digest = hashlib.sha256(config.read_bytes()).hexdigest() if config is not None and config.is_file() else None
        bind = {"host": host, "port": port, "require_keys": require_keys, "lan": lan, "config_sha256": digest}

        def op(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT payload FROM audit WHERE action = 'gateway.started' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            last_start = json.loads(row[0]) if row else None
            last = _last_bind(conn)
            audit.append(conn, now_ms, "gateway", "gateway.started", bind)
            if last is not None:
                _bind_changes(conn, now_ms, last, bind)
            if last_start is not None and "config_sha256" in last_start and last_start["config_sha256"] != digest:
                audit.append(
                    conn,
                    now_ms,
                    "gateway",
                    "config.changed",
                    {"file": config.name if config else None, "before": last_start["config_sha256"], "after": digest},
                )

        self.db.writer.run(op).result()

    def rebound(self, host: str, port: int, require_keys: bool, lan: bool) -> None:
        """Audit settings applied live that changed the address, LAN mode or the need for client
        keys, as a start would against the last bind recorded (a start's or an earlier change's)."""
        now_ms = self.db.now_ms()
        bind = {"host": host, "port": port, "require_keys": require_keys, "lan": lan}

        def op(conn: sqlite3.Connection) -> None:
            last = _last_bind(conn)
            if last is not None:
                _bind_changes(conn, now_ms, last, bind)

        self.db.writer.run(op).result()

    def close(self) -> None:
        self.keys.flush_used()
        self.db.close()


def _last_bind(conn: sqlite3.Connection) -> dict[str, Any] | None:
    """Where the gateway last listened, and how, as audited: by a start, or by a change since."""
    row = conn.execute(
        "SELECT action, payload FROM audit WHERE action IN ('gateway.started', 'config.bind_changed') "
        "ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    payload: dict[str, Any] = json.loads(row[1])
    return payload if row[0] == "gateway.started" else payload.get("after")


def _bind_changes(conn: sqlite3.Connection, now_ms: int, last: dict[str, Any], bind: dict[str, Any]) -> None:
    """The events for a bind that differs from ``last``: LAN mode switched, and the change itself
    (whose ``after`` is then the last bind recorded)."""
    if last.get("lan") != bind["lan"]:
        action = "lan_mode.on" if bind["lan"] else "lan_mode.off"
        audit.append(conn, now_ms, "gateway", action, {"host": bind["host"]})
    if any(last.get(name) != bind[name] for name in ("host", "port", "require_keys")):
        audit.append(conn, now_ms, "gateway", "config.bind_changed", {"before": last, "after": bind})
