"""What goes wrong with a proxy, said in plain words naming the proxy and never its password: a
CONNECT answered 407 or 502 with a body, a proxy that closes, cuts the tunnel it granted or is no
HTTP proxy at all, a dead or hanging-up SOCKS5 proxy, an address the parser cannot read. IPv6
literal upstreams through a tunnel (TLS verified for the address) and forwarded; the environment's
proxy with credentials. The system's trust is made before the event loop needs it, and a
connection in flight when the way out changes is not kept for the next request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.forward_proxy import UPSTREAM_NAME, CannedProxy, ForwardProxy
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA

from gateway.config.loading import load_settings
from gateway.errors import UpstreamError, UpstreamUnreachable
from gateway.runtime.upstream import prepare_network, upstream_transport
from gateway.transport import Timeouts, UpstreamRequest
from gateway.transport import trust as trust_module
from gateway.transport.http1 import Http1Transport
from gateway.transport.proxies import ProxyPlan, environment_proxies, parse_proxy

PASSWORD = "hunter2-proxy-pass"
KEY = "sk-fake-upstream-key-0001"
QUICK = Timeouts(connect=5.0, read=5.0, total=10.0)


def _never_said(text: str) -> None:
    assert PASSWORD not in text
    assert "ann:" not in text


async def _models(transport: Http1Transport, url: str) -> int:
    reply = await transport.send(
        UpstreamRequest("acme", "GET", url, (("Authorization", f"Bearer {KEY}"),), None, QUICK)
    )
    await reply.read(1 << 16)
    reply.release()
    return reply.status


REFUSED_407 = b'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\n'
REFUSED_407 += b"Content-Length: 19\r\n\r\n<h1>log in now</h1>"


@pytest.mark.parametrize(
    ("answer", "hold", "said"),
    [
        (REFUSED_407, True, "would not connect to upstream.test:443: it needs a user name and password"),
        (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 11\r\n\r\nbad gateway", False, "it answered 502 Bad Gateway"),
        (b"HTTP/1.1 502 Bad\x1b[31m Gateway\x07\r\n\r\n", False, "it answered 502 Bad[31m Gateway ("),
        (b"", False, "closed the connection instead of opening a tunnel"),
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", False, "did not answer as an HTTP proxy"),
        (b"HTTP/1.1 200 Connection established\r\n\r\n", False, "the connection was cut"),  # the tunnel, cut
    ],
    ids=["407-with-body", "502-with-body", "control-bytes", "closes", "not-http", "half-open-tunnel"],
)
async def test_what_the_proxy_did_is_said_naming_it_never_its_password(
    answer: bytes, hold: bool, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = await CannedProxy(answer, hold=hold).start()
    transport = Http1Transport(proxies=ProxyPlan(parse_proxy(f"http://ann:{PASSWORD}@{proxy.where}")))
    try:
        with pytest.raises(UpstreamUnreachable) as failed:
            await _models(transport, f"https://{UPSTREAM_NAME}/v1/models")
    finally:
        await transport.aclose()
        await proxy.stop()
    error = failed.value
    assert said in error.message
    assert f"the proxy at {proxy.where}" in error.message and "provider acme" in error.message
    assert error.message.isprintable()
    _never_said(f"{error.message} {error.detail} {error!r} {error.__dict__!r}")
    _never_said(caplog.text)
    assert proxy.seen[0].headers["Proxy-Authorization"].startswith("Basic ")  # the proxy alone is told


async def test_a_forwarding_proxys_407_is_said_as_the_proxys_not_the_providers() -> None:
    proxy = await CannedProxy(REFUSED_407, hold=True).start()
    transport = Http1Transport(proxies=ProxyPlan(parse_proxy(f"http://ann:{PASSWORD}@{proxy.where}")))
    try:
        with pytest.raises(UpstreamUnreachable) as failed:
            await _models(transport, f"http://{UPSTREAM_NAME}/v1/models")  # plain http: forwarded, no tunnel
    finally:
        await transport.aclose()
        await proxy.stop()
    error = failed.value
    assert error.message.startswith(f"the proxy at {proxy.where} would not forward the request: it needs a user")
    _never_said(f"{error.message} {error.detail} {error!r}")


async def test_a_dead_socks_proxy_is_said_to_refuse_and_one_hanging_up_is_said_too() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(3)
        writer.close()

    dead = await ForwardProxy().start()
    await dead.stop()
    rude = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    rude_where = f"127.0.0.1:{rude.sockets[0].getsockname()[1]}"
    failures: list[UpstreamError] = []
    async with rude:
        for where in (dead.where, rude_where):
            transport = Http1Transport(proxies=ProxyPlan(parse_proxy(f"socks5://ann:{PASSWORD}@{where}")))
            try:
                with pytest.raises(UpstreamUnreachable) as failed:
                    await _models(transport, f"https://{UPSTREAM_NAME}/v1/models")
            finally:
                await transport.aclose()
            failures.append(failed.value)
    assert failures[0].message.startswith(f"cannot reach the proxy at {dead.where}: nothing is listening there")
    assert failures[1].message.startswith(f"the proxy at {rude_where} would not connect to {UPSTREAM_NAME}:443: ")
    assert not failures[1].message.split(": ", 1)[1].startswith(" (")  # words, not nothing
    for error in failures:
        _never_said(f"{error.message} {error.detail} {error!r}")


def test_a_password_the_address_parser_chokes_on_is_not_repeated() -> None:
    # urllib refuses a non-ASCII address that NFKC folds to a separator, quoting the whole address.
    with pytest.raises(ValueError, match="not a proxy address") as refused:
        parse_proxy(f"http://ann:{PASSWORD}\uff20x@proxy.corp.example:3128")
    _never_said(str(refused.value))
    assert "proxy.corp.example:3128" in str(refused.value)


@pytest.fixture
def v6_ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca", ("2001:db8::1",))


@pytest.fixture
async def v6_fake(v6_ca: TestCA) -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=KEY).start(v6_ca.server_context())
    yield fake
    await fake.stop()


async def test_ipv6_literal_upstreams_through_a_tunnel_and_forwarded(v6_ca: TestCA, v6_fake: FakeOpenAI) -> None:
    proxy = await ForwardProxy().start()
    plain = await FakeOpenAI(key=KEY).start()
    transport = Http1Transport(tls=v6_ca.client_context(), proxies=ProxyPlan(parse_proxy(f"http://{proxy.where}")))
    try:
        assert await _models(transport, f"https://[2001:db8::1]:{v6_fake.port}/v1/models") == 200  # TLS for the IP
        assert await _models(transport, f"http://[2001:db8::1]:{plain.port}/v1/models") == 200
    finally:
        await transport.aclose()
        await proxy.stop()
        await plain.stop()
    assert [(s.method, s.target) for s in proxy.seen] == [
        ("CONNECT", f"[2001:db8::1]:{v6_fake.port}"),
        ("GET", f"http://[2001:db8::1]:{plain.port}/v1/models"),
    ]
    assert proxy.seen[0].headers["Host"] == f"[2001:db8::1]:{v6_fake.port}"


async def test_the_environments_proxy_with_credentials(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    proxy = await ForwardProxy(("ann", PASSWORD)).start()
    plain = await FakeOpenAI(key=KEY).start()
    plan = ProxyPlan(environment=environment_proxies({"HTTP_PROXY": f"ann:{PASSWORD}@{proxy.where}"}))
    transport = Http1Transport(proxies=plan)
    try:
        assert await _models(transport, f"http://{UPSTREAM_NAME}:{plain.port}/v1/models") == 200
        assert transport.proxy_in_use().proxy is None  # https_proxy unset: https providers go directly
    finally:
        await transport.aclose()
        await proxy.stop()
        await plain.stop()
    assert proxy.seen[0].target == f"http://{UPSTREAM_NAME}:{plain.port}/v1/models"
    _never_said(f"{plan.choose('http', UPSTREAM_NAME, plain.port)!r} {caplog.text}")


@pytest.fixture
def made_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> list[Path | None]:
    """Every trust context made while an event loop runs in this thread (none should be)."""
    monkeypatch.setattr(trust_module, "_MADE", {})
    make = trust_module._make
    seen: list[Path | None] = []

    def watched(ca_file: Path | None) -> object:
        try:
            asyncio.get_running_loop()
            seen.append(ca_file)
        except RuntimeError:
            pass
        return make(ca_file)

    monkeypatch.setattr(trust_module, "_make", watched)
    return seen


def test_trust_is_made_at_start_and_a_new_ca_file_off_the_loop(
    made_on_the_loop: list[Path | None], tmp_path: Path
) -> None:
    ca = TestCA(tmp_path / "ca")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    transport = upstream_transport(load_settings(config, {}))  # at start: before the loop serves

    async def first_call_then_reconfigure() -> None:
        with pytest.raises(UpstreamError):  # nothing speaks TLS there; the context was needed all the same
            await _models(transport, "https://127.0.0.1:9/v1/models")
        await transport.aclose()
        config.write_text(f'[network]\nca_file = "{ca.ca_file}"\n', encoding="utf-8")
        await prepare_network(load_settings(config, {}))

    asyncio.run(first_call_then_reconfigure())
    assert made_on_the_loop == []
    assert trust_module.tls_context(ca.ca_file) is trust_module.tls_context(ca.ca_file)  # made, and kept


async def test_a_connection_in_flight_when_trust_changes_is_not_kept(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    fake = await FakeOpenAI(key=KEY).start(ca.server_context())
    transport = Http1Transport(tls=ca.client_context())
    url = f"https://localhost:{fake.port}/v1/models"
    accepted: list[int] = []
    try:
        reply = await transport.send(UpstreamRequest("acme", "GET", url, (("Authorization", f"Bearer {KEY}"),)))
        accepted.append(transport.connections_in_use)
        transport.follow(TestCA(tmp_path / "other").client_context(), None)  # a ca_file no longer trusting it
        await reply.read(1 << 16)
        reply.release()  # made the old way: closed, not kept
        with pytest.raises(UpstreamUnreachable, match="certificate is not one this computer trusts"):
            await _models(transport, url)
    finally:
        await transport.aclose()
        await fake.stop()
    assert accepted == [1]


def test_a_ca_file_given_new_roots_is_read_again(tmp_path: Path) -> None:
    first, second = TestCA(tmp_path / "first"), TestCA(tmp_path / "second")
    ca_file = tmp_path / "corp.pem"
    ca_file.write_bytes(first.ca_file.read_bytes())
    before = trust_module.tls_context(ca_file)
    assert trust_module.tls_context(ca_file) is before  # made once while it stays as it is
    ca_file.write_bytes(first.ca_file.read_bytes() + second.ca_file.read_bytes())  # the company's new root added
    after = trust_module.tls_context(ca_file)
    assert after is not before and len(after.get_ca_certs()) == len(before.get_ca_certs()) + 1


async def test_an_apply_that_leaves_the_network_as_it_was_keeps_the_connections(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca", (UPSTREAM_NAME,))
    fake = await FakeOpenAI(key=KEY).start(ca.server_context())
    proxy = await ForwardProxy().start()
    trust = ca.client_context()
    transport = Http1Transport(tls=trust, proxies=ProxyPlan(parse_proxy(f"http://{proxy.where}")))
    url = f"https://{UPSTREAM_NAME}:{fake.port}/v1/models"
    try:
        assert await _models(transport, url) == 200
        transport.follow(trust, ProxyPlan(parse_proxy(f"http://{proxy.where}")))  # settings applied, [network] same
        assert await _models(transport, url) == 200
        assert len(proxy.seen) == 1  # the tunnel kept
        transport.follow(trust, ProxyPlan(parse_proxy(f"http://ann:{PASSWORD}@{proxy.where}")))  # a new one
        assert await _models(transport, url) == 200
    finally:
        await transport.aclose()
        await proxy.stop()
        await fake.stop()
    assert len(proxy.seen) == 2
