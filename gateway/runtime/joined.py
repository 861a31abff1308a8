"""A serving gateway joined to its team's PostgreSQL (``[store] url``), opened on the event loop
at start and left at stop: the client keys read and written there (each change any gateway makes
heard at once), the usage ledger recorded there (journaled in the state folder first) and the
limits' counts restored from it, every audit event appended to its one chain (a start's and an address
change's naming this gateway), the admin login and its sessions kept there (signed with the team's
secret, so a session begun through one gateway is good on every one), and the model lists."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

from gateway.admin.start_audit import gateway_id
from gateway.admin.state import State
from gateway.clock import Clock
from gateway.errors import ConfigError
from gateway.pipeline.accounting import Accountant
from gateway.pipeline.limit_book import LimitBook
from gateway.runtime.kept_models import KeptModels
from gateway.runtime.listener import ListenError
from gateway.store.db import StoreError
from gateway.store.seam import LedgerStore
from gateway.store.team import Recorder, TeamStore

log = logging.getLogger("gateway")

JOURNAL = "team-ledger"  # the state folder's subfolder journaling rows on their way to the team's ledger


async def restore_team_limits(limits: LimitBook, ledger: LedgerStore, clock: Clock) -> None:
    """``wiring.restore_limits`` from the team's ledger: every gateway's requests count."""
    now = clock.time()
    limits.restore(await ledger.caller_counts(now - 86400, 600), minute=False)
    limits.restore(await ledger.caller_counts(now - 60, 1), minute=True)
    limits.restore_dollars(await ledger.caller_spend(now - 30 * 86400))


@contextlib.contextmanager
def said_at_start() -> Iterator[None]:
    """A start's steps in the store as ``ListenError``: the store's own errors in their words, the
    team's database driver's (it went away after it was opened) said to be that database's."""
    try:
        yield
    except ListenError:
        raise
    except (StoreError, ConfigError) as exc:
        raise ListenError(str(exc)) from None
    except Exception as exc:
        raise ListenError(f"cannot use the team's database: {exc}") from None


class Joined:
    def __init__(self, store: TeamStore, state: State) -> None:
        self.store = store
        self._state = state
        self.recorder: Recorder | None = None
        self._watching: asyncio.Task[None] | None = None
        self._models: KeptModels | None = None

    async def join(self, accountant: Accountant, clock: Clock, ledger: bool, models: KeptModels | None) -> None:
        """``ledger``: whether rows are recorded at all (``[server] ledger``); ``models``: where the
        model lists are kept. Whatever it got to before a failure, ``leave`` undoes."""
        state, store = self._state, self.store
        self._models = models
        await state.keys.join(store.keys, await store.keys.pepper())
        self.recorder = await store.recording(state.data_dir / JOURNAL)
        await restore_team_limits(accountant.limits, store.ledger, clock)
        state.db.share_audit(store.audit.append)
        state.share_audit((store.audit, await asyncio.to_thread(gateway_id, state.data_dir)))
        state.sessions.share((await store.admin_login.jwt_secret(), store.admin_login))
        if models is not None:
            models.share(store.model_lists)
        accountant.ledger = self.recorder if ledger else None
        self._watching = asyncio.create_task(store.keys.watch(state.keys.heard), name="client-keys-watch")

    async def leave(self, accountant: Accountant) -> None:
        """The team's database closed, after what is queued for it is written (ledger rows, when
        keys were last used); ledger rows it could not take stay in the journal for the next start."""
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        if self.recorder is not None:
            if accountant.ledger is self.recorder:
                accountant.ledger = None
            await self.recorder.close()
        if self._models is not None:
            await self._models.written()
            self._models.share(None)
        state = self._state
        state.db.share_audit(None)
        state.share_audit(None)
        state.sessions.share(None)
        try:
            await state.keys.write_used()
        except Exception:
            log.exception("when client keys were last used was not written")
        await state.keys.leave()
        await self.store.close()
