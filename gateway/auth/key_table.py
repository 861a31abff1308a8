"""The client keys the running gateway accepts: held in memory, written through the database.

Every change made here (create, revoke, new limits) commits with its audit event in one
transaction, and takes effect on the next request. Changes made by another process (the CLI)
are picked up by ``refresh``, which the gateway runs every few seconds.

Joined to a team's store (``join``: ``[store] url``), the keys are read from and written to it
instead of the state folder's database, and ``heard`` takes in each change any gateway announces,
moments after it commits, so a key made or revoked on one counts on the others at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
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
from gateway.store.seam import Event, KeyStore

log = logging.getLogger("gateway")

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


def _checked_id(key_id: str) -> None:
    if not client_keys.valid_id(key_id):
        raise InvalidRequest(f"{key_id[:40]!r} is not a key id", param="id")


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
        self._shared: KeyStore | None = None  # a team's store, once joined
        self._heard: set[str | None] = set()  # changes announced, not yet read (None: read them all)
        self._notices = 0  # changes announced so far
        self._reading: asyncio.Task[None] | None = None

    def load(self) -> None:
        """Read every key (at start, before serving)."""
        self._records = {r.id: r for r in self._db.writer.run(keys.load).result()}

    async def join(self, shared: KeyStore, pepper: bytes) -> None:
        """From now on, the team's keys: read from and written to ``shared`` (on the event loop),
        hashed with the team's ``pepper``."""
        self._shared, self._pepper = shared, pepper
        await self.refresh()

    async def refresh(self) -> None:
        notices = self._notices
        loaded = await (self._shared.load() if self._shared is not None else self._db.read(keys.load))
        self._records = {r.id: r for r in loaded}
        if self._notices != notices:  # a change announced while reading may be older in what was read
            self.heard(None)

    def heard(self, key_id: str | None) -> None:
        """A key made, revoked or given new limits by any gateway (None: any may have been): read
        again at once, one read at a time, so an older answer never overwrites a newer one."""
        self._heard.add(key_id)
        self._notices += 1
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read_heard(), name="client-keys-heard")

    async def _read_heard(self) -> None:
        assert self._shared is not None
        try:
            while self._heard:
                heard, self._heard = self._heard, set()
                if None in heard:
                    await self.refresh()
                    continue
                for key_id in heard:
                    if key_id is not None and (record := await self._shared.get(key_id)) is not None:
                        self._records[key_id] = record
        except Exception as exc:  # the periodic refresh reads them all again in a moment
            log.warning("client keys: a change announced could not be read (%s)", exc)

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
        if self._shared is None:
            key, record = await asyncio.wrap_future(self.create_now(label, tier, limits, actor, enforce_model))
        else:
            key, record, payload = self._new(label, tier, limits, enforce_model)
            await self._shared.insert(record, Event(self._db.now_ms(), actor, "key.created", payload))
        self._records[record.id] = record  # once committed
        return key, record

    def create_now(
        self, label: str, tier: str, limits: Mapping[str, Any], actor: str, enforce_model: str | None = None
    ) -> Future[tuple[str, KeyRecord]]:
        """``create`` as a ``concurrent.futures.Future``: the writer thread's answer, which ``create`` awaits."""
        key, record, payload = self._new(label, tier, limits, enforce_model)
        now_ms = self._db.now_ms()

        def op(conn: Any) -> tuple[str, KeyRecord]:
            keys.insert(conn, record)
            audit.append(conn, now_ms, actor, "key.created", payload)
            return key, record

        return self._db.writer.run(op)

    def _new(
        self, label: str, tier: str, limits: Mapping[str, Any], enforce_model: str | None
    ) -> tuple[str, KeyRecord, dict[str, Any]]:
        """A new key, checked: the full key, its record and its audit event's payload."""
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
        payload = {
            "key": record.id,
            "label": record.label,
            "tier": tier,
            "limits": _audited(overrides),
            "enforce_model": enforce_model,
        }
        return new.key, record, payload

    async def revoke(self, key_id: str, actor: str) -> bool:
        if self._shared is None:
            revoked: bool = await asyncio.wrap_future(self.revoke_now(key_id, actor))
        else:
            _checked_id(key_id)
            event = Event(self._db.now_ms(), actor, "key.revoked", {"key": key_id})
            revoked = await self._shared.revoke(key_id, self._clock.time(), event)
        if revoked and (record := self._records.get(key_id)) is not None:
            self._records[key_id] = replace(record, revoked_at=self._clock.time())
        return revoked

    def revoke_now(self, key_id: str, actor: str) -> Future[bool]:
        _checked_id(key_id)
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
        payload = {"key": key_id, "tier": tier, "limits": _audited(overrides)}
        if self._shared is not None:
            event = Event(now_ms, actor, "key.limits_changed", payload)
            changed = await self._shared.set_limits(key_id, tier, overrides, event)
        else:

            def op(conn: Any) -> bool:
                if not keys.set_limits(conn, key_id, tier, overrides):
                    return False
                audit.append(conn, now_ms, actor, "key.limits_changed", payload)
                return True

            changed = await asyncio.wrap_future(self._db.writer.run(op))
        if changed and (record := self._records.get(key_id)) is not None:
            self._records[key_id] = replace(record, tier=tier, limits=tuple(sorted(overrides.items())))
        return changed

    def flush_used(self) -> None:
        """Queue the last-used times gathered since the last flush (a team's are written by ``write_used``)."""
        if self._used and self._shared is None:
            used, self._used = self._used, {}
            for key_id, when in used.items():
                self._db.writer.append(keys.touch_rows, (when, key_id))

    async def write_used(self) -> None:
        """The last-used times gathered since the last time, written where the keys are."""
        if self._shared is None:
            self.flush_used()
        elif self._used:
            used, self._used = self._used, {}
            await self._shared.touch([(when, key_id) for key_id, when in used.items()])

    async def leave(self) -> None:
        """Before the team's store closes: what was heard but not yet read is left for the next start."""
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
            self._reading = None
