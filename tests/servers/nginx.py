"""A real ``nginx`` on loopback running ``deploy/nginx.conf`` — the load balancer the compose file
ships — with the gateways' addresses and its port put in for the compose names, in a temporary
prefix; stopped after. Its access log (the file's own format) says which gateway served each request."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from conftest import free_ports

from servers import end_process

BINARY = "nginx"
DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
COMPOSE_NAMES = ("gateway-1:11488", "gateway-2:11488")
COMPOSE_HOST = "$host:11488"  # the Host the gateways are called with: the client's name, their port
COMPOSE_LISTEN = "listen 8080;"


def nginx_binary() -> str | None:
    """nginx on the PATH or where Debian puts it (``/usr/sbin``, not on every user's PATH)."""
    return shutil.which(BINARY) or shutil.which(BINARY, path="/usr/sbin:/usr/local/sbin")


def nginx_missing() -> str | None:
    """Why no nginx can be started here, or None."""
    if nginx_binary() is None:
        return "nginx is not installed (scripts/test.sh installs Debian's nginx package)"
    return None


def loopback_conf(gateways: tuple[str, ...], gateway_port: int, port: int) -> str:
    """``deploy/nginx.conf`` with the gateways at these loopback addresses, all on ``gateway_port`` as
    in the compose file (127.0.0.2, 127.0.0.3: all of 127/8 is loopback), the balancer on ``port``."""
    text = DEPLOY_CONF.read_text(encoding="utf-8")
    assert len(gateways) == len(COMPOSE_NAMES) and COMPOSE_LISTEN in text and COMPOSE_HOST in text
    for name, gateway in zip(COMPOSE_NAMES, gateways, strict=True):
        assert text.count(name) == 1, name
        text = text.replace(name, f"{gateway}:{gateway_port}")
    return text.replace(COMPOSE_HOST, f"$host:{gateway_port}").replace(COMPOSE_LISTEN, f"listen 127.0.0.1:{port};")


def nginx_command(folder: Path, *extra: str) -> list[str]:
    binary = nginx_binary()
    assert binary is not None
    return [binary, "-p", f"{folder}/", "-e", str(folder / "error.log"), "-c", str(folder / "nginx.conf"), *extra]


class Nginx:
    """One nginx master in ``folder`` (its temp folders, pid file, error log and access log there)."""

    def __init__(self, folder: Path, gateways: tuple[str, ...], gateway_port: int) -> None:
        self.folder = folder
        (self.port,) = free_ports(1)
        (folder / "nginx.conf").write_text(loopback_conf(gateways, gateway_port, self.port), encoding="utf-8")
        if os.geteuid() == 0:  # its workers run as nobody then, and make their temp folders in here
            folder.chmod(0o755)
        self.access_log = folder / "access.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def check(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t``: the configuration parsed and its upstreams resolved, nothing started."""
        return subprocess.run(nginx_command(self.folder, "-t"), capture_output=True, text=True, timeout=30)

    def start(self) -> None:
        with self.access_log.open("ab") as log:  # the file logs to /dev/stdout, as a container's does
            self._process = subprocess.Popen(
                nginx_command(self.folder, "-g", f"daemon off; pid {self.folder / 'nginx.pid'};"),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'error.log').read_text()[-2000:]}")
            if (self.folder / "nginx.pid").exists():
                return
            time.sleep(0.02)
        raise RuntimeError("nginx did not start within 10 s")

    def served_by(self, answered: int = 0) -> list[str]:
        """Each logged request's ``$upstream_addr``: ``127.0.0.1:A`` or, once retried, ``127.0.0.1:A, 127.0.0.1:B``;
        once at least ``answered`` are logged, or 5 s have passed (nginx logs a request when it is done, which can
        be just after its client has the answer)."""
        deadline = time.monotonic() + 5
        while True:
            lines = self.access_log.read_text(encoding="utf-8").splitlines()
            served = [line.split(" upstream=", 1)[1].split(" status=", 1)[0] for line in lines if " upstream=" in line]
            if len(served) >= answered or time.monotonic() > deadline:
                return served
            time.sleep(0.02)

    def stop(self) -> None:
        end_process(self._process)
        self._process = None
