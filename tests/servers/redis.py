"""A real ``redis-server`` on a free loopback port, in a temporary folder, writing nothing to disk.

``redis_server`` is one for the whole session (tests keep apart by the database number or key
names they use); ``RedisServer`` itself starts one a test may stop and start again (an outage)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import end_process

BINARY = "redis-server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process: no snapshots, no append-only file, loopback only."""

    def __init__(self, folder: Path, port: int | None = None, *options: str) -> None:
        """``options``: more of redis-server's own (``--requirepass``, …)."""
        self.folder = folder
        self.port = port or _free_port()
        self._options = options
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which(BINARY)
        assert binary is not None
        log = (self.folder / "redis.log").open("ab")
        self._process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes", *self._options],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.folder / 'redis.log').read_text()[-2000:]}")
            if self._answers():
                return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer within 10 s")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith((b"+PONG", b"-NOAUTH"))  # up, with a password or without
        except OSError:
            return False

    def stop(self) -> None:
        end_process(self._process)
        self._process = None


def redis_missing() -> str | None:
    """Why no Redis can be started here, or None."""
    if shutil.which(BINARY) is None:
        return "redis-server is not installed (scripts/test.sh installs Debian's redis-server package)"
    return None


@pytest.fixture
def redis_folder() -> Iterator[Path]:
    if (reason := redis_missing()) is not None:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="sb-redis-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if (reason := redis_missing()) is not None:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="sb-redis-") as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            yield server
        finally:
            server.stop()
