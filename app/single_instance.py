"""One Switchboard per state folder: a second launch asks the first to show its window, and exits.

A local socket (a named pipe on Windows) named after the state folder: the first instance listens
on it; a later one connects, says ``show`` and leaves. A socket left by a crashed instance does
not answer, and is taken over.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

CONNECT_WAIT_MS = 500
SHOW = b"show\n"


def socket_name(state_dir: Path) -> str:
    digest = hashlib.sha256(str(state_dir.resolve()).encode("utf-8")).hexdigest()[:16]
    return f"switchboard-{digest}"


def ask_running(name: str) -> bool:
    """True when another instance answered (and was asked to show itself)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_WAIT_MS):
        return False
    socket.write(SHOW)
    socket.waitForBytesWritten(CONNECT_WAIT_MS)
    socket.disconnectFromServer()
    return True


class SingleInstance(QObject):
    show_requested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)  # left by an instance that did not exit cleanly
        return self._server.listen(self.name)

    def _accept(self) -> None:
        # The caller writes at once and leaves, so the message is read here, briefly blocking.
        while (socket := self._server.nextPendingConnection()) is not None:
            arrived = socket.bytesAvailable() or socket.waitForReadyRead(CONNECT_WAIT_MS)
            if arrived and bytes(socket.readAll().data()).startswith(SHOW.strip()):
                self.show_requested.emit()
            socket.abort()
            socket.deleteLater()

    def close(self) -> None:
        self._server.close()
