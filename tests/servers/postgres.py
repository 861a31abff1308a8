"""A real PostgreSQL on loopback for the team-mode tests: one server a test session, in a temporary
folder, on a free port, with its unix socket in that folder; stopped and removed after.

``initdb`` and ``postgres`` refuse to run as root, and CI runs as root: then they run as an
unprivileged user (``postgres`` when the Debian package made it, else ``nobody``) over a folder
given to that user. Connections from the tests go over TCP to 127.0.0.1 with a password, as a
gateway's would; each test gets a database of its own (``postgres_url``).
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from glob import glob
from pathlib import Path

import psycopg
import pytest
from conftest import free_ports
from psycopg import sql

USER = "switchboard"


@dataclass(frozen=True, slots=True)
class PostgresServer:
    port: int
    password: str

    def url(self, dbname: str = "postgres") -> str:
        """Its address as ``[store] url`` takes it: no password in it."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """A fresh, empty database's address."""
        name = f"t_{secrets.token_hex(6)}"
        with psycopg.connect(self.url(), password=self.password, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} STRATEGY FILE_COPY").format(sql.Identifier(name)))  # faster, small
        return self.url(name)


def _binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps one a major version)."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def postgres_missing() -> str | None:
    """Why no PostgreSQL can be started here, or None."""
    if _binaries() is None:
        return "PostgreSQL is not installed (/usr/lib/postgresql/*/bin; Debian package 'postgresql')"
    return None


def _unprivileged() -> list[str]:
    """The prefix that runs a command as someone other than root, when we are root."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root with neither a 'postgres' nor a 'nobody' user to run PostgreSQL as")


class PostgresCluster:
    """One server in a temporary folder of its own (``start``, then ``stop``). ``durable``: with
    fsync and synchronous commits as a real deployment has them (a benchmark's figures); the
    tests go without, as nothing they check needs the disk."""

    def __init__(self, durable: bool = False) -> None:
        bin_dir = _binaries()
        if bin_dir is None:
            raise RuntimeError(postgres_missing())
        self._as_user = _unprivileged()
        # Under root, a folder the server's user can reach whatever TMPDIR is (pytest's may be root's alone).
        self._folder = Path(tempfile.mkdtemp(prefix="switchboard-pg-", dir="/tmp" if self._as_user else None))
        self._log = self._folder / "server.log"
        self._ctl = [*self._as_user, str(bin_dir / "pg_ctl"), "-D", str(self._folder / "data")]
        self._durable = durable

    def start(self) -> PostgresServer:
        """Initialised and started, on a free port; ``RuntimeError`` with the server's log if not."""
        folder, password = self._folder, secrets.token_hex(16)
        pw_file = folder / "password"
        pw_file.write_text(password)
        if self._as_user:
            owner = pwd.getpwnam(self._as_user[2])
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            os.chown(pw_file, owner.pw_uid, owner.pw_gid)
        (port,) = free_ports(1)
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=100"
        if not self._durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        initdb = f"-U {USER} --pwfile={pw_file} --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C"
        self._run("init", "-s", "-o", initdb + ("" if self._durable else " --no-sync"))
        self._run("start", "-w", "-t", "30", "-s", "-l", str(self._log), "-o", options)
        return PostgresServer(port, password)

    def stop(self) -> None:
        subprocess.run(
            [*self._ctl, "stop", "-m", "immediate", "-w", "-s"], capture_output=True, timeout=30, check=False
        )
        shutil.rmtree(self._folder, ignore_errors=True)

    def _run(self, *arguments: str) -> None:
        done = subprocess.run([*self._ctl, *arguments], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = self._log.read_text(errors="replace") if self._log.exists() else ""
            raise RuntimeError(f"pg_ctl {arguments[0]} failed: {done.stderr}{done.stdout}\n{log}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if (reason := postgres_missing()) is not None:
        pytest.skip(reason)
    cluster = PostgresCluster()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's server, for one test."""
    return postgres_server.new_database()
