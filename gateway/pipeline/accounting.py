"""Pipeline step 8: every answer's usage settles the caller's limits, goes into the running
totals, the metrics and the usage ledger — counted here (and marked estimated) when the upstream
did not report it — priced at its route's price (``routing.pricing``, resolved once per route),
its cost settling the caller's dollar budget too, and tagged with the client tool that sent it.
Failed requests, and failed attempts before another route answered, are recorded too, with their
error class and no usage; so are requests refused before routing (the HTTP entry reports those),
so a tool whose requests the gateway refuses shows up in the reports.

The ledger row is handed over (journaled and queued for the writer thread) as soon as the request
settles, before the answer's last bytes go out; nothing here waits on the disk. A count made here
takes a moment: the row is held as it is known until then, so the answer need not wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.auth.callers import UNLIMITED, Caller
from gateway.clock import Clock
from gateway.core.chat import ChatRequest
from gateway.core.protocols import ProtocolId
from gateway.core.usage import Usage, UsageTotals
from gateway.errors import GatewayError
from gateway.formats.common.jsonbody import BodyError
from gateway.pipeline import tokens
from gateway.pipeline.limit_book import LimitBook
from gateway.pipeline.limits import Ticket
from gateway.pipeline.metrics import Metrics
from gateway.routing.pricing import Pricing, cost_of
from gateway.routing.router import Candidate
from gateway.store.ledger import ATTEMPT, REQUEST, LedgerRow


class Ledger(Protocol):
    """Where ledger rows go (``store.database.Database``)."""

    def record(self, row: LedgerRow) -> None:
        """Keep ``row``."""

    def hold(self, row: LedgerRow) -> None:
        """Keep ``row`` until ``record`` brings its final form (the same request, kind and attempt)."""


class Unreported(Protocol):
    """An answer whose usage the upstream may not have reported: what it is counted from here
    (``gateway.pipeline.answers``), read only when it must be."""

    def request(self) -> ChatRequest:
        """The request in canonical form; raises ``BodyError`` when it has none."""
        ...

    def output(self) -> str:
        """What the model wrote."""
        ...


@dataclass(slots=True)
class Tally:
    """One request on its way through the pipeline (filled in as it goes)."""

    request_id: str
    caller: Caller
    protocol: ProtocolId
    model: str
    wall: float  # when it arrived (seconds since the epoch)
    started: float  # the same moment on the monotonic clock
    ticket: Ticket | None
    attempts: int = 0
    ttfb: float | None = None  # seconds until the answer's first byte was ready
    dropped: tuple[str, ...] = ()  # what the translation that served it had to leave out
    tool: str = ""  # the client tool that sent it (gateway.api.client_tool)


@dataclass(frozen=True, slots=True)
class Served:
    """Where an answer came from: provider, key or account label, upstream model."""

    provider: str
    account: str
    upstream_model: str


CACHE = Served("cache", "", "")
NO_COST = (0.0, 0.0, False)  # a row without usage: nothing spent, nothing to price


def served(candidate: Candidate) -> Served:
    target = candidate.target
    return Served(target.provider, candidate.cred.label, target.upstream_model)


class Accountant:
    """``pricing``: each route's price, set anew with each pipeline (its config and model lists)."""

    def __init__(self, clock: Clock, limits: LimitBook, metrics: Metrics, ledger: Ledger | None = None) -> None:
        self._clock = clock
        self.limits = limits
        self.metrics = metrics
        self.ledger = ledger
        self.pricing = Pricing()
        self.totals = UsageTotals()
        self._counting: set[asyncio.Task[None]] = set()

    async def admit(
        self,
        caller: Caller,
        protocol: ProtocolId,
        model: str,
        request_id: str,
        estimate: Callable[[], int],
        tool: str = "",
    ) -> Tally:
        """Check the caller's limits (``LimitExceeded`` when over) and start the tally.
        ``estimate``: the tokens to reserve (worked out only for a caller with limits)."""
        ticket = await self.limits.reserve(caller, estimate()) if caller.quota is not UNLIMITED else None
        clock = self._clock
        return Tally(request_id, caller, protocol, model, clock.time(), clock.monotonic(), ticket, tool=tool)

    def first_byte(self, tally: Tally) -> None:
        tally.ttfb = self._clock.monotonic() - tally.started

    def attempt_failed(self, tally: Tally, candidate: Candidate, err: GatewayError) -> None:
        """A route failed and the next is tried: a row of its own, no usage."""
        if self.ledger is not None:
            where = served(candidate)
            self.ledger.record(
                self._row(tally, ATTEMPT, where, None, err.status, _error_class(err), self._clock.monotonic())
            )

    def refused(
        self, caller: Caller, protocol: ProtocolId, model: str, request_id: str, err: GatewayError, tool: str = ""
    ) -> None:
        """A request refused before it was routed (unreadable, invalid, too large): ``model`` as
        the client named it, or empty when that could not be read."""
        clock = self._clock
        self.failed(Tally(request_id, caller, protocol, model, clock.time(), clock.monotonic(), None, tool=tool), err)

    def failed(self, tally: Tally, err: GatewayError) -> None:
        """The request ends in an error answer (the provider named when one failed it)."""
        err.counted = True
        self.limits.settle(tally.ticket, 0)
        served = Served(getattr(err, "provider", ""), "", "")
        error = _error_class(err)
        self.metrics.answered(tally.protocol, served.provider, tally.model, err.status, 0.0, error)
        if self.ledger is not None:
            self.ledger.record(self._row(tally, REQUEST, served, None, err.status, error, self._clock.monotonic()))

    def count(
        self, tally: Tally, served: Served, usage: Usage | None, answer: Unreported | None = None, error: str = ""
    ) -> None:
        """An answer's usage; without one, count the ``answer``'s request and what the model wrote
        here, off the loop, and mark the count estimated. ``error``: a stream that broke off after
        it began."""
        ended = self._clock.monotonic()
        if usage is not None or answer is None:
            self._settle(tally, served, usage, error, ended)
            return
        if self.ledger is not None:  # answered now: its row must not wait for the count
            self.ledger.hold(self._row(tally, REQUEST, served, None, 200, error, ended))
        task = asyncio.get_running_loop().create_task(self._estimate(tally, served, answer, error, ended))
        self._counting.add(task)
        task.add_done_callback(self._counting.discard)

    async def _estimate(self, tally: Tally, served: Served, answer: Unreported, error: str, ended: float) -> None:
        try:
            request = answer.request()
            prompt = await tokens.count_async(request)
            completion = await tokens.count_text_async(answer.output(), request.model)
        except (BodyError, OSError, ValueError):
            self._settle(tally, served, None, error, ended)
            return
        self._settle(tally, served, Usage(prompt, completion, estimated=True), error, ended)

    def _settle(self, tally: Tally, served: Served, usage: Usage | None, error: str, ended: float) -> None:
        self.totals.add(usage)
        self.metrics.tokens(served.provider, served.upstream_model, usage)
        money = cost_of(self.pricing.of(served.provider, served.upstream_model), usage) if usage else NO_COST
        self.limits.settle(tally.ticket, usage.total_tokens if usage is not None else 0, money[0])
        self.metrics.answered(tally.protocol, served.provider, tally.model, 200, ended - tally.started, error)
        if self.ledger is not None:
            self.ledger.record(self._row(tally, REQUEST, served, usage, 200, error, ended, money))

    def _row(
        self,
        tally: Tally,
        kind: str,
        served: Served,
        usage: Usage | None,
        status: int,
        error: str,
        ended: float,
        money: tuple[float, float, bool] = NO_COST,
    ) -> LedgerRow:
        """``money``: the answer's (cost, list_cost, unpriced), from ``pricing.cost_of``."""
        cost, list_cost, unpriced = money
        return LedgerRow(
            ts=tally.wall,
            request_id=tally.request_id,
            kind=kind,
            caller=tally.caller.id,
            protocol=tally.protocol,
            model=tally.model,
            provider=served.provider,
            account=served.account,
            upstream_model=served.upstream_model,
            prompt=usage.prompt_tokens if usage else 0,
            completion=usage.completion_tokens if usage else 0,
            cached=usage.cached_tokens if usage else 0,
            reasoning=usage.reasoning_tokens if usage else 0,
            estimated=bool(usage and usage.estimated),
            status=status,
            error=error,
            latency_ms=round((ended - tally.started) * 1000, 3),
            ttfb_ms=round(tally.ttfb * 1000, 3) if tally.ttfb is not None else None,
            attempts=tally.attempts,
            cost=cost,
            list_cost=list_cost,
            unpriced=unpriced,
            tool=tally.tool,
        )

    async def counted(self) -> None:
        """Wait for the counts still being made, so the totals are complete."""
        while self._counting:
            await asyncio.gather(*self._counting, return_exceptions=True)


def _error_class(err: GatewayError) -> str:
    return err.code or err.error_type
