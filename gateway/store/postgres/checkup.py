"""The doctor's look at the team's PostgreSQL: one connection of its own with the gateways'
password, the schema's version read (never migrated: a check changes nothing), then closed.

libpq says why a connection failed in words only (psycopg gives no SQLSTATE before a session
exists), so the password's refusal is told from the rest by its words."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import psycopg

from gateway.store.postgres.schema import STEPS

Problem = Literal["unreachable", "password", "refused"]
TIMEOUT = 3  # seconds to connect: a doctor waits a little, never as long as a start does
_PASSWORD_WORDS = ("password authentication failed", "no password supplied", "password is required")


@dataclass(frozen=True, slots=True)
class StoreCheckup:
    where: str  # host:port/database, never credentials
    problem: Problem | None  # None: it answered, with the gateways' password
    detail: str  # the server's or libpq's words, when it did not
    schema: int  # the version it is at (0: never migrated)
    expected: int  # the version this Switchboard migrates to
    seconds: float  # the connection and the version's read, together


def where(url: str) -> str:
    """The address without a user's credentials (the settings refuse a password, but say no more than needed)."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


async def check_store(url: str, password: str | None) -> StoreCheckup:
    kwargs: dict[str, Any] = {"password": password} if password else {}
    place, start = where(url), time.perf_counter()
    try:
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=TIMEOUT, **kwargs) as conn:
            schema = await _schema(conn)
    except psycopg.Error as exc:
        return StoreCheckup(place, _problem(str(exc)), _words(exc), 0, len(STEPS), time.perf_counter() - start)
    return StoreCheckup(place, None, "", schema, len(STEPS), time.perf_counter() - start)


async def _schema(conn: psycopg.AsyncConnection[Any]) -> int:
    """The last step run, 0 in a database no gateway has migrated yet."""
    cursor = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
    if not ((row := await cursor.fetchone()) and row[0]):
        return 0
    cursor = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_version")
    row = await cursor.fetchone()
    return int(row[0]) if row else 0


def _problem(text: str) -> Problem:
    if any(words in text for words in _PASSWORD_WORDS):
        return "password"
    return "refused" if "FATAL:" in text or "connection failed" not in text else "unreachable"


def _words(exc: BaseException) -> str:
    """libpq's reason, without its "connection failed: connection to server at … failed:" preamble."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    reason = first.rpartition(" failed: ")[2] if " failed: " in first else first
    return reason.removeprefix("FATAL:").strip()
