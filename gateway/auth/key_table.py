"""The client keys the running gateway accepts: held in memory, written through the database.

Every change made here (create, revoke, new limits) commits with its audit event in one
transaction, and takes effect on the next request. Changes made by another process (the CLI)
are picked up by ``refresh``, which the gateway runs every few seconds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from gateway.auth import client_keys
from gateway.auth.callers import DOLLAR_LIMITS, LIMIT_NAMES, TIERS, Caller, quota_for
from gateway.clock import Clock
from gateway.errors import InvalidRequest
from gateway.formats.common.fields import model_name
from gateway.formats.common.jsonbody import BodyError
from gateway.store import audit, keys
from gateway.store.database import Database
from gateway.store.keys import ClientKey, KeyRecord

_LABEL = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


def checked_limits(limits: Mapping[str, Any]) -> dict[str, float]:
    """Counts are whole numbers; a dollar budget may have cents (a number up to a billion)."""
    unknown = set(limits) - set(LIMIT_NAMES)
    if unknown:
        raise InvalidRequest(f"unknown limit {sorted(unknown)[0]!r} (known: {', '.join(LIMIT_NAMES)})", param="limits")
    for name, value in limits.items():
        if name in DOLLAR_LIMITS:
            if type(value) not in (int, float) or not 0 <= value <= 10**9:  # NaN fails the range too
                raise InvalidRequest(f"limit {name} must be an amount of dollars from 0", param="limits")
        elif type(value) is not int or not 0 <= value <= 10**12:
            raise InvalidRequest(f"limit {name} must be a whole number from 0", param="limits")
    return dict(limits)


def _audited(limits: dict[str, float]) -> dict[str, Any]:
    """Limits as the audit log takes them: it holds no floats, so a dollar budget is written as text."""
    return {name: str(value) if name in DOLLAR_LIMITS else value for name, value in limits.items()}


def _checked_label(label: str) -> None:
    if not _LABEL.fullmatch(label) or not label.strip():
        raise InvalidRequest("a key's label is 1 to 64 printable characters", param="label")


def _checked_model(name: str | None) -> None:
    """An enforced model is a model name as a request would give it (the same strict grammar)."""
    if name is not None:
        try:
            model_name(name, "enforce_model")
        except BodyError as exc:
            raise InvalidRequest(exc.message, param="enforce_model") from None


def _checked_tier(tier: str) -> None:
    if tier not in TIERS:
        raise InvalidRequest(f"tier must be one of {', '.join(TIERS)}", param="tier")


def as_caller(record: KeyRecord) -> Caller:
    quota = quota_for(record.tier, dict(record.limits))
    return Caller(record.id, record.tier, quota, record.label, record.enforce_model)


class ClientKeys:
    def __init__(self, db: Database, pepper: bytes, clock: Clock) -> None:
        self._db = db
        self._pepper = pepper
        self._clock = clock
        self._records: dict[str, KeyRecord] = {}
        self._used: dict[str, float] = {}  # key id -> when, not yet written

    def load(self) -> None:
        """Read every key (at start, before serving)."""
        self._records = {r.id: r for r in self._db.writer.run(keys.load).result()}

    async def refresh(self) -> None:
        self._records = {r.id: r for r in await self._db.read(keys.load)}

    @property
    def live(self) -> int:
        return sum(r.revoked_at is None for r in self._records.values())

    def listing(self) -> list[ClientKey]:
        return [r.public() for r in self._records.values()]

    def caller(self, key_id: str) -> Caller | None:
        record = self._records.get(key_id)
        return as_caller(record) if record is not None else None

    def find(self, presented: str) -> KeyRecord | None:
        """The live key ``presented`` is, or None. A malformed key costs no lookup at all."""
        key_id = client_keys.key_id_of(presented)
        if key_id is None:
            return None
        record = self._records.get(key_id)
        if record is None or record.revoked_at is not None:
            return None
        if not client_keys.matches(self._pepper, presented, record.digest):
            return None
        self._used[key_id] = self._clock.time()
        return record

    async def create(
        self, label: str, tier: str, limits: Mapping[str, Any], actor: str, enforce_model: str | None = None
    ) -> tuple[str, KeyRecord]:
        """A new key: the full key (to show once) and its record; ``enforce_model``: the model that
        serves its every chat request, whatever the request names."""
        key, record = await asyncio.wrap_future(self.create_now(label, tier, limits, actor, enforce_model))
        self._records[record.id] = record  # once committed
        return key, record

    def create_now(
        self, label: str, tier: str, limits: Mapping[str, Any], actor: str, enforce_model: str | None = None
    ) -> Future[tuple[str, KeyRecord]]:
        """``create`` as a ``concurrent.futures.Future``: the writer thread's answer, which ``create`` awaits."""
        _checked_label(label)
        _checked_tier(tier)
        _checked_model(enforce_model)
        overrides = checked_limits(limits)
        new = client_keys.generate()
        record = KeyRecord(
            id=new.id,
            label=label.strip(),
            tier=tier,
            limits=tuple(sorted(overrides.items())),
            digest=client_keys.digest(self._pepper, new.key),
            last4=new.last4,
            created_at=self._clock.time(),
            enforce_model=enforce_model,
        )
        now_ms = self._db.now_ms()

        def op(conn: Any) -> tuple[str, KeyRecord]:
            keys.insert(conn, record)
            audit.append(
                conn,
                now_ms,
                actor,
                "key.created",
                {
                    "key": record.id,
                    "label": record.label,
                    "tier": tier,
                    "limits": _audited(overrides),
                    "enforce_model": enforce_model,
                },
            )
            return new.key, record

        return self._db.writer.run(op)

    async def revoke(self, key_id: str, actor: str) -> bool:
        revoked: bool = await asyncio.wrap_future(self.revoke_now(key_id, actor))
        if revoked and (record := self._records.get(key_id)) is not None:
            self._records[key_id] = replace(record, revoked_at=self._clock.time())
        return revoked

    def revoke_now(self, key_id: str, actor: str) -> Future[bool]:
        if not client_keys.valid_id(key_id):
            raise InvalidRequest(f"{key_id[:40]!r} is not a key id", param="id")
        when = self._clock.time()
        now_ms = self._db.now_ms()

        def op(conn: Any) -> bool:
            if not keys.revoke(conn, key_id, when):
                return False
            audit.append(conn, now_ms, actor, "key.revoked", {"key": key_id})
            return True

        return self._db.writer.run(op)

    async def set_limits(self, key_id: str, tier: str, limits: Mapping[str, Any], actor: str) -> bool:
        _checked_tier(tier)
        overrides = checked_limits(limits)
        now_ms = self._db.now_ms()

        def op(conn: Any) -> bool:
            if not keys.set_limits(conn, key_id, tier, overrides):
                return False
            audit.append(
                conn, now_ms, actor, "key.limits_changed", {"key": key_id, "tier": tier, "limits": _audited(overrides)}
            )
            return True

        changed: bool = await asyncio.wrap_future(self._db.writer.run(op))
        if changed and (record := self._records.get(key_id)) is not None:
            self._records[key_id] = replace(record, tier=tier, limits=tuple(sorted(overrides.items())))
        return changed

    def flush_used(self) -> None:
        """Queue the last-used times gathered since the last flush."""
        if self._used:
            used, self._used = self._used, {}
            for key_id, when in used.items():
                self._db.writer.append(keys.touch_rows, (when, key_id))
