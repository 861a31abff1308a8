"""The gateway on its own asyncio loop in a thread of its own, so a modal dialog, a repaint or a
slow chart never stalls a request, and a burst of requests never freezes a window.

The host owns that thread and the ``GatewayServer`` on it. The UI talks to it in two ways only:
``submit`` (a coroutine to run there, a ``concurrent.futures.Future`` back) and Qt signals, which
Qt delivers on the UI thread because the host lives there.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from app.words import said_of
from gateway import (
    ConfigError,
    Control,
    GatewayServer,
    ListenError,
    new_event_loop,
)

log = logging.getLogger("app")
T = TypeVar("T")


class GatewayHost(QObject):
    """``make_server`` builds a fresh server from the current settings at each start; while it
    serves, changed keys and settings reach it through ``reconfigure``, with no restart."""

    started = Signal(str)  # the address it listens on
    failed = Signal(str)  # why it could not start, in words
    stopped = Signal()
    applied = Signal(str)  # new settings serve now; the address it listens on (it may have moved)
    # Why new settings could not be applied (the old ones serve on): a ``Said``, its fix kept (a
    # ``Signal(str)`` would hand the pages a plain copy of it).
    refused = Signal(object)

    def __init__(self, make_server: Callable[[], GatewayServer], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._make_server = make_server
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name="gateway", daemon=True)
        self._thread.start()
        self.server: GatewayServer | None = None  # read on the UI thread only after ``started``
        self.url = ""
        self.error = ""
        self.failure: Exception | None = (
            None  # why it could not start, as raised: a fix to offer (``SecretsUnreadable``)
        )
        self.paused = False  # stopped on purpose, to be resumed
        # Starts and stops one at a time (on the gateway's loop): a reconfigure or a second start
        # while a start is under way waits for it, rather than making a second server.
        self._switching = asyncio.Lock()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @property
    def serving(self) -> bool:
        return self.server is not None and self.server.port is not None

    @property
    def control(self) -> Control | None:
        server = self.server
        return server.control if server is not None else None

    def submit(self, work: Callable[[], Awaitable[T]]) -> concurrent.futures.Future[T]:
        """Run ``work()`` on the gateway's loop (the coroutine is made there, not here)."""

        async def run() -> T:
            return await work()

        return self._on_loop(run)

    def _on_loop(self, run: Callable[[], Coroutine[Any, Any, T]]) -> concurrent.futures.Future[T]:
        if self._loop.is_closed() or not self._thread.is_alive():  # after shutdown: fail, do not hang
            done: concurrent.futures.Future[T] = concurrent.futures.Future()
            done.set_exception(NotServing("Switchboard is quitting"))
            return done
        return asyncio.run_coroutine_threadsafe(run(), self._loop)

    def start(self) -> concurrent.futures.Future[None]:
        return self.submit(self._start)

    def stop(self) -> concurrent.futures.Future[None]:
        return self.submit(self._stop)

    def pause(self, paused: bool) -> concurrent.futures.Future[None]:
        """Stop answering (the port is let go) or start again."""
        self.paused = paused
        return self.stop() if paused else self.start()

    def reconfigure(self) -> concurrent.futures.Future[None]:
        """Apply the keys and settings as they are now, live: the gateway swaps in what they build
        (requests in flight finish as they began) and says so with ``applied``, or keeps serving as
        it was and says why with ``refused`` (the future fails with the ``ConfigError`` too). A
        gateway that could not start is started with them; a paused one reads them when resumed."""

        async def apply() -> None:
            async with self._switching:  # a start under way ends first (it may have read the settings before)
                server = self.server
            if server is None:
                if not self.paused:
                    await self._start()
                return
            try:
                await server.reconfigure()  # ``applied`` is said by the server's observer
            except Exception as exc:  # any failure is shown to the user, never lost
                if not isinstance(exc, ConfigError):
                    log.exception("the gateway could not apply new settings")
                self.refused.emit(said_of(exc))  # in words: a file the gateway could not read is said as one
                raise

        return self.submit(apply)

    def while_stopped(self, work: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Stop (requests in flight finish), ``work()`` on a worker thread, then start again
        (unless paused) whether the work succeeded or not: how the state folder is moved, the one
        change a running gateway cannot take live."""

        async def run() -> T:
            await self._stop()
            try:
                return await asyncio.to_thread(work)
            finally:
                if not self.paused:
                    await self._start()

        return self.submit(run)

    async def _start(self) -> None:
        async with self._switching:
            if self.server is None and not self.paused:  # started meanwhile, or paused while this waited
                await self._start_one()

    async def _start_one(self) -> None:
        server: GatewayServer | None = None
        try:
            server = self._make_server()
            await server.start()
        except Exception as exc:  # any failure is shown to the user, never lost
            if not isinstance(exc, ListenError | ConfigError):
                log.exception("the gateway could not start")
            if server is not None:  # what it opened (database, connections) is closed again
                with contextlib.suppress(Exception):
                    await server.stop()
            self.error, self.failure = said_of(exc), exc  # in words, its fix and detail kept (the tooltip shows it)
            self.failed.emit(self.error)
            return
        self.server, self.url, self.error, self.failure = server, server.url, "", None
        server.on_applied.append(lambda: self._applied(server))
        self.started.emit(server.url)

    def _applied(self, server: GatewayServer) -> None:
        """New settings serve now, however they came (here, or an edit through the admin door)."""
        if server is self.server:
            self.url = server.url
            self.applied.emit(server.url)

    async def _stop(self) -> None:
        async with self._switching:
            server, self.server = self.server, None
            if server is not None:
                await server.stop()
                self.stopped.emit()

    def shutdown(self, timeout: float = 60.0) -> None:
        """Stop serving (in-flight requests get the grace period), then end the thread."""
        try:
            self.stop().result(timeout)
        except Exception:
            log.exception("the gateway did not stop cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._loop.close()

    def call(self, work: Callable[[Control], Any]) -> concurrent.futures.Future[Any]:
        """``work(control)`` on the gateway's loop; awaited when it is a coroutine. Fails with
        ``NotServing`` while the gateway is stopped or paused."""

        async def run() -> Any:
            control = self.control
            if control is None:
                raise NotServing(self.error or "the gateway is not running")
            try:
                result = work(control)
                return await result if asyncio.iscoroutine(result) else result
            except Exception:
                if self.control is not control:  # stopped under it: its database and pools closed mid-answer
                    raise NotServing("The gateway stopped before it answered.") from None
                raise

        return self._on_loop(run)


class NotServing(Exception):
    """The gateway is stopped or paused, so there is nothing to ask."""
