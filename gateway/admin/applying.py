"""How a change an administrator made reaches the running gateway: ``apply`` re-reads the settings
and stored keys like a start and swaps in what they build (``GatewayServer.reconfigure``). When it
cannot, the change is put back and refused with the reason, so the gateway keeps serving as it
did; with nothing to apply to (the CLI beside a stopped gateway) it takes effect at the next start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from gateway.admin.state import State
from gateway.errors import ConfigError, InvalidRequest, fix_of

log = logging.getLogger("gateway")

T = TypeVar("T")
Apply = Callable[[], Awaitable[None]]
NOW = "now"
NEXT_START = "at the gateway's next start"
_carried: set[asyncio.Task[Any]] = set()  # the loop holds its tasks weakly: kept here until they end


async def carried_through(change: Coroutine[Any, Any, T]) -> T:
    """``change`` (write, apply or put back, audit) run to its end even when the one waiting for it
    is cancelled (an HTTP client that hangs up, a page closed): a change written but neither
    applied nor put back, and not audited, is worse than an answer nobody reads."""
    task = asyncio.ensure_future(change)
    _carried.add(task)
    task.add_done_callback(_ended)
    return await asyncio.shield(task)


def _ended(task: asyncio.Task[Any]) -> None:
    _carried.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: a refusal nobody waited for any more is not an error to log


def applies(applied: bool) -> str:
    return NOW if applied else NEXT_START


async def apply_or_undo(apply: Apply | None, undo: Callable[[], object], param: str) -> bool:
    """Apply a change already written; True when the running gateway uses it now. When it cannot,
    ``undo()`` (blocking: run in a thread) puts the change back and ``InvalidRequest`` says why."""
    if apply is None:
        return False
    try:
        await apply()
    except Exception as exc:
        if not isinstance(exc, ConfigError):
            log.exception("the gateway could not apply a change")
        await asyncio.to_thread(undo)
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        fix, detail = fix_of(exc)  # a port to choose, a client key to make: offered where it is said
        raise InvalidRequest(
            f"Not applied, so nothing changed: {reason}", param=param, fix=fix, detail=detail
        ) from None
    return True


async def audited(state: State | None, actor: str, action: str, payload: dict[str, Any]) -> None:
    """One audit event, written before the answer goes out (no database: nothing to write to)."""
    if state is not None:
        await asyncio.wrap_future(state.db.audit(actor, action, payload))
