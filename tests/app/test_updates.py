"""Updates against a local release feed (an aiohttp server on 127.0.0.1 serving a GitHub-style
release, its installer and its signed checksums): a newer release is found and announced once,
nothing is asked when checks are off, an installer is offered only when its checksum and the
checksums' signature hold, and it is installed only once no request is in flight. The check and
the download are coroutines on the Qt thread's own loop, and quitting cancels a download without
leaving a file."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import ssl
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from app_fixtures import KEY, WAIT_MS, LoopThread, MakeApp
from conftest import provider_table
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script
from pytestqt.qtbot import QtBot

from app import updates
from app.tasks import cancel_all
from app.update_http import PIECE, check_feed, download_verified, fetch, update_client
from app.updates import Release, UpdateRefused, installer_name, public_key
from gateway import __version__, resolve_paths

INSTALLER = "switchboard-9.9.9-linux-x86_64.tar.gz"
PAYLOAD = b"the new release's files" * 100


def raw_public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


class Feed:
    """A release feed and its files on 127.0.0.1; ``served`` records every path asked for.
    ``held``: a path whose answer stops after so many bytes until ``gate`` is set;
    ``moved``: a path answered with a redirect to another address."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.served: list[str] = []
        self.held: dict[str, int] = {}
        self.moved: dict[str, str] = {}
        self.url = ""

    async def start(self, tls: ssl.SSLContext | None = None, name: str = "127.0.0.1") -> Feed:
        """Over TLS with ``tls``, its files' addresses then ``https://{name}:port`` (a name a proxy reaches)."""
        self.gate = asyncio.Event()
        app = web.Application()
        app.router.add_get("/{path:.*}", self._get)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        self.url = f"{'https' if tls else 'http'}://{name}:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        self.gate.set()
        await self._runner.cleanup()

    async def _get(self, request: web.Request) -> web.StreamResponse:
        self.served.append(request.path)
        if request.path in self.moved:
            raise web.HTTPFound(self.moved[request.path])
        body = self.files.get(request.path)
        if body is None:
            return web.Response(status=404)
        reply = web.StreamResponse()
        reply.content_length = len(body)
        await reply.prepare(request)
        held = self.held.get(request.path, len(body))
        await reply.write(body[:held])
        if held < len(body):
            await self.gate.wait()
        await reply.write(body[held:])
        await reply.write_eof()
        return reply

    def publish(
        self, version: str, key: Ed25519PrivateKey, payload: bytes = PAYLOAD, *, listed: bytes | None = None
    ) -> None:
        """A release with its installer, SHA256SUMS over ``listed`` (default: the payload) and its signature."""
        sums = f"{hashlib.sha256(listed if listed is not None else payload).hexdigest()}  {INSTALLER}\n".encode()
        self.files.update(
            {
                f"/dl/{INSTALLER}": payload,
                "/dl/SHA256SUMS": sums,
                "/dl/SHA256SUMS.sig": base64.b64encode(key.sign(sums)) + b"\n",
                "/latest": json.dumps(
                    {
                        "tag_name": f"v{version}",
                        "body": "- Faster routing\n- A new provider",
                        "html_url": f"{self.url}/release",
                        "draft": False,
                        "prerelease": False,
                        "assets": [
                            {"name": name, "browser_download_url": f"{self.url}/dl/{name}"}
                            for name in (INSTALLER, "SHA256SUMS", "SHA256SUMS.sig")
                        ],
                    }
                ).encode(),
            }
        )


@pytest.fixture
def feed(fakes: LoopThread) -> Iterator[Feed]:
    served = fakes.run(Feed().start())
    yield served
    fakes.run(served.stop())


@pytest.fixture
def release_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


async def test_a_newer_release_is_found_and_its_installer_proven_before_it_is_kept(
    feed: Feed, release_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    feed.publish("9.9.9", release_key)
    async with update_client() as client:
        release = await check_feed(client, f"{feed.url}/latest", __version__)
        assert release is not None and release.version == "9.9.9" and "Faster routing" in release.notes
        assert await check_feed(client, f"{feed.url}/latest", "9.9.9") is None  # the same version: nothing new
        assert await check_feed(client, f"{feed.url}/latest", "10.0") is None
        assert installer_name(release, "linux", from_deb=False) == INSTALLER
        path = await download_verified(
            client, release, INSTALLER, tmp_path / "updates", public_key(raw_public(release_key))
        )
    assert path.read_bytes() == PAYLOAD and path.stat().st_mode & 0o777 == 0o600
    assert list((tmp_path / "updates").iterdir()) == [path]  # the file it was written to became it


@pytest.mark.parametrize("tamper", ["installer", "signer", "no-key", "unlisted"])
async def test_an_installer_that_is_not_the_signed_one_is_refused_and_not_kept(
    feed: Feed, release_key: Ed25519PrivateKey, tmp_path: Path, tamper: str
) -> None:
    if tamper == "installer":  # the file was swapped after the release was signed
        feed.publish("9.9.9", release_key, payload=b"something else", listed=PAYLOAD)
    elif tamper == "signer":  # checksums signed by someone else's key
        feed.publish("9.9.9", Ed25519PrivateKey.generate())
    else:
        feed.publish("9.9.9", release_key)
    if tamper == "unlisted":
        feed.files["/dl/SHA256SUMS"] = b"0" * 64 + b"  other-file.deb\n"
        feed.files["/dl/SHA256SUMS.sig"] = base64.b64encode(release_key.sign(feed.files["/dl/SHA256SUMS"]))
    key = None if tamper == "no-key" else public_key(raw_public(release_key))
    message = {
        "installer": "checksum differs",
        "signer": "not signed with the release key",
        "no-key": "carries no release key",
        "unlisted": "not in the signed checksums",
    }[tamper]
    async with update_client() as client:
        release = await check_feed(client, f"{feed.url}/latest", __version__)
        assert release is not None
        with pytest.raises(UpdateRefused, match=message):
            await download_verified(client, release, INSTALLER, tmp_path / "updates", key)
    assert not (tmp_path / "updates").exists() or list((tmp_path / "updates").iterdir()) == []


async def test_feeds_and_downloads_come_over_https_only_except_from_this_computer(
    feed: Feed, release_key: Ed25519PrivateKey
) -> None:
    feed.publish("9.9.9", release_key)
    feed.moved["/elsewhere"] = "http://example.com/latest"  # every hop of a redirect is held to it
    feed.moved["/moved"] = "/latest"
    async with update_client() as client:
        with pytest.raises(UpdateRefused, match="HTTPS"):
            await fetch(client, "http://example.com/latest", 100)
        with pytest.raises(UpdateRefused, match="HTTPS"):
            await fetch(client, f"{feed.url}/elsewhere", 100)
        assert await fetch(client, f"{feed.url}/moved", 1 << 20) == feed.files["/latest"]
        with pytest.raises(UpdateRefused, match="larger than an update could be"):
            await fetch(client, f"{feed.url}/latest", 100)
        with pytest.raises(OSError, match="answered 404"):
            await fetch(client, f"{feed.url}/nothing-here", 100)
    assert feed.served == ["/elsewhere", "/moved", "/latest", "/latest", "/nothing-here"]
    with pytest.raises(UpdateRefused, match="names no published release"):
        updates.parse_feed(json.dumps({"tag_name": "v9.9.9", "prerelease": True}).encode())
    with pytest.raises(UpdateRefused, match="not a release version"):
        updates.parse_feed(json.dumps({"tag_name": "v9.9.9-rc1"}).encode())
    release = Release(
        "9.9.9",
        "",
        "",
        {"Switchboard-9.9.9-setup.exe": "u", "Switchboard-9.9.9.dmg": "u", "switchboard_9.9.9_amd64.deb": "u"},
    )
    assert installer_name(release, "win32") == "Switchboard-9.9.9-setup.exe"
    assert installer_name(release, "darwin") == "Switchboard-9.9.9.dmg"
    assert installer_name(release, "linux", from_deb=True) == "switchboard_9.9.9_amd64.deb"


def _app_with_feed(
    make_app: MakeApp, feed: Feed, release_key: Ed25519PrivateKey, extra: str = "", **kwargs: Any
) -> Any:
    config = f'[app]\nupdate_feed = "{feed.url}/latest"\nupdate_key = "{raw_public(release_key)}"\n{extra}\n'
    return make_app(config=config, **kwargs)


def test_checks_off_ask_nothing_until_asked(
    make_app: MakeApp, qtbot: QtBot, feed: Feed, release_key: Ed25519PrivateKey
) -> None:
    feed.publish("9.9.9", release_key)
    app = _app_with_feed(make_app, feed, release_key, "check_updates = false")
    app.updater.check()
    qtbot.waitUntil(lambda: not app.updater.busy, timeout=WAIT_MS)
    assert feed.served == [] and app.updater.available is None and "Checking for updates is off" in app.updater.said
    app.updater.check(asked=True)  # "Check now" asks even so
    qtbot.waitUntil(lambda: app.updater.available is not None, timeout=WAIT_MS)
    assert feed.served == ["/latest"]


def test_an_update_is_announced_once_and_installed_only_when_no_request_is_in_flight(
    make_app: MakeApp,
    qtbot: QtBot,
    feed: Feed,
    release_key: Ed25519PrivateKey,
    fakes: LoopThread,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.updater.installer_name", lambda release, *a, **k: INSTALLER)  # the tarball, on any OS here
    upstream = fakes.run(FakeOpenAI(key=KEY).start())
    feed.publish("9.9.9", release_key)
    app = _app_with_feed(
        make_app, feed, release_key, provider_table("fake", upstream), env={"FAKE_KEY": KEY}, tray=True
    )
    quits: list[bool] = []
    app.quit_requested.connect(lambda: quits.append(True))
    for _ in range(2):
        app.updater.check()
        qtbot.waitUntil(lambda: not app.updater.busy and app.updater.available is not None, timeout=WAIT_MS)
    assert [n.title for n in app.notified].count("Switchboard 9.9.9 is available") == 1
    app.tray.menu.aboutToShow.emit()
    app.tray.action("Update to Switchboard 9.9.9…").trigger()
    page = app.window.current
    assert page.title == "Settings" and "Faster routing" in page.updates.notes.toPlainText()

    # A stream held open by the upstream: one request in flight.
    upstream.then(Script("held", after_events=2))
    body = json.dumps(
        {"model": "fake/gpt-test", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    ).encode()
    held = urllib.request.urlopen(
        urllib.request.Request(f"{app.host.url}/v1/chat/completions", body, {"Content-Type": "application/json"}),
        timeout=30,
    )
    held.read(10)
    page.updates.install_button.click()
    qtbot.waitUntil(lambda: "request(s) in flight" in app.updater.said, timeout=WAIT_MS)
    assert app.opened == [] and quits == []  # not while a request is being answered
    fakes.loop.call_soon_threadsafe(upstream.gate.set)  # the upstream finishes the stream
    held.read()
    held.close()
    qtbot.waitUntil(lambda: quits == [True], timeout=WAIT_MS)
    (opened,) = app.opened
    assert opened.startswith("file://") and opened.endswith(INSTALLER)
    assert Path(opened.removeprefix("file://")).read_bytes() == PAYLOAD


class Watched(httpx.AsyncBaseTransport):
    """The real transport, noting the thread and the loop each request is sent from."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent_from: list[tuple[threading.Thread, asyncio.AbstractEventLoop, bool]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent_from.append(
            (threading.current_thread(), asyncio.get_running_loop(), asyncio.current_task() is not None)
        )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_the_check_is_a_coroutine_on_the_qt_threads_own_loop(
    make_app: MakeApp,
    qtbot: QtBot,
    qt_loop: Any,
    feed: Feed,
    release_key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed.publish("9.9.9", release_key)
    app = _app_with_feed(make_app, feed, release_key)
    watched = Watched()
    monkeypatch.setattr("app.updater.update_client", lambda transport=None, network=None: update_client(watched))
    app.updater.check()
    qtbot.waitUntil(lambda: not app.updater.busy, timeout=WAIT_MS)
    assert app.updater.available is not None and "9.9.9 is available" in app.updater.said
    assert watched.sent_from == [(threading.main_thread(), qt_loop, True)]  # in a task of qasync's loop


def test_quitting_cancels_a_download_in_progress_and_leaves_no_file(
    make_app: MakeApp,
    qtbot: QtBot,
    qt_loop: Any,
    feed: Feed,
    release_key: Ed25519PrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setattr("app.updater.installer_name", lambda release, *a, **k: INSTALLER)
    feed.publish("9.9.9", release_key, payload=os.urandom(4 * PIECE))
    feed.held[f"/dl/{INSTALLER}"] = 2 * PIECE + 100  # two pieces written, then the server goes quiet
    app = _app_with_feed(make_app, feed, release_key)  # no tray: closing the window quits
    quits: list[bool] = []
    app.quit_requested.connect(lambda: quits.append(True))
    app.updater.check()
    qtbot.waitUntil(lambda: app.updater.available is not None, timeout=WAIT_MS)
    app.updater.download_and_install()
    folder = resolve_paths(tmp_path / "home", {}).data_dir / "updates"
    qtbot.waitUntil(lambda: sum(p.stat().st_size for p in folder.glob("*.part")) == 2 * PIECE, timeout=WAIT_MS)
    assert app.updater.busy and "Downloading" in app.updater.said
    app.window.show()
    app.window.close()
    assert quits == [True]
    quitting = qt_loop.create_task(cancel_all())  # what app/__main__ does when asked to quit
    qtbot.waitUntil(quitting.done, timeout=WAIT_MS)
    assert list(folder.iterdir()) == [] and not app.updater.busy and app.opened == []


def test_an_async_generator_left_unfinished_on_the_qt_loop_is_closed_in_a_task(qtbot: QtBot, qt_loop: Any) -> None:
    """How a cancelled download's httpx body ends: its generator's clean-up awaits, which the garbage
    collector cannot do on the spot ("async generator ignored GeneratorExit") — so it runs on the loop."""
    closed: list[bool] = []

    async def body() -> Any:
        try:
            yield b"one piece"
            yield b"another"
        finally:
            await asyncio.sleep(0)  # what httpcore does: closing the connection is awaited
            closed.append(True)

    async def read_one() -> None:
        async for _ in body():
            break

    qt_loop.create_task(read_one())
    qtbot.waitUntil(lambda: closed == [True], timeout=WAIT_MS)
