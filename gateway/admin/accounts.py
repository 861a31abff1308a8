"""Subscription accounts (ChatGPT through Codex, GitHub Copilot), the same for the app, the admin
routes and the CLI: the listing, importing a login another tool left on disk, signing in, removing
one; and the quota windows a stopped gateway left in the database, for the CLI."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypedDict

from gateway.auth.account_book import AccountBook, AccountEntry
from gateway.auth.accounts import RISK_NOTE
from gateway.auth.login_flows import Flow, LoginFlows
from gateway.auth.oauth.logins_on_disk import (
    ImportProblem,
    codex_auth_file,
    copilot_config_dir,
    read_codex_login,
    read_editor_login,
    write_back_to,
)
from gateway.errors import InvalidRequest, RouteNotFound
from gateway.routing.quota import QuotaReading, QuotaRecord
from gateway.store import accounts as rows
from gateway.store.accounts import AccountPublic
from gateway.store.reader import Reader

LIST_WAIT = 10.0  # seconds a new account's answer waits for its model list


class AccountListing(TypedDict):
    accounts: list[AccountEntry]
    risk_note: str


class Accounts:
    """``listed(kind, timeout)``: waits for the running gateway's model list of a kind of
    subscription (none without a gateway); ``forget_quota(label)``: drops a removed account's
    windows from the running gateway's book."""

    def __init__(
        self,
        flows: LoginFlows,
        listed: Callable[[str, float], Awaitable[None]] | None = None,
        forget_quota: Callable[[str], None] | None = None,
    ) -> None:
        self.flows = flows
        self._listed = listed
        self._forget_quota = forget_quota

    @property
    def book(self) -> AccountBook:
        return self.flows.book

    def listing(self) -> AccountListing:
        return {"accounts": self.book.listing(), "risk_note": RISK_NOTE}

    async def import_codex(self, actor: str, path: Path | None = None, *, sync: bool = False) -> AccountPublic:
        """The Codex CLI's login (its auth.json, or ``path``) as an account; with ``sync``,
        renewed tokens are written back there so the CLI keeps working."""
        flows = self.flows
        found = path or codex_auth_file(flows.env, flows.home)
        try:
            login = await asyncio.to_thread(read_codex_login, found)
            keep_in_step = write_back_to(login, sync)
        except ImportProblem as exc:
            raise InvalidRequest(str(exc), param="path", fix=exc.fix, detail=exc.detail) from None
        row = await self.book.connect_codex(login.tokens, "import:codex-cli", actor, keep_in_step, login.account_id)
        await self._models_of("codex")
        return row.public()

    async def import_copilot(self, actor: str, token: str | None = None, host: str | None = None) -> AccountPublic:
        """A GitHub token given, or else the one an editor's Copilot sign-in left on disk for
        ``host`` (default: the configured GitHub's host, so a GitHub Enterprise login is found)."""
        flows = self.flows
        if token is None:
            folder = copilot_config_dir(flows.env, flows.home, sys.platform == "win32")
            try:
                login = await asyncio.to_thread(read_editor_login, flows.env, folder, host or self.book.github.host)
            except ImportProblem as exc:
                raise InvalidRequest(str(exc), param="token", fix=exc.fix, detail=exc.detail) from None
            token, user, origin = login.token, login.user, "import:editor"
        else:
            user, origin = "", "import:token"
        row = await self.book.connect_copilot(token, origin, actor, user)
        await self._models_of("copilot")
        return row.public()

    async def _models_of(self, kind: str) -> None:
        if self._listed is not None:  # its models are there when the import returns
            await self._listed(kind, LIST_WAIT)

    async def sign_in(self, kind: str, actor: str) -> Flow:
        """Start "Sign in with ChatGPT" (``codex``) or "with GitHub Copilot" (``copilot``)."""
        if kind == "codex":
            return await self.flows.start_chatgpt(actor)
        if kind == "copilot":
            return await self.flows.start_copilot(actor)
        raise RouteNotFound(f"No sign-in {kind[:60]!r}; start one with codex or copilot.")

    def flow(self, flow_id: str) -> Flow | None:
        return self.flows.get(flow_id)

    def paste_redirect(self, flow: Flow, url: str) -> None:
        """The address a ChatGPT sign-in's browser ended on, when no listener could catch it."""
        self.flows.paste_redirect(flow, url)

    async def remove(self, account_id: str, actor: str) -> AccountPublic | None:
        """Remove the account (by id or label) and its tokens; None when there is none."""
        row = await self.book.remove(account_id, actor)
        if row is None:
            return None
        if self._forget_quota is not None:
            self._forget_quota(row.label)
        return row.public()


async def stored_quota(read: Reader, now: float) -> list[QuotaReading]:
    """Every window the database holds (``read``: a state folder's, read-only; a gateway may be
    serving it)."""
    records = await read(lambda conn: [QuotaRecord.from_row(r) for r in rows.load_quota(conn)])
    return [r.public(now) for r in records]
