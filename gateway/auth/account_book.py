"""Every subscription account: connected (signed in or imported), listed, removed, and kept in
step with the database and the secret store, whichever process changed them.

Connecting or removing an account is an admin action and is audited (``account.connected``,
``account.imported``, ``account.removed``); a renewal refused for good is audited too
(``oauth.refresh_failed``). Tokens go to the secret store first and the account row second, so
a row never names tokens that are not there; removing an account deletes both.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

from gateway.auth.accounts import RISK, RISK_NOTE, Account, AccountLock, SharedRenewal
from gateway.auth.oauth.claims import chatgpt_identity
from gateway.auth.oauth.github import GitHubAuth
from gateway.auth.oauth.logins_on_disk import write_codex_login
from gateway.auth.oauth.openai import OpenAIAuth, Tokens
from gateway.auth.subscription import (
    CodexCredentials,
    CopilotCredentials,
    Credentials,
    RenewalFailed,
)
from gateway.clock import Clock
from gateway.errors import InvalidRequest
from gateway.providers.quota import QuotaWindow
from gateway.providers.settings import SubscriptionSettings
from gateway.store import accounts as rows
from gateway.store import audit
from gateway.store.database import Database
from gateway.store.secrets import SecretStore
from gateway.transport import Transport


class AccountEntry(rows.AccountPublic):
    """An account as listings show it: its row (``state`` its live one), and its risk."""

    provider: str
    risk: str
    risk_note: str


log = logging.getLogger("gateway.accounts")

QuotaSeen = Callable[[str, str, tuple[QuotaWindow, ...]], None]  # (label, provider, windows)


class AccountBook:
    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        clock: Clock,
        endpoints: SubscriptionSettings,
        transport: Transport,
        renewal_lock: AccountLock | None = None,
    ) -> None:
        """``renewal_lock``: team mode's lock per account, held around a renewal across gateways."""
        self._shared = SharedRenewal(renewal_lock, self._reread) if renewal_lock is not None else None
        self._db = db
        self._secrets = secrets
        self._clock = clock
        self.openai = OpenAIAuth(endpoints, transport)
        self.github = GitHubAuth(endpoints, transport)
        self._accounts: dict[str, Account] = {}
        self.changed: list[Callable[[], None]] = []  # told whenever the set of accounts changes
        self.quota_seen: QuotaSeen | None = None

    # --- loading -----------------------------------------------------------------------------

    def load(self) -> None:
        """Read every account and its tokens (blocking: at start, or in the CLI)."""
        for row in self._db.writer.run(rows.load).result():
            self._adopt(row, self._secrets.get(rows.secret_name(row.id)))
        self._changed()

    async def refresh(self) -> None:
        """Pick up accounts connected or removed by another process (the CLI)."""
        current = await self._db.read(rows.load)
        ids = {r.id for r in current}
        changed = False
        for gone in [i for i in self._accounts if i not in ids]:
            self._accounts.pop(gone).cancel()
            changed = True
        for row in current:
            known = self._accounts.get(row.id)
            if known is not None and row.updated_at <= known.row.updated_at:
                continue
            stored = await asyncio.to_thread(self._secrets.get, rows.secret_name(row.id))
            if (
                known is not None
                and stored == known.credentials.stored_now()
                and (row.state == "ok") == (known.problem() is None)
            ):
                known.row = row  # a change this process made (a plan, a state): nothing to reload
            else:
                changed |= self._adopt(row, stored)
        if changed:
            self._changed()

    def _adopt(self, row: rows.AccountRow, stored: str | None, credentials: Credentials | None = None) -> bool:
        """Run the account of ``row``: with ``credentials`` already in hand (a new connection), or
        with those read from ``stored``."""
        if credentials is None:
            if stored is None:
                log.warning("account %s: its tokens are missing from %s; sign in again", row.label, self._secrets.where)
                return False
            try:
                credentials = self._credentials(row, stored)
            except (ValueError, KeyError, TypeError):
                log.warning("account %s: its stored tokens cannot be read; sign in again", row.label)
                return False
        elif isinstance(credentials, CodexCredentials | CopilotCredentials):
            credentials.account = row.label  # made before it had one (a new connection)
        old = self._accounts.get(row.id)
        if old is not None:
            old.cancel()
        self._accounts[row.id] = Account(row, credentials, self._clock, self._store, self._problem_found, self._shared)
        return True

    async def _reread(self, account: Account) -> Credentials | None:
        """The account's credentials as the secret store holds them now, when another gateway
        renewed them there (None: as this one has them, or unreadable)."""
        stored = await asyncio.to_thread(self._secrets.get, rows.secret_name(account.row.id))
        if stored is None or stored == account.credentials.stored_now():
            return None
        try:
            return self._credentials(account.row, stored)
        except (ValueError, KeyError, TypeError):
            return None

    def _credentials(self, row: rows.AccountRow, stored: str) -> Credentials:
        if row.kind == "codex":
            return CodexCredentials(self.openai, CodexCredentials.parse(stored), row.subject, row.label)
        return CopilotCredentials(self.github, CopilotCredentials.parse(stored), self._clock, row.label)

    def _changed(self) -> None:
        for listener in self.changed:
            listener()

    def accounts(self, kind: str | None = None) -> list[Account]:
        return [a for a in self._accounts.values() if kind is None or a.row.kind == kind]

    def find(self, id_or_label: str) -> Account | None:
        return next((a for a in self._accounts.values() if id_or_label in (a.row.id, a.label)), None)

    # --- connecting ----------------------------------------------------------------------------

    async def connect_codex(
        self, tokens: Tokens, origin: str, actor: str, sync_path: Path | None = None, account_id: str | None = None
    ) -> rows.AccountRow:
        who = chatgpt_identity(tokens.id_token, tokens.access_token, account_id)
        if not who.account_id:
            raise InvalidRequest("this ChatGPT sign-in names no account id; sign in again", param="tokens")
        return await self._connect(
            "codex",
            who.account_id,
            who.email or who.account_id[:12],
            who.email,
            who.plan,
            origin,
            actor,
            CodexCredentials.stored(tokens),
            str(sync_path or ""),
        )

    async def connect_copilot(self, github_token: str, origin: str, actor: str, user: str = "") -> rows.AccountRow:
        """Checks the token first: it must get a Copilot token (or the account has no Copilot)."""
        credentials = CopilotCredentials(self.github, github_token, self._clock)
        try:
            credentials.adopt(await credentials.fetch())
        except RenewalFailed as exc:
            raise InvalidRequest(exc.message, param="token") from None
        login = user or await self.github.login(github_token)
        subject = login or hashlib.sha256(github_token.encode()).hexdigest()[:12]
        windows, plan = await credentials.quota()
        row = await self._connect(
            "copilot",
            subject,
            subject,
            "",
            plan or "",
            origin,
            actor,
            CopilotCredentials.stored(github_token),
            "",
            credentials,
        )
        if windows and self.quota_seen is not None:
            self.quota_seen(row.label, "copilot", windows)
        return row

    async def _connect(
        self,
        kind: str,
        subject: str,
        name: str,
        email: str,
        plan: str,
        origin: str,
        actor: str,
        stored: str,
        sync_path: str,
        credentials: Credentials | None = None,
    ) -> rows.AccountRow:
        account_id = f"{kind}-{hashlib.blake2b(subject.encode(), digest_size=6).hexdigest()}"
        now = self._clock.time()
        secret = rows.secret_name(account_id)
        await asyncio.to_thread(self._secrets.set, secret, stored)  # tokens first: a row never names missing ones
        action = "account.connected" if origin == "login" else "account.imported"

        new = rows.Connecting(account_id, kind, name, subject, email, plan, origin, sync_path, now, actor, action)
        try:
            row = await self._db.writer.call(lambda conn: rows.connect(conn, new))
        except BaseException:
            if self.find(account_id) is None:
                await asyncio.to_thread(self._secrets.delete, secret)
            raise
        self._adopt(row, stored, credentials)
        self._changed()
        return row

    async def remove(self, id_or_label: str, actor: str) -> rows.AccountRow | None:
        now_ms = int(self._clock.time() * 1000)

        row = await self._db.writer.call(lambda conn: rows.remove(conn, id_or_label, actor, now_ms))
        if row is None:
            return None
        await asyncio.to_thread(self._secrets.delete, rows.secret_name(row.id))
        gone = self._accounts.pop(row.id, None)
        if gone is not None:
            gone.cancel()
        self._changed()
        return row

    # --- running -------------------------------------------------------------------------------

    def _store(self, account: Account, stored: str) -> asyncio.Future[None]:
        """Save renewed credentials (and the Codex CLI's file, when kept in step) before use."""
        row, now = account.row, self._clock.time()

        def save() -> None:
            self._secrets.set(rows.secret_name(row.id), stored)
            if row.sync_path:
                try:
                    write_codex_login(Path(row.sync_path), CodexCredentials.parse(stored), now)
                except Exception as exc:  # the CLI's file is a courtesy: never fail the request over it
                    log.warning("account %s: could not update %s: %s", row.label, row.sync_path, exc)

        return asyncio.ensure_future(asyncio.to_thread(save))

    def _problem_found(self, account: Account, reason: str, message: str) -> None:
        row, now = account.row, self._clock.time()
        log.warning("account %s: %s", row.label, message)

        def op(conn: sqlite3.Connection) -> None:
            rows.set_state(conn, row.id, reason, now)
            audit.append(
                conn,
                int(now * 1000),
                "gateway",
                "oauth.refresh_failed",
                {"id": row.id, "label": row.label, "state": reason, "message": message[:300]},
            )

        self._db.writer.run(op)

    async def poll_quotas(self) -> None:
        """Ask each usable account's usage endpoint for its windows (and its plan)."""
        for account in self.accounts():
            if account.problem() is not None:
                continue
            windows, plan = await account.credentials.quota()
            if windows and self.quota_seen is not None:
                self.quota_seen(account.label, account.provider, windows)
            if plan and plan != account.row.plan:
                await self._db.writer.call(_plan_update(account.row.id, plan, self._clock.time()))

    def listing(self) -> list[AccountEntry]:
        return [
            AccountEntry(
                **_with_state(a.row.public(), a.problem()), provider=a.provider, risk=RISK, risk_note=RISK_NOTE
            )
            for a in self._accounts.values()
        ]


def _with_state(row: rows.AccountPublic, problem: str | None) -> rows.AccountPublic:
    row["state"] = problem or "ok"  # its live state, over the one last written
    return row


def _plan_update(account_id: str, plan: str, now: float) -> Callable[[sqlite3.Connection], None]:
    return lambda conn: rows.set_state(conn, account_id, "ok", now, plan)
