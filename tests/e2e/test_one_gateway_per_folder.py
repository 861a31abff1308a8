"""One gateway per state folder (issue 20 item 10; SECURITY.md B45): a second ``serve`` on the
same folder says which process holds it and exits 1 without touching the first one's files; the
folder is free again once the first stops, or dies."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
from test_cli import child_env, start


def state_files(home: Path) -> dict[str, bytes]:
    return {
        f.name: f.read_bytes()
        for f in sorted((home / "data").iterdir())
        if f.is_file() and not f.name.startswith("switchboard.db")
    }


async def second_start(home: Path) -> tuple[int | None, str, str]:
    """Exit code, stdout and stderr of another ``serve`` on ``home``; None if it is still running
    after 15 s (then stopped)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--port",
        "0",
        env=child_env(home),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(15):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        return None, out.decode(), err.decode()
    return proc.returncode, out.decode(), err.decode()


async def test_a_second_gateway_on_the_same_folder_names_the_first_and_exits(tmp_path: Path) -> None:
    first, url = await start(tmp_path, "--port", "0")
    try:
        before = state_files(tmp_path)
        assert "admin.token" in before
        code, out, err = await second_start(tmp_path)
        assert code == 1, out
        assert f"process {first.pid}" in err and str(tmp_path / "data") in err, err
        assert "Traceback" not in err and "listening" not in out
        assert state_files(tmp_path) == before  # the admin token and the lock file as the first wrote them
        async with aiohttp.ClientSession() as session, session.get(f"{url}/health") as r:
            assert r.status == 200
    finally:
        first.send_signal(signal.SIGTERM)
        assert await first.wait() == 0
    again, _ = await start(tmp_path, "--port", "0")  # stopped: the folder is free
    again.send_signal(signal.SIGKILL)  # and a gateway that dies leaves no lock behind
    await again.wait()
    last, _ = await start(tmp_path, "--port", "0")
    last.send_signal(signal.SIGTERM)
    assert await last.wait() == 0
