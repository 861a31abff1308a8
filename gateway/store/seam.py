"""The storage seam: what the gateway asks of its store, one Protocol a concern, so that one
process on SQLite (the desktop, a single server) and several gateways on one PostgreSQL (a team)
are the same to their callers.

A change that is audited commits with its audit event in one transaction, on either back end:
the event travels with the change (``Event``) rather than being appended after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from gateway.store.accounts import AccountRow, Connecting, QuotaRow
from gateway.store.admin_login import Outcome, Spend
from gateway.store.audit import AuditEvent, Verdict
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


@dataclass(frozen=True, slots=True)
class Event:
    """An audit event to append: ``ts`` in milliseconds since the epoch, a payload without floats."""

    ts: int
    actor: str
    action: str
    payload: dict[str, Any]


class KeyStore(Protocol):
    """Client keys: their keyed hashes and metadata, never the keys."""

    async def load(self) -> list[KeyRecord]:
        """Every key, live or revoked, oldest first."""
        ...

    async def get(self, key_id: str) -> KeyRecord | None:
        """One key as stored now (another gateway may have made or revoked it a moment ago)."""
        ...

    async def insert(self, record: KeyRecord, event: Event) -> None: ...

    async def revoke(self, key_id: str, when: float, event: Event) -> bool:
        """True when the key existed and was live (and ``event`` was appended); False changes nothing."""
        ...

    async def set_limits(self, key_id: str, tier: str, limits: dict[str, float], event: Event) -> bool:
        """True when the key is live (and ``event`` was appended); False changes nothing."""
        ...

    async def touch(self, used: list[tuple[float, str]]) -> None:
        """When keys were last used: (when, id) pairs, the latest per key wins; not audited."""
        ...


class AuditReads(Protocol):
    """The audit log as reports read it (the CLI reads a stopped or serving gateway's so)."""

    async def events(self, after: int = 0, limit: int = 100) -> list[AuditEvent]: ...

    async def export(self) -> list[dict[str, Any]]:
        """Every row as stored, hashes included (``audit.exported_row`` reads one back)."""
        ...

    async def verify(self) -> Verdict:
        """The chain walked from its start (and its end against a seal, where the back end keeps one)."""
        ...

    @property
    def sealed(self) -> bool:
        """Whether ``verify`` also checks the chain's end against a seal kept outside the database."""
        ...


class AuditStore(AuditReads, Protocol):
    """The audit log: one hash chain, whichever process appends to it."""

    async def append(self, event: Event) -> int:
        """The event after the chain's current head, in its own transaction; its sequence number."""
        ...


class LedgerReads(Protocol):
    """The usage ledger as reports read it: views over [since, until) (seconds since the epoch)."""

    async def report(self, view: str, since: float, until: float, bucket: str = "hour") -> list[UsageRow]:
        """One of ``ledger.VIEWS``."""
        ...

    async def grouped(self, view: str, since: float, until: float) -> list[NamedTotals]:
        """By model, provider, caller, protocol or tool (a ``by-`` view), the biggest first."""
        ...

    async def timeseries(self, since: float, until: float, bucket: str = "hour") -> list[SpanTotals]: ...

    async def timeseries_by(
        self, view: str, since: float, until: float, bucket: str = "hour"
    ) -> list[NamedSpanTotals]: ...

    async def recent(self, limit: int) -> list[RecentRow]: ...


class LedgerStore(LedgerReads, Protocol):
    """The usage ledger: a row per request (and per failed attempt), summed into hourly roll-ups."""

    async def write(self, rows: list[LedgerRow]) -> int:
        """A batch of rows with their roll-ups, in one transaction; how many rows were written."""
        ...

    async def caller_counts(self, since: float, bucket_s: float) -> list[CallerCount]:
        """What a start rebuilds the limits from (``ledger.caller_counts``)."""
        ...

    async def caller_spend(self, since: float) -> list[tuple[str, float, float]]:
        """What a start rebuilds the dollar budgets from (``ledger.caller_spend``)."""
        ...


class ModelListStore(Protocol):
    """Each provider's last model list, and the protocols its server turned out not to speak
    (``gateway.store.model_lists``'s rows); what is older than asked for is dropped as it is read."""

    async def save(self, rows: list[ModelListRow]) -> None: ...

    async def load(self, taken_since: float) -> list[ModelListRow]: ...

    async def save_unspoken(self, rows: list[UnspokenRow]) -> None: ...

    async def load_unspoken(self, learned_since: float) -> list[UnspokenRow]: ...


class AdminLoginStore(Protocol):
    """The admin login and its sessions' refresh tokens (``gateway.store.admin_login``)."""

    async def password(self, name: str) -> tuple[str, int] | None:
        """The stored hash and the token generation it belongs to."""
        ...

    async def generation(self, subject: str) -> int | None: ...

    async def set_password(self, name: str, phc: str, now: float, actor: str, ts_ms: int, first: bool = False) -> bool:
        """Set or change it (audited): a change moves the generation on and revokes every refresh token.
        ``first``: only when none is set (two gateways of a team starting at once set it once). Whether it was set."""
        ...

    async def rehash(self, name: str, phc: str) -> None: ...

    async def issue(self, digest: bytes, family: str, subject: str, expires: float) -> None: ...

    async def spend(self, spent: Spend) -> Outcome:
        """Spend a refresh token for its successor, once across every process."""
        ...


class AccountStore(Protocol):
    """Subscription accounts' rows (never their tokens) and quota windows (``gateway.store.accounts``)."""

    async def load(self) -> list[AccountRow]: ...

    async def find(self, id_or_label: str) -> AccountRow | None: ...

    async def connect(self, new: Connecting) -> AccountRow:
        """Insert it, or update it when connected again; audited, its label unique across accounts."""
        ...

    async def remove(self, id_or_label: str, actor: str, ts_ms: int) -> AccountRow | None:
        """Remove it and its quota windows (audited); None when there is no such account."""
        ...

    async def set_state(
        self, account_id: str, state: str, now: float, plan: str | None = None, event: Event | None = None
    ) -> None: ...

    async def save_quota(self, rows: list[QuotaRow]) -> None: ...

    async def load_quota(self) -> list[QuotaRow]: ...


class TokenStore(Protocol):
    """Subscription accounts' tokens, by account id: the text the account's credentials are
    stored as (``Credentials.stored_now``), which no log line, error or audit event repeats."""

    where: str  # what a person would look for them in

    async def get(self, account_id: str) -> str | None:
        """None when there are none; ``TokensUnreadable`` when they are there but cannot be read."""
        ...

    async def put(self, account_id: str, stored: str) -> None: ...

    async def delete(self, account_id: str) -> None: ...


class TokensUnreadable(ValueError):
    """An account's tokens are stored but cannot be read (altered, or sealed under another key)."""


class Store(Protocol):
    """A back end: its concerns, and its end."""

    @property
    def keys(self) -> KeyStore: ...

    @property
    def audit(self) -> AuditStore: ...

    @property
    def ledger(self) -> LedgerStore: ...

    @property
    def model_lists(self) -> ModelListStore: ...

    @property
    def admin_login(self) -> AdminLoginStore: ...

    @property
    def accounts(self) -> AccountStore: ...

    async def close(self) -> None: ...
