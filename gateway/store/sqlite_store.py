"""The storage seam over the SQLite database as it is (the desktop's and a single server's): each
change an operation on the writer thread, each read on the reader thread. Nothing is added to how
the database is written; these only name its operations in the seam's terms."""

from __future__ import annotations

import sqlite3
from typing import Any

from gateway.store import accounts, admin_login, audit, keys, ledger, model_lists
from gateway.store.accounts import AccountRow, Connecting, QuotaRow
from gateway.store.admin_login import Outcome, Spend
from gateway.store.audit import Anchor, AuditEvent, Verdict
from gateway.store.database import Database
from gateway.store.keys import KeyRecord
from gateway.store.ledger import (
    CallerCount,
    LedgerRow,
    NamedSpanTotals,
    NamedTotals,
    RecentRow,
    SpanTotals,
    UsageRow,
)
from gateway.store.model_lists import ModelListRow, UnspokenRow
from gateway.store.reader import Reader
from gateway.store.seam import Event


def _append(conn: sqlite3.Connection, event: Event) -> int:
    return audit.append(conn, event.ts, event.actor, event.action, event.payload)


class SqliteKeys:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> list[KeyRecord]:
        return await self._db.read(keys.load)

    async def get(self, key_id: str) -> KeyRecord | None:
        return await self._db.read(lambda conn: keys.get(conn, key_id))

    async def insert(self, record: KeyRecord, event: Event) -> None:
        def op(conn: sqlite3.Connection) -> None:
            keys.insert(conn, record)
            _append(conn, event)

        await self._db.writer.call(op)

    async def revoke(self, key_id: str, when: float, event: Event) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return keys.revoke(conn, key_id, when) and _append(conn, event) > 0

        return await self._db.writer.call(op)

    async def set_limits(self, key_id: str, tier: str, limits: dict[str, float], event: Event) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            return keys.set_limits(conn, key_id, tier, limits) and _append(conn, event) > 0

        return await self._db.writer.call(op)

    async def touch(self, used: list[tuple[float, str]]) -> None:
        for pair in used:
            self._db.writer.append(keys.touch_rows, pair)


class SqliteAuditReads:
    """``read``: the database's reads (a serving gateway's, or the folder's opened read-only);
    ``anchor``: where its end is sealed (None: the chain is checked without it)."""

    def __init__(self, read: Reader, anchor: Anchor | None) -> None:
        self._read = read
        self._anchor = anchor

    @property
    def sealed(self) -> bool:
        return self._anchor is not None

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEvent]:
        return await self._read(lambda conn: audit.events(conn, after, limit))

    async def export(self) -> list[dict[str, Any]]:
        return await self._read(lambda conn: list(audit.export(conn)))

    async def verify(self) -> Verdict:
        anchor = self._anchor
        return await self._read(lambda conn: audit.verify(conn, anchor))


class SqliteAudit(SqliteAuditReads):
    def __init__(self, db: Database) -> None:
        super().__init__(db.read, db.anchor)
        self._db = db

    async def append(self, event: Event) -> int:
        return await self._db.writer.call(lambda conn: _append(conn, event))


class SqliteLedgerReads:
    """``read``: the database's reads (a serving gateway's, or the folder's opened read-only)."""

    def __init__(self, read: Reader) -> None:
        self._read = read

    async def report(self, view: str, since: float, until: float, bucket: str = "hour") -> list[UsageRow]:
        return await self._read(lambda conn: ledger.report(conn, view, since, until, bucket))

    async def grouped(self, view: str, since: float, until: float) -> list[NamedTotals]:
        return await self._read(lambda conn: ledger.grouped(conn, view, since, until))

    async def timeseries(self, since: float, until: float, bucket: str = "hour") -> list[SpanTotals]:
        return await self._read(lambda conn: ledger.timeseries(conn, since, until, bucket))

    async def timeseries_by(self, view: str, since: float, until: float, bucket: str = "hour") -> list[NamedSpanTotals]:
        return await self._read(lambda conn: ledger.timeseries_by(conn, view, since, until, bucket))

    async def recent(self, limit: int) -> list[RecentRow]:
        return await self._read(lambda conn: ledger.recent(conn, limit))


class SqliteLedger(SqliteLedgerReads):
    """Writes straight to the writer thread: the running gateway's requests go through
    ``Database.record`` instead, behind its journal."""

    def __init__(self, db: Database) -> None:
        super().__init__(db.read)
        self._db = db

    async def write(self, rows: list[LedgerRow]) -> int:
        await self._db.writer.call(lambda conn: ledger.write(conn, rows))
        return len(rows)

    async def caller_counts(self, since: float, bucket_s: float) -> list[CallerCount]:
        return await self._read(lambda conn: ledger.caller_counts(conn, since, bucket_s))

    async def caller_spend(self, since: float) -> list[tuple[str, float, float]]:
        return await self._read(lambda conn: ledger.caller_spend(conn, since))


class SqliteModelLists:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, rows: list[ModelListRow]) -> None:
        await self._db.writer.call(lambda conn: model_lists.save(conn, rows))

    async def load(self, taken_since: float) -> list[ModelListRow]:
        return await self._db.writer.call(lambda conn: model_lists.load(conn, taken_since))  # it deletes too

    async def save_unspoken(self, rows: list[UnspokenRow]) -> None:
        await self._db.writer.call(lambda conn: model_lists.save_unspoken(conn, rows))

    async def load_unspoken(self, learned_since: float) -> list[UnspokenRow]:
        return await self._db.writer.call(lambda conn: model_lists.load_unspoken(conn, learned_since))


class SqliteAdminLogin:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def password(self, name: str) -> tuple[str, int] | None:
        return await self._db.read(lambda conn: admin_login.password(conn, name))

    async def generation(self, subject: str) -> int | None:
        return await self._db.read(lambda conn: admin_login.generation(conn, subject))

    async def set_password(self, name: str, phc: str, now: float, actor: str, ts_ms: int, first: bool = False) -> bool:
        return await self._db.writer.call(lambda c: admin_login.set_password(c, name, phc, now, actor, ts_ms, first))

    async def rehash(self, name: str, phc: str) -> None:
        await self._db.writer.call(lambda conn: admin_login.rehash(conn, name, phc))

    async def issue(self, digest: bytes, family: str, subject: str, expires: float) -> None:
        await self._db.writer.call(lambda conn: admin_login.issue(conn, digest, family, subject, expires))

    async def spend(self, spent: Spend) -> Outcome:
        return await self._db.writer.call(lambda conn: admin_login.spend(conn, spent))


class SqliteAccounts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> list[AccountRow]:
        return await self._db.read(accounts.load)

    async def find(self, id_or_label: str) -> AccountRow | None:
        return await self._db.read(lambda conn: accounts.find(conn, id_or_label))

    async def connect(self, new: Connecting) -> AccountRow:
        return await self._db.writer.call(lambda conn: accounts.connect(conn, new))

    async def remove(self, id_or_label: str, actor: str, ts_ms: int) -> AccountRow | None:
        return await self._db.writer.call(lambda conn: accounts.remove(conn, id_or_label, actor, ts_ms))

    async def set_state(
        self, account_id: str, state: str, now: float, plan: str | None = None, event: Event | None = None
    ) -> None:
        def op(conn: sqlite3.Connection) -> None:
            accounts.set_state(conn, account_id, state, now, plan)
            if event is not None:
                _append(conn, event)

        await self._db.writer.call(op)

    async def save_quota(self, rows: list[QuotaRow]) -> None:
        await self._db.writer.call(lambda conn: accounts.save_quota(conn, rows))

    async def load_quota(self) -> list[QuotaRow]:
        return await self._db.read(accounts.load_quota)


class SqliteStore:
    """``db`` opened by its owner (the gateway's state), who also closes it."""

    def __init__(self, db: Database) -> None:
        self._keys = SqliteKeys(db)
        self._audit = SqliteAudit(db)
        self._ledger = SqliteLedger(db)
        self._model_lists = SqliteModelLists(db)
        self._admin_login = SqliteAdminLogin(db)
        self._accounts = SqliteAccounts(db)

    @property
    def keys(self) -> SqliteKeys:
        return self._keys

    @property
    def audit(self) -> SqliteAudit:
        return self._audit

    @property
    def ledger(self) -> SqliteLedger:
        return self._ledger

    @property
    def model_lists(self) -> SqliteModelLists:
        return self._model_lists

    @property
    def admin_login(self) -> SqliteAdminLogin:
        return self._admin_login

    @property
    def accounts(self) -> SqliteAccounts:
        return self._accounts

    async def close(self) -> None:
        """Nothing of its own to close: the database is its owner's."""
