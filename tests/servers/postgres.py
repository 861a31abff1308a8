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
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def _binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps one a major version)."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


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
    pytest.fail("running as root with neither a 'postgres' nor a 'nobody' user to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin; Debian package 'postgresql')")
    as_user = _unprivileged()
    # Under root, a folder the server's user can reach whatever TMPDIR is (pytest's may be root's alone).
    folder = Path(tempfile.mkdtemp(prefix="switchboard-pg-", dir="/tmp" if as_user else None))
    data, log_file, pw_file = folder / "data", folder / "server.log", folder / "password"
    password = secrets.token_hex(16)
    pw_file.write_text(password)
    if as_user:
        owner = pwd.getpwnam(as_user[2])
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        os.chown(pw_file, owner.pw_uid, owner.pw_gid)
    (port,) = free_ports(1)
    run = [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data)]

    def check(*command: str) -> None:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            log = log_file.read_text(errors="replace") if log_file.exists() else ""
            pytest.fail(f"{Path(command[len(as_user)]).name} failed: {done.stderr}{done.stdout}\n{log}")

    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c shared_buffers=16MB -c max_connections=100"
    )
    check(
        *run,
        "init",
        "-s",
        "-o",
        f"-U {USER} --pwfile={pw_file} --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C --no-sync",
    )
    try:
        check(*run, "start", "-w", "-t", "30", "-s", "-l", str(log_file), "-o", options)
        yield PostgresServer(port, password)
    finally:
        subprocess.run([*run, "stop", "-m", "immediate", "-w", "-s"], capture_output=True, timeout=30, check=False)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh database on the session's server, for one test."""
    return postgres_server.new_database()
