"""What the CLI's commands share: who the audit log says acted, one way to fail, times as a person
reads them, and the state folder opened for the admin doors, with, in team mode, the client keys
and accounts the team's database's. No gateway need be running: SQLite's WAL lets a serving
gateway and these commands use the folder at once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from gateway.admin.state import State, stored_database
from gateway.auth.account_book import AccountBook
from gateway.cli.fixes import explained
from gateway.clock import SystemClock
from gateway.paths import StatePaths
from gateway.runtime.team_accounts import join_book
from gateway.store.reader import Reader
from gateway.store.secrets import SecretStore
from gateway.store.team import open_team_store

T = TypeVar("T")

ACTOR = "cli"  # who the audit log says acted from the command line (over HTTP: the admin; the app: "app")


def fail(problem: str | BaseException, code: int = 1) -> int:
    """``problem`` on stderr: words, or a failure with the command that fixes it."""
    print(f"switchboard: {problem if isinstance(problem, str) else explained(problem)}", file=sys.stderr)
    return code


def when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def open_state(paths: StatePaths, secrets: SecretStore) -> State:
    """The folder's state, created on first use (blocking); raises ``StoreError`` or ``ConfigError``."""
    paths.ensure()
    state = State(paths.data_dir, secrets, SystemClock())
    state.open()
    return state


def read_stored(paths: StatePaths, report: Callable[[Reader], Coroutine[Any, Any, T]]) -> T:
    """``report`` over the folder's database, read-only, creating nothing; ``StoreError`` when
    there is none yet."""
    read = stored_database(paths.data_dir)
    try:
        return asyncio.run(report(read))
    finally:
        read.close()


@asynccontextmanager
async def keys_where_kept(state: State, url: str | None) -> AsyncIterator[None]:
    """Inside, ``state``'s client keys are the team's database's when the settings name one
    (``[store] url``: a key made or revoked there counts on every gateway of the team), else the
    state folder's."""
    if url is None:
        yield
        return
    store = await open_team_store(url, os.environ, state.secrets)
    try:
        await state.keys.join(store.keys, await store.keys.pepper())
        yield
        await state.keys.write_used()
    finally:
        await state.keys.leave()
        await store.close()


@asynccontextmanager
async def accounts_where_kept(book: AccountBook, url: str | None, secrets: SecretStore) -> AsyncIterator[None]:
    """Inside, ``book``'s accounts are the team's database's when the settings name one (their
    rows, and their tokens where the team's passphrase file seals them there), else the state
    folder's, as a serving gateway's are."""
    if url is None:
        yield
        return
    store = await open_team_store(url, os.environ, secrets)
    try:
        await join_book(book, store, os.environ)
        yield
    finally:
        await book.leave()
        await store.close()
