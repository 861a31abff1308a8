"""Run a built bundle in self-test mode and report what a release should know about it.

    python installers/smoke_test.py dist/switchboard [--app]

Runs ``switchboard-gateway --self-test`` (and, with ``--app``, ``switchboard --self-test``, which
checks Qt too) from the bundle and prints each one's checks, each making one HTTPS request to a
local server whose certificate a test root signed (``test_ca.py``): on Linux that root is given to
the bundle as OpenSSL's system store (``SSL_CERT_FILE``); on macOS and Windows the release workflow
adds it to the user's keychain or certificate store first and passes ``--ca``. Then it times a
cold start: from launching ``switchboard-gateway serve --port 0`` over an empty state folder to its first
``/health`` answer; then prints the bundle's size on disk. Exit 0 only when every self-test passed
and the gateway answered. Every subprocess's exit code is checked.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from test_ca import https_server, make_test_ca

HTTPS_TEST_SERVER = "SWITCHBOARD_SELF_TEST_HTTPS"  # gateway/runtime/self_test.py asks the server it names


def bundle_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def executable(folder: Path, name: str) -> Path:
    found = folder / (f"{name}.exe" if os.name == "nt" else name)
    if not found.is_file():
        raise SystemExit(f"smoke test: {found} is not in the bundle")
    return found


def self_test(binary: Path, env: dict[str, str]) -> tuple[bool, float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(binary), "--self-test"], capture_output=True, text=True, timeout=180, env=env, check=False
    )
    return done.returncode == 0, time.perf_counter() - started, done.stdout + done.stderr


def cold_start(binary: Path, env: dict[str, str]) -> float:
    """Seconds from launch to the first 200 from /health, over a fresh state folder."""
    with tempfile.TemporaryDirectory(prefix="switchboard-smoke-") as home:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(binary), "serve", "--port", "0", "--home", home],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**env, "OLLAMA_URL": "http://127.0.0.1:9"},
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if "listening on " not in line:
                raise SystemExit(f"smoke test: the gateway did not start ({line.strip() or 'no output'})")
            with urllib.request.urlopen(line.split("listening on ")[1].strip() + "/health", timeout=10) as reply:
                if reply.status != 200:
                    raise SystemExit(f"smoke test: /health answered {reply.status}")
            return time.perf_counter() - started
        finally:
            proc.terminate()  # SIGTERM: a graceful stop, exit 0 (Windows has no such signal: it is killed)
            if proc.wait(30) != 0 and os.name != "nt":
                raise SystemExit(f"smoke test: the gateway exited {proc.returncode} on SIGTERM")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the onedir bundle (dist/switchboard)")
    parser.add_argument("--app", action="store_true", help="also the tray app's self-test (needs Qt's libraries)")
    parser.add_argument(
        "--ca",
        type=Path,
        help="a test root made by test_ca.py and already in this user's trust store (macOS, Windows); "
        "without it one is made here and, on Linux, given to the bundle as SSL_CERT_FILE",
    )
    args = parser.parse_args(argv)
    names = ["switchboard-gateway", *(["switchboard"] if args.app else [])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}  # the user's state is not ours
    passed = True
    with tempfile.TemporaryDirectory(prefix="switchboard-ca-") as made, ExitStack() as serving:
        if sys.platform == "linux":  # what the system's store is to OpenSSL, for the bundle alone
            ca_file = args.ca / "ca.pem" if args.ca else make_test_ca(Path(made))
            env = {**{k: v for k, v in env.items() if k != "SSL_CERT_DIR"}, "SSL_CERT_FILE": str(ca_file)}
        if args.ca or sys.platform == "linux":
            env[HTTPS_TEST_SERVER] = serving.enter_context(https_server(args.ca or Path(made)))
        else:
            print("no --ca: the self-test makes no HTTPS request (the test root must be in this user's store)")
        for name in names:
            ok, seconds, said = self_test(executable(args.bundle, name), env)
            print(said.rstrip())
            print(f"{name}: self-test {'passed' if ok else 'FAILED'} in {seconds:.2f} s")
            passed = passed and ok
    env.pop(HTTPS_TEST_SERVER, None)
    print(f"cold start to /health: {cold_start(executable(args.bundle, 'switchboard-gateway'), env):.2f} s")
    print(f"bundle: {bundle_size(args.bundle) / 1048576:.1f} MiB in {args.bundle}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
