"""Logging that never blocks the event loop and never writes a secret.

Records go through a queue to a listener thread that writes them to stderr and to a private
(0600) rotating file in the log folder; every message is redacted on the way.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import queue
import sys
from pathlib import Path

from gateway.redact import redact

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """Created 0600 from the start, rotations included (SECURITY.md S32)."""

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, self.mode.replace("w", "a"), encoding=self.encoding)


def start_logging(level: str, log_dir: Path | None) -> logging.handlers.QueueListener:
    """Route all logging through a background thread; call ``.stop()`` on the result at exit."""
    formatter = _Redacting(_FORMAT)
    sinks: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        sinks.append(_PrivateRotatingFile(log_dir / "gateway.log", maxBytes=5_000_000, backupCount=3))
    for sink in sinks:
        sink.setFormatter(formatter)
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root = logging.getLogger()
    root.handlers[:] = [logging.handlers.QueueHandler(records)]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    listener = logging.handlers.QueueListener(records, *sinks, respect_handler_level=False)
    listener.start()
    return listener


def set_level(level: str) -> None:
    """What passes from now on, when ``log_level`` changes while the gateway serves."""
    logging.getLogger().setLevel(level.upper())
