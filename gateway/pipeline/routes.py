"""From the name a client asked for to an answer: the name's targets, the plan of candidate routes
(``gateway.routing``), and the routes tried in turn until one answers, each failed attempt
recorded when the request is tallied; a name whose every route failed is remembered for status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from gateway.clock import Clock
from gateway.core.models import Target
from gateway.errors import GatewayError, InvalidRequest, ModelNotFound
from gateway.formats.anthropic import claude_code
from gateway.formats.anthropic.checks import MessagesCall
from gateway.pipeline.accounting import Accountant, Tally
from gateway.pipeline.call import Call
from gateway.pipeline.status import Failing
from gateway.routing.failover import Routed, first_success, with_access
from gateway.routing.model_sync import ModelSync
from gateway.routing.router import Candidate, Plan, Router

ROUTE_WAIT = 5.0  # how long an unknown bare name may wait for model lists still loading

T = TypeVar("T")


class Routes:
    def __init__(
        self, router: Router, sync: ModelSync, clock: Clock, deadline: float, accountant: Accountant, failing: Failing
    ) -> None:
        """``deadline``: seconds a request may take over all its attempts."""
        self._router = router
        self._sync = sync
        self._clock = clock
        self._deadline = deadline
        self._accountant = accountant
        self._failing = failing
        # Claude Code's slots are looked for only when a rule names one (``claude_code``).
        self._slotted = any(name.startswith(claude_code.PREFIX) for name in router.aliases)

    async def targets(self, name: str, enforce: bool = True) -> tuple[Target, ...]:
        """Where ``name`` may go (``enforce``: see ``Router.targets``); ``ModelNotFound`` when nowhere."""
        # Just after start, wait (briefly) for the first round of model lists: a bare name's
        # fallbacks are the other providers that list it.
        sync = self._sync
        if not sync.ready:
            await sync.wait_ready(ROUTE_WAIT)
        targets = self._router.targets(name, enforce)
        if not targets and sync.incomplete:
            await sync.refresh_missing(ROUTE_WAIT)
            targets = self._router.targets(name, enforce)
        if not targets:
            raise not_found(name)
        return targets

    def slot(self, call: MessagesCall) -> str | None:
        """The rule for the Claude Code slot ``call`` is in, when a rule names one; else None."""
        if not self._slotted:
            return None
        aliases = self._router.aliases
        return next((slot for slot in claude_code.slots(call) if slot in aliases), None)

    async def embedders(self) -> tuple[Target, ...]:
        """The embedding models ``auto`` may use; a 400 saying so when none is configured."""
        sync = self._sync
        if not sync.ready:
            await sync.wait_ready(ROUTE_WAIT)
        targets = self._router.embedders()
        if not targets:
            raise InvalidRequest(
                "'auto' found no embedding model: none of the configured providers lists one. "
                "Name an embedding model, or add a provider that serves one.",
                param="model",
            )
        return targets

    def plan(self, name: str, targets: Sequence[Target], call: Call | None = None) -> Plan:
        """The candidates for ``targets``; with a chat ``call``, chosen by what it needs and kept
        on its conversation's account."""
        if call is None:
            return self._router.plan(name, targets)
        return self._router.plan(name, targets, call.traits, call.conversation, call.prefer)

    async def routed(
        self,
        plan: Plan,
        request_id: str,
        attempt: Callable[[Candidate, float], Awaitable[T]],
        tally: Tally | None = None,
    ) -> Routed[T]:
        """``attempt`` on each of the plan's candidates in turn, until one answers; with a
        ``tally``, each route that failed before another was tried is recorded in it."""
        name = plan.name
        deadline = self._clock.monotonic() + self._deadline
        moved_on = None if tally is None else partial(self._accountant.attempt_failed, tally)
        try:
            routed = await first_success(
                plan, with_access(attempt), self._router.health, self._clock, deadline, request_id, moved_on
            )
        except GatewayError as err:
            if plan.candidates and (err.status >= 500 or err.status == 429):  # every route tried failed
                self._failing.failed(name, err)
            raise
        self._failing.served(name)
        if routed.candidate is not None:  # always: only the cache answers without one
            self._router.served(plan, routed.candidate)
        return routed


def not_found(name: str) -> ModelNotFound:
    return ModelNotFound(
        f"The model '{name}' does not exist or is not served by any configured provider. "
        "GET /v1/models lists the models available.",
        param="model",
    )
