"""``python -m gateway`` as a person runs it: start, serve, stop gracefully, fail clearly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
from conftest import FAKE_KEY, LOCAL_OFF
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script


def child_env(home: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "_URL", "_MODELS"))}
    keep.pop("SWITCHBOARD_HOME", None)
    return {**keep, "OLLAMA_URL": "http://127.0.0.1:9", "SWITCHBOARD_HOME": str(home), **extra}


async def start(home: Path, *args: str, **env: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        *args,
        env=child_env(home, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    async with asyncio.timeout(15):
        line = (await proc.stdout.readline()).decode()
    assert "listening on http://" in line, line
    return proc, line.split("listening on ")[1].strip()


async def test_serve_prints_its_address_and_stops_gracefully_on_sigterm(tmp_path: Path, upstream: FakeOpenAI) -> None:
    proc, url = await start(
        tmp_path, "--port", "0", OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=upstream.url, OPENAI_MODELS="gpt-test"
    )
    upstream.then(Script("held", after_events=2))
    body = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/health") as health:
            assert health.status == 200
        async with session.post(f"{url}/v1/chat/completions", json=body) as response:
            first = await response.content.readany()
            assert b"data:" in first
            proc.send_signal(signal.SIGTERM)  # with a stream in flight
            await asyncio.sleep(0.3)
            try:  # no new connections while draining
                async with session.get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=1)) as late:
                    assert late.status != 200
            except aiohttp.ClientError:
                pass
            upstream.gate.set()
            rest = await response.read()
    assert (first + rest).rstrip().endswith(b"data: [DONE]"), "the in-flight stream was cut short"
    async with asyncio.timeout(15):
        assert await proc.wait() == 0
    assert proc.stdout is not None
    assert b"Served 1 answer; tokens counted: 12 prompt (0 cached), 5 completion" in await proc.stdout.read()
    assert upstream.hang_ups == 0
    assert (tmp_path / "logs" / "gateway.log").exists()
    if os.name == "posix":
        assert (tmp_path / "logs" / "gateway.log").stat().st_mode & 0o077 == 0
        assert (tmp_path / "data").stat().st_mode & 0o077 == 0


async def test_sigint_exits_zero(tmp_path: Path) -> None:
    proc, _ = await start(tmp_path, "serve", "--port", "0")
    proc.send_signal(signal.SIGINT)
    async with asyncio.timeout(15):
        assert await proc.wait() == 0


def run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], env=child_env(home, **env), capture_output=True, text=True, timeout=60
    )


def test_busy_port_is_one_clear_line_and_a_failure_code(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(tmp_path, "--port", str(port))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(port) in lines[0] and "already in use" in lines[0] and "--port" in lines[0]


def test_refuses_to_listen_beyond_loopback_without_keys(tmp_path: Path) -> None:
    result = run(tmp_path, "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 1
    assert "no client key" in result.stderr and "keys create" in result.stderr and "--host" in result.stderr


def test_missing_explicit_config_is_a_clear_error(tmp_path: Path) -> None:
    result = run(tmp_path, "providers", "--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[server]\nport = 'eleven'\n")
    result = run(tmp_path, "providers")
    assert result.returncode == 2 and "[server].port" in result.stderr


def test_providers_come_from_the_environment_and_keys_stay_masked(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "providers",
        GROQ_API_KEY="gsk_first_key_abcdefgh1234,gsk_second_key_zyxwvu9876",
        MISTRAL_API_KEY="mistral-key-0123456789",
        MISTRAL_MODELS="mistral-small,codestral-latest",
        LMSTUDIO_URL="http://localhost:1234",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "groq" in out and "https://api.groq.com/openai/v1" in out
    assert "gsk_****1234" in out and "gsk_****9876" in out and "gsk_first_key" not in out
    assert "mistral" in out and "2 fixed" in out
    assert "lmstudio" in out and "http://localhost:1234/v1" in out
    assert "ollama" in out and "http://127.0.0.1:9\n" in out


async def test_home_holds_the_config_for_every_subcommand(tmp_path: Path, upstream: FakeOpenAI) -> None:
    (tmp_path / "config.toml").write_text(
        f'[providers.box]\nkind = "openai-compatible"\nbase_url = "{upstream.url}"\napi_key_env = "BOX_KEY"\n'
        + LOCAL_OFF
    )
    env = child_env(tmp_path, BOX_KEY=FAKE_KEY)
    env.pop("SWITCHBOARD_HOME")  # --home alone must find it
    for command in ("providers", "models"):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway",
            command,
            "--home",
            str(tmp_path),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
        assert proc.returncode == 0, err
        assert b"box" in out
    assert out.decode().split() == ["box/gpt-test", "box/gpt-other", "box/text-embed-test"]


def test_version(tmp_path: Path) -> None:
    result = run(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == "0.1.0"


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("switchboard-gateway")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "serve" in result.stdout


def test_no_secret_reaches_argv_or_output(tmp_path: Path) -> None:
    result = run(tmp_path, "providers", OPENAI_API_KEY="sk-proj-CANARYCANARYCANARY1234")
    assert "CANARYCANARY" not in result.stdout + result.stderr
    assert json.dumps(result.args).count("CANARY") == 0


async def test_the_grace_period_is_bounded(tmp_path: Path, upstream: FakeOpenAI) -> None:
    (tmp_path / "config.toml").write_text("[server]\nshutdown_grace_seconds = 1\n")
    proc, url = await start(
        tmp_path, "--port", "0", OPENAI_API_KEY=FAKE_KEY, OPENAI_BASE_URL=upstream.url, OPENAI_MODELS="gpt-test"
    )
    upstream.then(Script("held", after_events=2))  # never released: this request would never end
    body = {"model": "openai/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/chat/completions", json=body) as response:
        await response.content.readany()
        started = asyncio.get_running_loop().time()
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
        assert asyncio.get_running_loop().time() - started < 5
    await asyncio.wait_for(upstream.hung_up.wait(), 2)  # the abandoned upstream call was closed


async def test_a_closed_stdout_does_not_fail_the_shutdown(tmp_path: Path) -> None:
    proc, _ = await start(tmp_path, "--port", "0")
    assert proc.stdout is not None
    proc.stdout.feed_eof()
    proc._transport.get_pipe_transport(1).close()  # type: ignore[attr-defined]  # the reader goes away
    proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(15):
        assert await proc.wait() == 0
    assert proc.stderr is not None
    assert b"Traceback" not in await proc.stderr.read()
