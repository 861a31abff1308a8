"""Route rests passed between a team's gateways over Redis publish/subscribe: a cooldown after a
429, a key benched on an exhausted quota or a refused credential. One gateway's evidence spares the
others the same failed attempt; nothing is asked of Redis on a request's way, so a request costs
no round trip, and a message lost in an outage costs only that one attempt elsewhere.

Every message carries its sender's name, so a gateway does not hear its own. What arrives is
checked (types, lengths, a positive number of seconds) before it reaches the routes' health."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.shared.link import failures

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("gateway")

CHANNEL = "switchboard:route-rests"
PENDING = 256  # publishes on their way at once; beyond, a burst of failures is not told (each rests here)
RETRY = 2.0  # seconds before listening again after Redis went away
QUIET = 30.0  # seconds of silence after which the subscription's connection is checked
LONGEST_NAME = 512  # characters of a key label or model name taken from a message
LONGEST_REST = 1e9  # seconds in a message (the routes' health keeps a week at most)

Heard = Callable[[str, str | None, float, str], None]  # as ``Health.heard``


class RouteRests:
    def __init__(self, client: Redis, origin: str | None = None) -> None:
        self._client = client
        self._origin = origin or secrets.token_hex(8)
        self._pending: set[asyncio.Task[None]] = set()
        self._listening: asyncio.Task[None] | None = None

    def tell(self, label: str, model: str | None, seconds: float, reason: str) -> None:
        """Publish a rest this gateway set (``Health.told``); on the event loop, never awaited."""
        if len(self._pending) >= PENDING:
            return
        message = json.dumps({"from": self._origin, "label": label, "model": model, "s": seconds, "reason": reason})
        task = asyncio.get_running_loop().create_task(self._publish(message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, message: str) -> None:
        try:
            await self._client.publish(CHANNEL, message)
        except failures() as exc:
            log.debug("a route's rest was not told to the team: Redis did not answer (%s)", type(exc).__name__)

    def listen(self, heard: Heard) -> None:
        """Hear the other gateways' rests with ``heard`` (``Health.heard``) until ``close``."""
        self._listening = asyncio.get_running_loop().create_task(self._listen(heard), name="route-rests")

    async def _listen(self, heard: Heard) -> None:
        while True:
            try:
                async with self._client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    while True:
                        # A timeout, not a blocking read: between two, the connection's health is checked.
                        message = await pubsub.get_message(timeout=QUIET)
                        if message is not None and message.get("type") == "message":
                            self._apply(message["data"], heard)
            except failures() as exc:
                log.warning("route rests from the team are not heard: Redis did not answer (%s)", type(exc).__name__)
                await asyncio.sleep(RETRY)

    def _apply(self, data: Any, heard: Heard) -> None:
        try:
            rest = json.loads(data)
            label, model, seconds, reason = rest["label"], rest["model"], rest["s"], rest["reason"]
        except (ValueError, TypeError, KeyError):
            log.warning("a route's rest from the team was not understood; it is ignored")
            return
        if rest.get("from") == self._origin:
            return
        if not (
            isinstance(label, str)
            and isinstance(reason, str)
            and (model is None or isinstance(model, str))
            and type(seconds) in (int, float)
            and 0 < seconds <= LONGEST_REST  # a float, and not a count that would end the listening
            and len(label) <= LONGEST_NAME
            and len(model or "") <= LONGEST_NAME
        ):
            log.warning("a route's rest from the team was not understood; it is ignored")
            return
        heard(label, model, float(seconds), reason[:64])

    async def close(self) -> None:
        """After the rests on their way are published (or given up)."""
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
