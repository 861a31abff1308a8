"""Clock skew: this computer's clock beside an upstream's, for the doctor.

Sign-ins (OAuth tokens) and signed requests carry times: a clock more than about two minutes off
makes a fresh token look expired or not yet valid, and requests fail in ways that say nothing of
the clock. Every HTTP server says its time in the ``Date`` header of each answer (RFC 9110 §6.6.1),
so one plain GET of a cloud provider's address tells it: no key is sent, so no provider bills it.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime

from gateway.clock import Clock
from gateway.errors import GatewayError
from gateway.providers.base import USER_AGENT
from gateway.transport import Timeouts, Transport, UpstreamRequest

MAX_SKEW = 120.0  # seconds: beyond it, token lifetimes and signatures start to fail
_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
_QUICK = Timeouts(connect=5.0, read=5.0, total=10.0)


async def clock_skew(transport: Transport, clock: Clock, provider: str, url: str) -> float | None:
    """Seconds this clock is ahead of the server at ``url`` (behind: negative); None when it
    answers without a readable ``Date``. Raises GatewayError when it does not answer."""
    request = UpstreamRequest(provider, "GET", url, (("User-Agent", USER_AGENT),), timeouts=_QUICK)
    sent = clock.time()
    response = await transport.send(request)
    received = clock.time()
    response.close()  # only its headers are wanted
    try:
        said = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    server = (said if said.tzinfo else said.replace(tzinfo=UTC)).timestamp()  # "-0000" parses without a zone
    # The header has whole seconds: the server read its clock somewhere within the round trip.
    return (sent + received) / 2 - server


async def skew_of(transport: Transport, clock: Clock, provider: str, url: str) -> float | None:
    """``clock_skew``, None as well when the server does not answer (its own check says so)."""
    try:
        return await clock_skew(transport, clock, provider, url)
    except GatewayError:
        return None


def skew_words(skew: float) -> str:
    """How far off, in words: "3 minutes ahead", "2 hours behind"."""
    amount = abs(skew)
    unit, size = next((u, n) for u, n in _UNITS if amount >= n or n == 1)
    count = round(amount / size)
    return f"{count} {unit}{'' if count == 1 else 's'} {'ahead' if skew > 0 else 'behind'}"
