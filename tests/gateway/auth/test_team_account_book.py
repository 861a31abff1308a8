"""The account book joined to a team's stores (in-memory stand-ins here): the team's accounts are
served and those held alone are not; tokens that do not open are said once a version of the row,
never repeated in the log; the quota windows seen are written with the next refresh, the last of
each, and never a removed account's; a renewal under way when the gateway leaves the team stores
its tokens in the team's database."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from fakes.clock import FakeClock
from fakes.transport import CannedResponse, FakeTransport

from gateway.auth.account_book import AccountBook
from gateway.auth.oauth.openai import Tokens
from gateway.auth.subscription import CodexCredentials
from gateway.providers.access import Access
from gateway.providers.quota import QuotaWindow
from gateway.providers.settings import SubscriptionSettings
from gateway.store.accounts import AccountRow, Connecting, QuotaRow
from gateway.store.database import Database
from gateway.store.seam import Event, TokensUnreadable
from gateway.store.secrets import MemorySecrets
from gateway.transport import UpstreamRequest

SEALED = CodexCredentials.stored(Tokens("id-secret", "access-secret", "refresh-secret"))


def _row(account_id: str, label: str, updated_at: float = 1.0) -> AccountRow:
    return AccountRow(account_id, "codex", label, f"sub-{account_id}", "", "plus", "ok", "login", "", 1.0, updated_at)


def _window(label: str, used: float) -> QuotaRow:
    return (label, "5h", "codex", used, None, 18000, None, None, 0, 1.0, used, 1.0)


class TeamRows:
    """The team's account rows, as another gateway may change them."""

    def __init__(self, *rows: AccountRow) -> None:
        self.rows = list(rows)
        self.quota: list[QuotaRow] = []

    async def load(self) -> list[AccountRow]:
        return list(self.rows)

    async def find(self, id_or_label: str) -> AccountRow | None:
        return next((r for r in self.rows if id_or_label in (r.id, r.label)), None)

    async def connect(self, new: Connecting) -> AccountRow:
        raise AssertionError("not connected here")

    async def remove(self, id_or_label: str, actor: str, ts_ms: int) -> AccountRow | None:
        raise AssertionError("not removed here")

    async def set_state(
        self, account_id: str, state: str, now: float, plan: str | None = None, event: Event | None = None
    ) -> None:
        raise AssertionError("no state recorded here")

    async def save_quota(self, rows: list[QuotaRow]) -> None:
        self.quota += rows

    async def load_quota(self) -> list[QuotaRow]:
        return list(self.quota)


class TeamTokens:
    where = "the team's database (sealed)"

    def __init__(self, kept: dict[str, str], unreadable: set[str]) -> None:
        self.kept = kept
        self.unreadable = unreadable

    async def get(self, account_id: str) -> str | None:
        if account_id in self.unreadable:
            raise TokensUnreadable("its sealed tokens do not open (altered, or sealed under another key)")
        return self.kept.get(account_id)

    async def put(self, account_id: str, stored: str) -> None:
        self.kept[account_id] = stored

    async def delete(self, account_id: str) -> None:
        self.kept.pop(account_id, None)


async def _never(request: UpstreamRequest) -> CannedResponse:
    raise AssertionError("no provider is asked here")


@pytest.fixture
def book(tmp_path: Path) -> AccountBook:
    clock = FakeClock()
    db = Database(tmp_path, b"a" * 32, clock)
    return AccountBook(db, MemorySecrets(), clock, SubscriptionSettings(), FakeTransport(_never))


async def test_tokens_that_do_not_open_are_said_once_a_row_version_and_never_repeated(
    book: AccountBook, caplog: pytest.LogCaptureFixture
) -> None:
    rows = TeamRows(_row("codex-a", "codex:a"), _row("codex-b", "codex:b"))
    tokens = TeamTokens({"codex-a": SEALED, "codex-b": SEALED}, unreadable={"codex-b"})
    with caplog.at_level(logging.WARNING, logger="gateway.accounts"):
        await book.join(rows, tokens)
        for _ in range(3):
            await book.refresh()
    assert [a.label for a in book.accounts()] == ["codex:a"]
    said = [r.getMessage() for r in caplog.records]
    assert said == ["account codex:b: its stored tokens cannot be read; sign in again"]

    rows.rows[1] = _row("codex-b", "codex:b", updated_at=2.0)  # connected again elsewhere, still not opening
    with caplog.at_level(logging.WARNING, logger="gateway.accounts"):
        await book.refresh()
    assert len(caplog.records) == 2
    assert not any(secret in caplog.text for secret in ("id-secret", "access-secret", "refresh-secret"))

    tokens.unreadable.clear()  # sealed again with the team's key: served from the next refresh
    rows.rows[1] = _row("codex-b", "codex:b", updated_at=3.0)
    await book.refresh()
    assert [a.label for a in book.accounts()] == ["codex:a", "codex:b"]


async def test_the_last_quota_window_of_each_is_written_with_the_refresh_but_never_a_removed_accounts(
    book: AccountBook,
) -> None:
    rows = TeamRows(_row("codex-a", "codex:a"), _row("codex-b", "codex:b"))
    await book.join(rows, TeamTokens({"codex-a": SEALED, "codex-b": SEALED}, set()))
    book.keep_quota(_window("codex:a", 10.0))
    book.keep_quota(_window("codex:a", 12.0))
    book.keep_quota(_window("codex:b", 30.0))
    rows.rows.pop()  # removed on another gateway, its windows with it
    await book.refresh()
    assert rows.quota == [_window("codex:a", 12.0)]
    await book.refresh()
    assert rows.quota == [_window("codex:a", 12.0)]  # nothing new seen: nothing written again


class Renewing:
    """An account's lapsed credentials whose renewal answers when the test says."""

    def __init__(self) -> None:
        self.answer = asyncio.Event()
        self.tokens = "lapsed"

    def current(self, now: float) -> Access | None:
        return Access(self.tokens) if self.tokens != "lapsed" else None

    async def fetch(self) -> str:
        await self.answer.wait()
        return "renewed"

    def stored_after(self, fresh: str) -> str:
        return fresh

    def adopt(self, fresh: str) -> None:
        self.tokens = fresh

    def stored_now(self) -> str:
        return self.tokens

    def secrets(self) -> tuple[str, ...]:
        return (self.tokens,)

    async def quota(self) -> tuple[tuple[QuotaWindow, ...], str | None]:
        return (), None


async def test_a_renewal_under_way_at_leave_stores_its_tokens_in_the_team_database_not_the_gateways_own(
    book: AccountBook,
) -> None:
    """A gateway stopping mid-renewal: the rotated refresh token goes where the team reads it,
    never left revoked there while the new one lands in this gateway's own secret store."""
    tokens = TeamTokens({"codex-a": SEALED}, set())
    await book.join(TeamRows(_row("codex-a", "codex:a")), tokens)
    (account,) = book.accounts()
    account.credentials = credentials = Renewing()
    renewal = asyncio.ensure_future(account.access())
    await asyncio.sleep(0)  # the renewal is under way
    leaving = asyncio.ensure_future(book.leave())
    await asyncio.sleep(0.01)
    credentials.answer.set()
    await asyncio.gather(renewal, leaving)
    assert tokens.kept["codex-a"] == "renewed"
