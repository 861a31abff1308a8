"""Running a real client program against the gateway, and seeing what the gateway answered it.

A program runs in a fresh environment (its own home and XDG folders, so no login, setting or key
of this machine is read, and nothing it writes stays), offline but for the loopback, with stdin
closed and a deadline; at the end its whole process group goes, since agents leave children that
keep the output pipes open.

``Answers`` records every answer the gateway gives, with the test case the request named in
``CASE_HEADER``: the proof that no request a client made was refused, whichever way it went.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest
from aiohttp import web

from gateway.api.entry import ROUTE_HEADER, Entry

CLIENTS_ENV = "SWITCHBOARD_TEST_CLIENTS"  # the folder holding node_modules (scripts/clients.sh sets it)
LOCK_FILE = Path(__file__).with_name("package-lock.json")
OFFLINE = Path(__file__).with_name("programs") / "offline.mjs"
CASE_HEADER = "x-switchboard-test-case"  # every client is configured to send its case's id
MODEL_CALLS = ("/messages", "/chat/completions", "/responses", "/api/chat", "/api/generate")


def clients_folder() -> Path:
    """Where scripts/clients.sh installs the pinned clients: a cache folder named by the lock
    file's hash, unless the environment names another (scripts/clients-latest.sh)."""
    if chosen := os.environ.get(CLIENTS_ENV):
        return Path(chosen)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "switchboard" / "clients" / hashlib.sha256(LOCK_FILE.read_bytes()).hexdigest()


class Usage(NamedTuple):
    input: int  # every input token, cached ones included
    output: int

    def times(self, n: int) -> Usage:
        return Usage(self.input * n, self.output * n)


@dataclass(frozen=True, slots=True)
class Exchange:
    """One answer of the gateway."""

    case: str  # the CASE_HEADER the request carried ("" for none)
    method: str
    path: str
    status: int
    route: str  # the provider and model that served it; "" when no model did
    refusal: str  # the error body of an answer that is one

    @property
    def model_call(self) -> bool:
        return self.path.endswith(MODEL_CALLS)

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status} {self.refusal}".rstrip()


class Answers:
    def __init__(self) -> None:
        self.seen: list[Exchange] = []

    @contextmanager
    def recording(self) -> Iterator[None]:
        """While open, every answer is recorded. Entry.stamp puts the headers every answer
        carries on it (whole answers and streams, refusals before routing too), so it sees
        each status a client got; the gateway has no access log to read instead."""
        stamp = Entry.stamp

        def recorded(entry: Entry, request: web.BaseRequest, response: web.StreamResponse) -> None:
            stamp(entry, request, response)
            body = response.body if isinstance(response, web.Response) and response.status >= 400 else None
            refusal = body.decode(errors="replace")[:500] if isinstance(body, bytes) else ""
            self.seen.append(
                Exchange(
                    request.headers.get(CASE_HEADER, ""),
                    request.method,
                    request.path,
                    response.status,
                    response.headers.get(ROUTE_HEADER, ""),
                    refusal,
                )
            )

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(Entry, "stamp", recorded)
            yield


@dataclass(frozen=True, slots=True)
class Finished:
    status: int | None  # None: stopped at the deadline
    out: str
    err: str
    exchanges: tuple[Exchange, ...]  # the gateway's answers while it ran

    def account(self) -> str:
        """What to show when it went wrong."""
        ending = "killed at its deadline" if self.status is None else f"exit status {self.status}"
        return f"{ending}\n--- stdout (end) ---\n{self.out[-3000:]}\n--- stderr (end) ---\n{self.err[-3000:]}"


def environment(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """Only PATH (node, bash) is kept from this process's environment. Node programs load
    OFFLINE first (the others are told by their settings to stay off the network)."""
    folders = {
        name: home / sub
        for name, sub in (
            ("XDG_CONFIG_HOME", ".config"),
            ("XDG_CACHE_HOME", ".cache"),
            ("XDG_DATA_HOME", ".local/share"),
            ("XDG_STATE_HOME", ".local/state"),
        )
    }
    for folder in (home, *folders.values()):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        **{name: str(folder) for name, folder in folders.items()},
        "LANG": "C.UTF-8",
        "NO_PROXY": "127.0.0.1,localhost",
        "NODE_OPTIONS": f"--import={OFFLINE.as_uri()}",
        **extra,
    }


async def run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, answers: Answers, timeout: float) -> Finished:
    first = len(answers.seen)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
    )
    assert process.stdout is not None and process.stderr is not None
    reading = asyncio.gather(process.stdout.read(), process.stderr.read())
    try:
        status: int | None = await asyncio.wait_for(process.wait(), timeout)
    except TimeoutError:
        status = None
    with suppress(ProcessLookupError):  # none of its group is left
        os.killpg(process.pid, signal.SIGKILL)
    out, err = await reading
    await process.wait()
    return Finished(status, out.decode(errors="replace"), err.decode(errors="replace"), tuple(answers.seen[first:]))
