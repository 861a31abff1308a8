"""Every subscription account: connected (signed in or imported), listed, removed, and kept in
step with the database and where its tokens are kept, whichever process changed them.

Connecting or removing an account is an admin action and is audited (``account.connected``,
``account.imported``, ``account.removed``); a renewal refused for good is audited too
(``oauth.refresh_failed``). Tokens are stored first and the account row second, so a row never
names tokens that are not there; removing an account deletes both.

Alone, the rows are in the state folder's database and the tokens in the secret store. Joined to
a team (``join``), the rows are the team's database's, which every gateway reads again every few
seconds (``refresh``), and the tokens are sealed there too when the team has a passphrase: a
renewal on one gateway stores the rotated token where the others read it (``SharedRenewal``),
under Redis's lock per account or, with no Redis, the database's.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from gateway.auth.accounts import RISK, RISK_NOTE, Account, AccountLock, SharedRenewal
from gateway.auth.kept_tokens import SecretStoreTokens
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
from gateway.store.database import Database
from gateway.store.seam import AccountStore, Event, TokenStore, TokensUnreadable
from gateway.store.secrets import SecretStore
from gateway.store.sqlite_store import SqliteAccounts
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
        self._alone = self._shared  # as it was before a join
        self._db = db
        self._secrets = secrets
        self._rows: AccountStore = SqliteAccounts(db)
        self._tokens: TokenStore = SecretStoreTokens(secrets)
        self._sync_files = True  # whether the Codex CLI's file is kept in step (on its own machine only)
        self._clock = clock
        self.openai = OpenAIAuth(endpoints, transport)
        self.github = GitHubAuth(endpoints, transport)
        self._accounts: dict[str, Account] = {}
        self.changed: list[Callable[[], None]] = []  # told whenever the set of accounts changes
        self.quota_seen: QuotaSeen | None = None
        self._writing: set[asyncio.Task[None]] = set()  # states recorded, not yet written
        self._said: dict[str, float] = {}  # account id -> the row version whose unusable tokens were logged
        self._quota: dict[tuple[str, str], rows.QuotaRow] = {}  # (label, window) -> the last seen, not yet written

    # --- loading -----------------------------------------------------------------------------

    def load(self) -> None:
        """Read every account and its tokens (blocking: at start, or in the CLI)."""
        for row in self._db.writer.run(rows.load).result():
            self._adopt(row, self._secrets.get(rows.secret_name(row.id)))
        self._changed()

    async def join(self, team_rows: AccountStore, tokens: TokenStore | None, lock: AccountLock | None = None) -> None:
        """From now on, the team's accounts: their rows in ``team_rows`` (the team's database) and
        their tokens in ``tokens`` (sealed there), or, None, in this gateway's own secret store;
        ``lock``: the database's lock per account, the renewals' when no Redis lock spans the
        gateways. The accounts this gateway had alone are no longer served (they stay in its folder)."""
        self._rows, self._sync_files = team_rows, False  # the CLI's file is on the machine that imported it
        if tokens is not None:
            self._tokens = tokens
        if self._shared is None and lock is not None:
            self._shared = SharedRenewal(lock, self._reread)
        for account in self._accounts.values():
            account.cancel()
        self._accounts.clear()
        await self.refresh()

    async def leave(self) -> None:
        """Before the team's database closes: the renewals under way end first (their rotated
        tokens stored where the team reads them, not in this gateway's own store), and the states
        and quota windows on their way there are written."""
        await asyncio.gather(*(account.settled() for account in self._accounts.values()))
        try:
            await self._write_quota({account.label for account in self._accounts.values()})
        except Exception as exc:  # a stop goes on: each gateway reads them again from the provider
            log.warning("the accounts' last quota windows were not written: %s", exc)
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)
        self._rows, self._tokens = SqliteAccounts(self._db), SecretStoreTokens(self._secrets)
        self._shared = self._alone

    def keep_quota(self, row: rows.QuotaRow) -> None:
        """A quota window seen, written with the next ``refresh`` (a team's gateways see one on
        every answer: only the last of each is written, every few seconds)."""
        self._quota[(row[0], row[1])] = row

    async def _write_quota(self, labels: set[str]) -> None:
        """The windows kept since the last time, of the accounts ``labels`` names (a removed
        account's went with it)."""
        windows, self._quota = [w for w in self._quota.values() if w[0] in labels], {}
        if windows:
            await self._rows.save_quota(windows)

    async def refresh(self) -> None:
        """Pick up accounts connected or removed by another process (the CLI, another gateway);
        write the quota windows kept since the last time."""
        current = await self._rows.load()
        await self._write_quota({row.label for row in current})
        ids = {r.id for r in current}
        changed = False
        for gone in [i for i in self._accounts if i not in ids]:
            self._accounts.pop(gone).cancel()
            changed = True
        for row in current:
            known = self._accounts.get(row.id)
            if known is not None and row.updated_at <= known.row.updated_at:
                continue
            try:
                stored = await self._tokens.get(row.id)
            except TokensUnreadable:
                changed |= self._unusable(row, "its stored tokens cannot be read")
                continue
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
                return self._unusable(row, f"its tokens are missing from {self._tokens.where}")
            try:
                credentials = self._credentials(row, stored)
            except (ValueError, KeyError, TypeError):
                return self._unusable(row, "its stored tokens cannot be read")
        elif isinstance(credentials, CodexCredentials | CopilotCredentials):
            credentials.account = row.label  # made before it had one (a new connection)
        old = self._accounts.get(row.id)
        if old is not None:
            old.cancel()
        self._accounts[row.id] = Account(row, credentials, self._clock, self._store, self._problem_found, self._shared)
        return True

    def _unusable(self, row: rows.AccountRow, why: str) -> bool:
        """Said once a version of the row, not at every refresh; False: not adopted."""
        if self._said.get(row.id) != row.updated_at:
            self._said[row.id] = row.updated_at
            log.warning("account %s: %s; sign in again", row.label, why)
        return False

    async def _reread(self, account: Account) -> Credentials | None:
        """The account's credentials as they are stored now, when another gateway renewed them
        there (None: as this one has them, or unreadable)."""
        try:
            stored = await self._tokens.get(account.row.id)
        except TokensUnreadable:
            return None
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
        await self._tokens.put(account_id, stored)  # tokens first: a row never names missing ones
        action = "account.connected" if origin == "login" else "account.imported"

        new = rows.Connecting(account_id, kind, name, subject, email, plan, origin, sync_path, now, actor, action)
        try:
            row = await self._rows.connect(new)
        except BaseException:
            if self.find(account_id) is None:
                await self._tokens.delete(account_id)
            raise
        self._adopt(row, stored, credentials)
        self._changed()
        return row

    async def remove(self, id_or_label: str, actor: str) -> rows.AccountRow | None:
        now_ms = int(self._clock.time() * 1000)

        row = await self._rows.remove(id_or_label, actor, now_ms)
        if row is None:
            return None
        await self._tokens.delete(row.id)
        gone = self._accounts.pop(row.id, None)
        if gone is not None:
            gone.cancel()
        self._changed()
        return row

    # --- running -------------------------------------------------------------------------------

    def _store(self, account: Account, stored: str) -> asyncio.Future[None]:
        """Save renewed credentials (and the Codex CLI's file, when kept in step) before use:
        awaited by the renewal, within the lock other gateways wait on."""
        return asyncio.ensure_future(self._save(account.row, stored))

    async def _save(self, row: rows.AccountRow, stored: str) -> None:
        await self._tokens.put(row.id, stored)
        if row.sync_path and self._sync_files:
            await asyncio.to_thread(_sync_codex_file, row, stored, self._clock.time())

    def _problem_found(self, account: Account, reason: str, message: str) -> None:
        row, now = account.row, self._clock.time()
        log.warning("account %s: %s", row.label, message)
        payload = {"id": row.id, "label": row.label, "state": reason, "message": message[:300]}
        event = Event(int(now * 1000), "gateway", "oauth.refresh_failed", payload)
        self._write(self._rows.set_state(row.id, reason, now, event=event))

    def _write(self, writing: Coroutine[Any, Any, None]) -> None:
        """A state recorded without holding up the request that found it (``leave`` waits for it)."""
        task = asyncio.ensure_future(writing)
        self._writing.add(task)
        task.add_done_callback(_written(self._writing))

    async def poll_quotas(self) -> None:
        """Ask each usable account's usage endpoint for its windows (and its plan)."""
        for account in self.accounts():
            if account.problem() is not None:
                continue
            windows, plan = await account.credentials.quota()
            if windows and self.quota_seen is not None:
                self.quota_seen(account.label, account.provider, windows)
            if plan and plan != account.row.plan:
                await self._rows.set_state(account.row.id, "ok", self._clock.time(), plan)

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


def _sync_codex_file(row: rows.AccountRow, stored: str, now: float) -> None:
    try:
        write_codex_login(Path(row.sync_path), CodexCredentials.parse(stored), now)
    except Exception as exc:  # the CLI's file is a courtesy: never fail the request over it
        log.warning("account %s: could not update %s: %s", row.label, row.sync_path, exc)


def _written(writing: set[asyncio.Task[None]]) -> Callable[[asyncio.Task[None]], None]:
    def done(task: asyncio.Task[None]) -> None:
        writing.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("an account's state was not recorded: %s", exc)

    return done
