"""No key only for a loopback peer that names the gateway by a loopback name (issue 20 item 12;
SECURITY.md S2, S10).

In LAN mode the allowed Host names include this machine's own name and ``<name>.local`` (and any
``allowed_hosts``); a request naming one is meant for the network and needs a client key even when
it arrives over loopback. ``allowed_hosts`` on a loopback gateway puts such names on the same
allow-list here, without listening beyond loopback.
"""

from __future__ import annotations

import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI
from test_guard import CHAT, post, raw

from gateway import GatewayServer
from gateway.transport.addresses import names_loopback

NAMES = ("workstation", "workstation.local")


async def start(start_gateway: StartGateway, upstream: FakeOpenAI) -> GatewayServer:
    config = f"[server]\nallowed_hosts = {list(NAMES)!r}\n".replace("'", '"') + provider_table("fake", upstream)
    gateway: GatewayServer = await start_gateway(config, {"FAKE_KEY": FAKE_KEY})
    assert gateway.port is not None
    return gateway


@pytest.mark.parametrize("name", [*NAMES, "WORKSTATION.local"])
async def test_a_loopback_caller_naming_the_machine_needs_a_key(
    start_gateway: StartGateway, upstream: FakeOpenAI, name: str
) -> None:
    gw = await start(start_gateway, upstream)
    port = gw.port
    assert port is not None
    host = f"{name}:{port}"
    status, _, body = await raw(port, post(port, host=host))
    assert status == 401 and b"invalid_api_key" in body and b"localhost" in body
    assert gw.state is not None
    key, _ = await gw.state.keys.create("team", "standard", {}, "test")
    status, _, _ = await raw(port, post(port, host=host, headers=f"Authorization: Bearer {key}\r\n"))
    assert status == 200


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LocalHost"])
async def test_a_loopback_caller_naming_a_loopback_name_needs_none(
    start_gateway: StartGateway, upstream: FakeOpenAI, name: str
) -> None:
    port = (await start(start_gateway, upstream)).port
    assert port is not None
    status, _, body = await raw(port, post(port, CHAT, host=f"{name}:{port}"))
    assert status == 200, body


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost:8080", True),
        ("127.0.0.1", True),
        ("[::1]:11488", True),
        ("[::1]", True),
        ("LOCALHOST:1", True),
        ("localhost.:80", False),
        ("127.0.0.2:80", False),
        ("[::1:80", False),
        ("workstation.local:80", False),
        ("", False),
    ],
)
def test_names_loopback(host: str, expected: bool) -> None:
    assert names_loopback(host) is expected
