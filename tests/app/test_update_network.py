"""The app's update check goes the way the settings say upstreams go (app/updater.py hands
``[network]`` to the update client): through ``[network] proxy`` in a CONNECT tunnel, its
credentials to the proxy alone, the feed's certificate trusted through ``ca_file`` and refused
without it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_fixtures import WAIT_MS, LoopThread, MakeApp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fakes.forward_proxy import UPSTREAM_NAME, ForwardProxy
from fakes.tls import TestCA
from pytestqt.qtbot import QtBot
from test_updates import Feed, raw_public

PASSWORD = "hunter2-update-proxy"


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca", (UPSTREAM_NAME,))


@pytest.fixture
def tls_feed(fakes: LoopThread, ca: TestCA) -> Iterator[Feed]:
    served = fakes.run(Feed().start(ca.server_context(), UPSTREAM_NAME))  # reached only through the proxy
    yield served
    fakes.run(served.stop())


@pytest.fixture
def proxy(fakes: LoopThread) -> Iterator[ForwardProxy]:
    started = fakes.run(ForwardProxy(("ann", PASSWORD)).start())
    yield started
    fakes.run(started.stop())


@pytest.mark.parametrize("trusted", [True, False], ids=["ca_file", "no-ca_file"])
def test_an_update_check_goes_through_the_settings_proxy_trusting_ca_file(
    make_app: MakeApp, qtbot: QtBot, tls_feed: Feed, proxy: ForwardProxy, ca: TestCA, trusted: bool
) -> None:
    key = Ed25519PrivateKey.generate()
    tls_feed.publish("9.9.9", key)
    config = (
        f'[app]\ncheck_updates = false\nupdate_feed = "{tls_feed.url}/latest"\nupdate_key = "{raw_public(key)}"\n'
        f'[network]\nproxy = "http://ann:{PASSWORD}@{proxy.where}"\n'
        + (f'ca_file = "{ca.ca_file}"\n' if trusted else "")
    )
    app = make_app(config=config)
    app.updater.check(asked=True)
    qtbot.waitUntil(lambda: not app.updater.busy, timeout=WAIT_MS)
    assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", tls_feed.url.removeprefix("https://"))]
    assert proxy.seen[0].headers["Proxy-Authorization"].startswith("Basic ")
    assert PASSWORD not in app.updater.said
    if trusted:
        assert app.updater.available is not None and app.updater.available.version == "9.9.9"
        assert tls_feed.served == ["/latest"]
    else:
        assert app.updater.available is None and tls_feed.served == []
        assert (
            f"Could not check for updates: {UPSTREAM_NAME}'s certificate is not one this computer trusts"
            in app.updater.said
        )
