"""Work for the gateway's loop, answered on the UI thread (Anki's task manager, in small).

A window asks ``tasks.run(lambda control: ..., on_done)``; the work runs on the gateway's loop,
and a coroutine on the Qt thread's qasync loop awaits it and calls ``on_done`` (or ``on_error``).
A coroutine of the UI's own (``spawn``) awaits the same work with ``await tasks.ask(...)``.
Windows never make threads or wait on the gateway themselves.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Signal

from app.gateway_host import GatewayHost
from app.words import said_of
from gateway import Control

Work = Callable[[Control], Any]
log = logging.getLogger("app")
_under_way: set[asyncio.Task[None]] = set()  # the loop holds its tasks weakly: kept here until they end


def spawn(work: Coroutine[Any, Any, None], owner: QObject | None = None) -> asyncio.Task[None]:
    """``work`` as a task on the Qt thread's loop (qasync's, app/__main__); what it raises is logged
    at once. ``owner``: an object whose destruction cancels it (a dialog that is gone)."""
    task = asyncio.get_running_loop().create_task(work)
    _under_way.add(task)
    task.add_done_callback(_ended)
    if owner is not None:
        owner.destroyed.connect(lambda: task.cancel())
    return task


def _ended(task: asyncio.Task[None]) -> None:
    _under_way.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("the app's own work failed", exc_info=task.exception())


def _others() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]


async def cancel_all() -> None:
    """Quitting: every other task on this loop is cancelled and let finish (a download deletes its
    partial file) before the loop closes; then the async generators that work left unfinished are
    closed (each in a task of its own, see ``closing_async_generators``)."""
    rest = _others()
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)
    await asyncio.sleep(0)
    await asyncio.gather(*_others(), return_exceptions=True)


@contextlib.contextmanager
def closing_async_generators(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """What asyncio's own ``run_forever`` sets up and qasync's (Qt's loop) does not: an async generator
    left unfinished (an httpx body whose reading was cancelled) is closed in a task on ``loop``. Without
    it the garbage collector closes it on the spot, where it cannot await its own clean-up ("async
    generator ignored GeneratorExit") and the connection under it is left half-closed."""
    before = sys.get_asyncgen_hooks()
    hooks: Any = loop  # asyncio.BaseEventLoop's hooks, which qasync's loop inherits
    sys.set_asyncgen_hooks(firstiter=hooks._asyncgen_firstiter_hook, finalizer=hooks._asyncgen_finalizer_hook)
    try:
        yield
    finally:
        sys.set_asyncgen_hooks(*before)


class Tasks(QObject):
    failed = Signal(str)  # failures of work that brought no on_error of its own

    def __init__(self, host: GatewayHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._host = host

    def run(
        self,
        work: Work,
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        owner: QObject | None = None,
    ) -> None:
        """``owner``: a widget whose closing makes the answer moot (it is dropped, not delivered)."""
        self._answer(self._host.call(work), on_done, on_error, owner)

    async def ask(self, work: Work) -> Any:
        """``work(control)`` on the gateway's loop, awaited on the Qt thread's; raises what it raised
        (``NotServing`` while the gateway is stopped). Cancelling the awaiting task cancels the work."""
        return await asyncio.wrap_future(self._host.call(work))

    def run_blocking(
        self,
        work: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        owner: QObject | None = None,
        *,
        gateway_stopped: bool = False,
    ) -> None:
        """``work()`` on a worker thread (files, the keychain), whether the gateway runs or not;
        ``gateway_stopped``: with the gateway stopped for it, and started again after."""
        future = (
            self._host.while_stopped(work) if gateway_stopped else self._host.submit(lambda: asyncio.to_thread(work))
        )
        self._answer(future, on_done, on_error, owner)

    def _answer(
        self,
        future: concurrent.futures.Future[Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None,
        owner: QObject | None,
    ) -> None:
        spawn(self._deliver(future, on_done, on_error, owner))

    async def _deliver(
        self,
        future: concurrent.futures.Future[Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None] | None,
        owner: QObject | None,
    ) -> None:
        """The answer, on the Qt thread; dropped when ``owner`` is gone, but the work is not
        cancelled with it (a half-done edit is worse than an answer nobody reads)."""
        try:
            result = await asyncio.shield(asyncio.wrap_future(future))
        except Exception as exc:
            if owner is None or shiboken6.isValid(owner):
                (on_error or self.failed.emit)(said_of(exc))  # words, fix and detail
            return
        if owner is None or shiboken6.isValid(owner):
            on_done(result)
