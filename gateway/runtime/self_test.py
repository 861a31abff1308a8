"""``--self-test``: does this build hold what a gateway needs to run? For installers and their
smoke tests, on the machine it was installed on, touching none of the user's state.

It starts a gateway on 127.0.0.1, port 0, over a throwaway state folder with secrets in memory
and no provider (so nothing leaves the machine), asks it for ``/health`` and ``/v1/models`` over
HTTP, and on the way uses every piece a frozen bundle could have left out: the tokenizer files,
the provider catalog, Argon2, JWT signing, AES-GCM, SQLite, and the keyring backends (found
through entry points). Prints one line a check; exit 0 only when all pass.

TLS: the upstreams' trust store is made (truststore, or certifi where it cannot be used); given a
test server's address in ``SWITCHBOARD_SELF_TEST_HTTPS``, one request is made to it over HTTPS,
verified as every upstream is. The release's smoke test serves it with a certificate from a test
root it installed the way the OS would (``installers/test_ca.py``), so a bundle that cannot read
the system's store fails here, not on a user's machine.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import fix_of

if TYPE_CHECKING:
    from gateway.transport import Transport

HTTPS_TEST_SERVER = "SWITCHBOARD_SELF_TEST_HTTPS"  # the smoke test's local HTTPS server, when it runs one
OFF = "".join(
    f"[providers.{p}]\nenabled = false\n" for p in ("ollama", "lmstudio", "llamacpp", "vllm", "localai", "jan")
)


def _checks() -> list[Check]:
    def tokenizer() -> str:
        from gateway.pipeline.tokens import count_text

        return f"{count_text('Switchboard counts every token.', 'gpt-4o')} tokens counted offline"

    def catalog() -> str:
        from gateway.providers.catalog import load_catalog

        return f"{len(load_catalog())} providers"

    def argon2() -> str:
        from argon2 import PasswordHasher

        hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        return "hash verified" if hasher.verify(hasher.hash("self-test password"), "self-test password") else "mismatch"

    def jwt() -> str:
        import jwt as pyjwt

        token = pyjwt.encode({"sub": "self-test"}, "k" * 64, algorithm="HS512")
        return f"HS512 round trip for {pyjwt.decode(token, 'k' * 64, algorithms=['HS512'])['sub']}"

    def sealing() -> str:
        from gateway.store.sealing import Seal

        with tempfile.TemporaryDirectory() as folder:
            seal = Seal.for_file(Path(folder) / "s", "self-test passphrase")
            return "AES-GCM round trip" if seal.open(seal.close("x")) == "x" else "mismatch"

    def keyring() -> str:
        import keyring.backend

        names = sorted(type(k).__module__ for k in keyring.backend.get_all_keyring())
        return f"backends: {', '.join(names) or 'none'}"

    return [
        ("tokenizer", tokenizer),
        ("catalog", catalog),
        ("argon2", argon2),
        ("jwt", jwt),
        ("aes-gcm", sealing),
        ("keyring", keyring),
    ]


async def _serve_and_ask(home: Path) -> list[tuple[str, bool, str]]:
    from gateway.config.loading import load_settings
    from gateway.runtime.server import GatewayServer
    from gateway.store.secrets import MemorySecrets
    from gateway.transport import UpstreamRequest
    from gateway.transport.http1 import Http1Transport

    config = home / "config.toml"
    config.write_text(OFF, encoding="utf-8")
    data = home / "data"
    data.mkdir(mode=0o700)
    started = time.perf_counter()
    server = GatewayServer(
        load_settings(config, {}, port=0), data_dir=data, secrets=MemorySecrets(), environ={}, home=home
    )
    await server.start()
    out: list[tuple[str, bool, str]] = []
    client = Http1Transport()
    try:
        for path, expect in (("/health", "status"), ("/v1/models", "data")):
            reply = await client.send(UpstreamRequest("self-test", "GET", f"{server.url}{path}", ()))
            body: Any = json.loads(await reply.read(1 << 20))
            ok = reply.status == 200 and isinstance(body, dict) and expect in body
            out.append((f"GET {path}", ok, f"{reply.status} after {(time.perf_counter() - started) * 1000:.0f} ms"))
        out.append(await _https(client, os.environ.get(HTTPS_TEST_SERVER, "")))
    finally:
        await client.aclose()
        await server.stop()
    return out


async def _https(client: Transport, url: str) -> tuple[str, bool, str]:
    """One request to the test server at ``url`` over verified TLS; without one, the trust store
    is only made (which proves truststore or certifi is in the bundle)."""
    from gateway.transport import UpstreamRequest
    from gateway.transport.trust import tls_context, trust_source

    tls_context()
    roots = "the system's trust store" if trust_source() == "system" else "certifi's bundle"
    if not url:
        return "https", True, f"verifying with {roots} (no test server given)"
    try:
        reply = await client.send(UpstreamRequest("self-test", "GET", url, ()))
        said = (await reply.read(1 << 10)).decode(errors="replace")
    except Exception as exc:
        return f"GET {url}", False, f"{type(exc).__name__}: {exc} ({fix_of(exc)[1]})"
    return f"GET {url}", reply.status == 200, f"{reply.status} {said!r}, verified with {roots}"


Check = tuple[str, Callable[[], str]]  # a name, and what passing found (it raises to fail)


def run(more: Sequence[Check] = (), write: Callable[[str], object] = print) -> int:
    """Every check (this module's, then ``more``: the app's Qt check), said; 0 when all pass."""
    from gateway.runtime.tuning import new_event_loop
    from gateway.version import __version__

    logging.getLogger("gateway").setLevel(logging.ERROR)  # its own in-memory secrets are no news here
    write(
        f"Switchboard {__version__} self-test (Python {sys.version.split()[0]}, "
        f"{'frozen' if getattr(sys, 'frozen', False) else 'from source'})"
    )
    results: list[tuple[str, bool, str]] = []
    for name, check in [*_checks(), *more]:
        try:
            results.append((name, True, check()))
        except Exception as exc:  # any missing piece: said, and the test fails
            results.append((name, False, f"{type(exc).__name__}: {exc}"))
    with tempfile.TemporaryDirectory(prefix="switchboard-self-test-") as folder:
        loop = new_event_loop()
        try:
            results += loop.run_until_complete(_serve_and_ask(Path(folder)))
        except Exception as exc:
            results.append(("gateway", False, f"{type(exc).__name__}: {exc}"))
        finally:
            loop.close()
    for name, ok, said in results:
        write(f"  {'ok  ' if ok else 'FAIL'} {name}: {said}")
    failed = [name for name, ok, _ in results if not ok]
    write("self-test passed" if not failed else f"self-test FAILED: {', '.join(failed)}")
    return 1 if failed else 0
