"""The app's own HTTP: the release feed and an installer's files, fetched with httpx in coroutines
on the Qt thread's loop (qasync's, app/__main__). Nothing here blocks that thread for long: an
installer streams to a file beside its final place, each piece written and hashed on a worker
thread (``asyncio.to_thread``), and is moved into place only once it is proven the release's.
A download that fails, is refused or is cancelled (the app quitting) leaves no file behind.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from app.updates import (
    FEED_LIMIT,
    INSTALLER_LIMIT,
    SIGNATURE,
    SIGNATURE_LIMIT,
    SUMS,
    SUMS_LIMIT,
    Release,
    UpdateRefused,
    check_address,
    check_downloadable,
    newer_release,
    signed_digest,
)
from gateway import NetworkSettings, Proxy, tls_context

TIMEOUT = httpx.Timeout(30.0)
HEADERS = {"Accept": "application/json, application/octet-stream", "User-Agent": "Switchboard"}
PIECE = 1 << 18  # bytes written (and hashed) per trip to a worker thread


def network_client(
    transport: httpx.AsyncBaseTransport | None = None, network: NetworkSettings | None = None, **options: Any
) -> httpx.AsyncClient:
    """A client that reaches beyond this computer as the gateway's upstreams do. ``transport``:
    tests'. ``network``: the settings' proxy — ``[network] proxy`` when set ("direct": none, not
    even the environment's), else the environment's (httpx reads it) — and the certificates trusted."""
    setting = network.proxy if network is not None else None
    return httpx.AsyncClient(
        transport=transport,
        proxy=_with_credentials(setting) if isinstance(setting, Proxy) else None,
        trust_env=setting is None,
        verify=tls_context(network.ca_file if network is not None else None),  # as the gateway's upstreams trust
        timeout=TIMEOUT,
        headers=HEADERS,
        **options,
    )


def update_client(
    transport: httpx.AsyncBaseTransport | None = None, network: NetworkSettings | None = None
) -> httpx.AsyncClient:
    """A client for one check or one download. Redirects are followed (release files live behind
    one), and every hop of them must be HTTPS, not only the first."""

    async def over_https(request: httpx.Request) -> None:
        check_address(str(request.url))

    return network_client(transport, network, follow_redirects=True, event_hooks={"request": [over_https]})


def _with_credentials(proxy: Proxy) -> httpx.Proxy:
    auth = (proxy.user, proxy.password) if proxy.user else None
    return httpx.Proxy(proxy.url, auth=auth)


def _answered(reply: httpx.Response, url: str) -> None:
    if not reply.is_success:
        raise OSError(f"the update server answered {reply.status_code} {reply.reason_phrase} for {url[:80]}")


async def fetch(client: httpx.AsyncClient, url: str, limit: int) -> bytes:
    """A small file (the feed, the checksums, their signature), at most ``limit`` bytes."""
    body = bytearray()
    async with client.stream("GET", url) as reply:
        _answered(reply, url)
        async for chunk in reply.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise UpdateRefused(f"{url[:80]} is larger than an update could be")
    return bytes(body)


async def check_feed(client: httpx.AsyncClient, feed: str, current: str) -> Release | None:
    """The feed's release when it is newer than ``current``, else None."""
    return newer_release(await fetch(client, feed, FEED_LIMIT), current)


async def download_verified(client: httpx.AsyncClient, release: Release, name: str, folder: Path, key: Any) -> Path:
    """The installer ``name``, in ``folder``, once its checksum and the checksums' signature hold."""
    check_downloadable(release, name, key)
    sums = await fetch(client, release.assets[SUMS], SUMS_LIMIT)
    expected = signed_digest(sums, await fetch(client, release.assets[SIGNATURE], SIGNATURE_LIMIT), key, name)
    # Made here rather than on a thread (a mkdir and an open): from this line on, the file is this
    # coroutine's to delete, however it ends.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, part_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)  # mode 0600
    part = Path(part_name)
    try:
        # Buffered: closing it (also on cancellation) waits for a write still under way on its thread.
        with open(fd, "wb") as out:
            digest = await _save(client, release.assets[name], out)
        if digest != expected:
            raise UpdateRefused(f"{name} is not the file the release signed (its checksum differs)")
        path = folder / name
        os.replace(part, path)
        return path
    finally:
        part.unlink(missing_ok=True)


async def _save(client: httpx.AsyncClient, url: str, out: BinaryIO) -> str:
    """The body into ``out``, piece by piece; its SHA-256 (hex)."""
    digest = hashlib.sha256()
    size = 0
    async with client.stream("GET", url) as reply:
        _answered(reply, url)
        async for piece in reply.aiter_bytes(PIECE):
            size += len(piece)
            if size > INSTALLER_LIMIT:
                raise UpdateRefused(f"{url[:80]} is larger than an update could be")
            await asyncio.to_thread(_write, out, digest, piece)
    return digest.hexdigest()


def _write(out: BinaryIO, digest: hashlib._Hash, piece: bytes) -> None:
    digest.update(piece)
    out.write(piece)
