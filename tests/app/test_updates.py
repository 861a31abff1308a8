"""Updates against a local release feed (a real HTTP server on 127.0.0.1 serving a GitHub-style
release, its installer and its signed checksums): a newer release is found and announced once,
nothing is asked when checks are off, an installer is offered only when its checksum and the
checksums' signature hold, and it is installed only once no request is in flight."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from app_fixtures import KEY, WAIT_MS, LoopThread, MakeApp
from conftest import provider_table
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fakes.openai_upstream import FakeOpenAI
from fakes.upstream import Script
from pytestqt.qtbot import QtBot

from app import updates
from app.updates import (
    Release,
    UpdateRefused,
    download_verified,
    installer_name,
    newer_release,
    public_key,
    urllib_fetch,
)
from gateway import __version__

INSTALLER = "switchboard-9.9.9-linux-x86_64.tar.gz"
PAYLOAD = b"the new release's files" * 100


def raw_public(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(
        key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


class Feed:
    """A release feed and its files on 127.0.0.1; ``served`` records every path asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.served: list[str] = []
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                feed.served.append(self.path)
                body = feed.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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
def feed() -> Iterator[Feed]:
    served = Feed()
    yield served
    served.server.shutdown()


@pytest.fixture
def release_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_a_newer_release_is_found_and_its_installer_proven_before_it_is_kept(
    feed: Feed, release_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    feed.publish("9.9.9", release_key)
    release = newer_release(f"{feed.url}/latest", __version__, urllib_fetch)
    assert release is not None and release.version == "9.9.9" and "Faster routing" in release.notes
    assert newer_release(f"{feed.url}/latest", "9.9.9", urllib_fetch) is None  # the same version: nothing new
    assert newer_release(f"{feed.url}/latest", "10.0", urllib_fetch) is None
    assert installer_name(release, "linux", from_deb=False) == INSTALLER
    path = download_verified(
        release, INSTALLER, tmp_path / "updates", public_key(raw_public(release_key)), urllib_fetch
    )
    assert path.read_bytes() == PAYLOAD and path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("tamper", ["installer", "signer", "no-key", "unlisted"])
def test_an_installer_that_is_not_the_signed_one_is_refused_and_not_kept(
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
    release = newer_release(f"{feed.url}/latest", __version__, urllib_fetch)
    assert release is not None
    key = None if tamper == "no-key" else public_key(raw_public(release_key))
    message = {
        "installer": "checksum differs",
        "signer": "not signed with the release key",
        "no-key": "carries no release key",
        "unlisted": "not in the signed checksums",
    }[tamper]
    with pytest.raises(UpdateRefused, match=message):
        download_verified(release, INSTALLER, tmp_path / "updates", key, urllib_fetch)
    assert not (tmp_path / "updates" / INSTALLER).exists()


def test_feeds_and_downloads_come_over_https_only_except_from_this_computer() -> None:
    with pytest.raises(UpdateRefused, match="HTTPS"):
        urllib_fetch("http://example.com/latest", 100)
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
