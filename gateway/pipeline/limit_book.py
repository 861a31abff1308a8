"""What the pipeline needs of the callers' limits, whoever keeps them: ``Limits`` in this process
(the default, no dependency) or ``SharedLimits`` in Redis for several gateways (team mode)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from gateway.auth.callers import Caller
from gateway.pipeline.limits import LimitUsage, Ticket


class LimitBook(Protocol):
    async def reserve(self, caller: Caller, tokens: int) -> Ticket | None:
        """One request and ``tokens`` reserved, or ``LimitExceeded``; None when unlimited."""

    def settle(self, ticket: Ticket | None, used: int, dollars: float = 0.0) -> None:
        """The reservation replaced with the tokens really used, and the answer's cost added."""

    def usage(self, caller: Caller) -> dict[str, LimitUsage]:
        """One caller's counters against its limits, as status shows them."""

    def restore(self, counts: Iterable[tuple[str, float, int, int]], minute: bool) -> None:
        """Counts from the ledger at a start (see ``Limits.restore``)."""

    def restore_dollars(self, costs: Iterable[tuple[str, float, float]]) -> None:
        """Spend from the ledger at a start (see ``Limits.restore_dollars``)."""

    def denials(self) -> dict[str, int]:
        """Requests refused per caller since the last call."""
