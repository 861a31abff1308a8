"""The gateway's periodic chores while it serves from a database: pick up client keys and
accounts changed by another process (the CLI beside it), write when keys were last used, sum up
refusals into the audit log once a minute, and ask signed-in accounts for their quota.

Everything it touches outlives a settings change (``wiring.Lasting``, the state, the accounts),
so the loop runs on across every pipeline swap.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future

from gateway.admin.state import State
from gateway.auth.account_book import AccountBook
from gateway.auth.identity import Identity
from gateway.clock import Clock
from gateway.pipeline.accounting import Accountant

log = logging.getLogger("gateway")

KEYS_REFRESH = 2.0  # seconds: how soon a key created or revoked by another process counts here
SUMMARY_INTERVAL = 60.0  # seconds: limit denials and failed sign-ins go to the audit log this often
QUOTA_INTERVAL = 300.0  # seconds between asking each account's usage endpoint


class Housekeeping:
    def __init__(
        self, state: State, accounts: AccountBook | None, identity: Identity, accountant: Accountant, clock: Clock
    ) -> None:
        self._state = state
        self._accounts = accounts
        self._identity = identity
        self._accountant = accountant
        self._clock = clock

    async def run(self) -> None:
        """Forever (cancel to stop); the first quota poll at once: the meters should not wait."""
        state, accounts = self._state, self._accounts
        since_summary = 0.0
        since_quota = QUOTA_INTERVAL
        while True:
            if accounts is not None and since_quota >= QUOTA_INTERVAL:
                since_quota = 0.0
                try:
                    await accounts.poll_quotas()
                except Exception:
                    log.exception("could not read the accounts' quota")
            await self._clock.sleep(KEYS_REFRESH)
            try:
                await state.keys.refresh()
                if accounts is not None:
                    await accounts.refresh()
                await state.keys.write_used()
            except Exception:
                log.exception("could not reload the client keys or accounts, or write when keys were last used")
            since_summary += KEYS_REFRESH
            since_quota += KEYS_REFRESH
            if since_summary >= SUMMARY_INTERVAL:
                since_summary = 0.0
                self.summarise()

    def summarise(self) -> list[Future[int]]:
        """Limit denials and failed client-key attempts since the last summary, as audit events;
        their appends, for a stop to wait on."""
        appends = []
        if denied := self._accountant.limits.denials():
            appends.append(self._state.db.audit("gateway", "limits.denied", {"per_caller": denied}))
        if failed := self._identity.failures():
            appends.append(self._state.db.audit("gateway", "auth.failed", {"per_peer": failed}))
        return appends
