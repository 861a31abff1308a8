"""The image's own command and health check, run without a container (no Docker on the test
machines): the Dockerfile's ``serve --host 0.0.0.0 --config …`` with ``deploy/config.toml``, its
PostgreSQL and Redis names pointed at real servers on loopback, the secrets' passphrase from a file
as a compose secret gives it. The Dockerfile's HEALTHCHECK passes once ready and fails from the
start of a stop; deploy/kubernetes' probes (path and Host header) get 200; the Host nginx passes on (the
allowed name, the gateways' port) is answered, and only with the client key made first."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from conftest import free_ports
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)
from servers.redis import RedisServer
from test_cli import child_env

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
IMAGE_PORT = "11488"


def instruction(name: str) -> list[str]:
    """The JSON arguments of the Dockerfile's last ``name`` instruction (CMD, or HEALTHCHECK's CMD)."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = [line for line in text.splitlines() if line.split(" ", 1)[0] == name][-1]
    arguments: list[str] = json.loads(line[line.index("[") :])
    return arguments


def probes() -> list[dict[str, Any]]:
    """deploy/kubernetes' readiness and liveness probes' httpGet."""
    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "statefulset.yaml").read_text(encoding="utf-8"))
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return [container[name]["httpGet"] for name in ("readinessProbe", "livenessProbe")]


async def run(*command: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(30):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_the_images_command_serves_the_team_settings(
    tmp_path: Path,
    redis_server: RedisServer,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    (port,) = free_ports(1)
    passphrase = tmp_path / "switchboard_passphrase"
    passphrase.write_text(secrets.token_urlsafe(32))
    passphrase.chmod(0o600)
    config = (DEPLOY / "config.toml").read_text(encoding="utf-8")
    for compose_name, here in (
        ("postgresql://switchboard@postgres:5432/switchboard", postgres_url),
        ("redis://redis:6379/0", redis_server.url),
    ):
        assert config.count(compose_name) == 1
        config = config.replace(compose_name, here)
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    env = child_env(
        tmp_path / "home",
        SWITCHBOARD_SECRETS_PASSPHRASE_FILE=str(passphrase),
        SWITCHBOARD_STORE_PASSWORD=postgres_server.password,
    )
    create = ["keys", "--config", str(tmp_path / "config.toml"), "create", "--label", "team"]  # the team's settings
    code, made = await run(sys.executable, "-m", "gateway", *create, env=env)  # so into the team's database
    assert code == 0, made
    found = re.search(r"sk-sb-\S+", made)
    assert found is not None, made
    key = found.group(0)

    command = instruction("ENTRYPOINT") + instruction("CMD")
    assert command[:3] == ["python", "-m", "gateway"]
    command = [sys.executable, *command[1:]]
    command[command.index(IMAGE_PORT)] = str(port)
    command[-1] = str(tmp_path / "config.toml")
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        assert process.stdout is not None
        seen = ""
        async with asyncio.timeout(20):
            while "listening on" not in seen:  # after the log's first lines (it logs to stderr too)
                line = (await process.stdout.readline()).decode()
                assert line, seen
                seen += line
        assert f"listening on http://0.0.0.0:{port}" in seen, seen

        health = instruction("HEALTHCHECK")  # its CMD's arguments, as Docker runs them in the container
        assert health[0] == "python"
        health = [sys.executable, *(a.replace(IMAGE_PORT, str(port)) for a in health[1:])]
        assert (await run(*health, env=env))[0] == 0

        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for probe in probes():
                path, host_header = probe["path"], probe["httpHeaders"][0]
                assert host_header["name"] == "Host"
                headers = {"Host": host_header["value"].replace(IMAGE_PORT, str(port))}
                async with session.get(url + path, headers=headers) as r:
                    assert r.status == 200, (path, await r.text())
            host = {"Host": f"switchboard.example.internal:{port}"}  # what nginx passes on: $host:<gateway port>
            async with session.get(f"{url}/v1/models", headers=host) as r:
                assert r.status == 401  # require_keys: a caller on this machine needs the key too
            async with session.get(f"{url}/v1/models", headers={**host, "Authorization": f"Bearer {key}"}) as r:
                assert r.status == 200, await r.text()
            async with session.get(f"{url}/v1/models", headers={"Host": f"elsewhere.example:{port}"}) as r:
                assert r.status == 403  # a name not in allowed_hosts

            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            async with session.get(f"{url}/health/ready") as r:
                assert (r.status, await r.json()) == (503, {"status": "draining"})
        assert (await run(*health, env=env))[0] != 0  # Docker sees it unhealthy from the start of a stop
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
