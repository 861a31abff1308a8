"""The transport through a real proxy on loopback: a provider over TLS through a CONNECT tunnel
(verified against a test CA, for its own name), plain http forwarded, SOCKS5 with the name left to
the proxy, the proxy's credentials sent to it alone and said nowhere, a dead or refusing proxy
named as what failed, and connections pooled per origin and proxy."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.forward_proxy import UPSTREAM_NAME, FakeSocks5, ForwardProxy
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA

from gateway.auth.oauth.http import exchange
from gateway.config.network import network_settings, proxy_plan
from gateway.errors import UpstreamError, UpstreamUnreachable
from gateway.transport import UpstreamRequest
from gateway.transport.http1 import Http1Transport
from gateway.transport.proxies import ProxyPlan, environment_proxies, parse_proxy

PASSWORD = "hunter2-proxy-pass"
KEY = "sk-fake-upstream-key-0001"


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path, (UPSTREAM_NAME,))


@pytest.fixture
async def tls_fake(ca: TestCA) -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=KEY).start(ca.server_context())
    yield fake
    await fake.stop()


@pytest.fixture
async def plain_fake() -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=KEY).start()
    yield fake
    await fake.stop()


async def _models(transport: Http1Transport, url: str) -> int:
    reply = await transport.send(UpstreamRequest("acme", "GET", url, (("Authorization", f"Bearer {KEY}"),)))
    await reply.read(1 << 16)
    reply.release()
    return reply.status


def _plan(proxy_url: str) -> ProxyPlan:
    return ProxyPlan(parse_proxy(proxy_url))


async def test_https_through_a_connect_tunnel_with_basic_auth(ca: TestCA, tls_fake: FakeOpenAI) -> None:
    proxy = await ForwardProxy(("ann", PASSWORD)).start()
    transport = Http1Transport(tls=ca.client_context(), proxies=_plan(f"http://ann:{PASSWORD}@{proxy.where}"))
    url = f"https://{UPSTREAM_NAME}:{tls_fake.port}/v1/models"
    try:
        assert await _models(transport, url) == 200
        assert await _models(transport, url) == 200  # the tunnel is kept and reused
    finally:
        await transport.aclose()
        await proxy.stop()
    assert [(s.method, s.target) for s in proxy.seen] == [("CONNECT", f"{UPSTREAM_NAME}:{tls_fake.port}")]
    assert proxy.seen[0].headers["Proxy-Authorization"].startswith("Basic ")
    assert len(tls_fake.requests) == 2
    assert all("Proxy-Authorization" not in r.headers for r in tls_fake.requests)  # inside the tunnel: never


async def test_tls_through_the_tunnel_is_verified_for_the_upstreams_name(tls_fake: FakeOpenAI, tmp_path: Path) -> None:
    stranger = TestCA(tmp_path / "other", (UPSTREAM_NAME,))  # a root the upstream's certificate is not from
    proxy = await ForwardProxy().start()
    transport = Http1Transport(tls=stranger.client_context(), proxies=_plan(f"http://{proxy.where}"))
    try:
        with pytest.raises(UpstreamUnreachable, match="certificate") as refused:
            await _models(transport, f"https://{UPSTREAM_NAME}:{tls_fake.port}/v1/models")
    finally:
        await transport.aclose()
        await proxy.stop()
    assert refused.value.fix is not None and refused.value.fix.id == "trust_certificate"
    assert not tls_fake.requests


async def test_plain_http_is_forwarded_in_absolute_form(plain_fake: FakeOpenAI) -> None:
    proxy = await ForwardProxy(("ann", PASSWORD)).start()
    transport = Http1Transport(proxies=_plan(f"http://ann:{PASSWORD}@{proxy.where}"))
    url = f"http://{UPSTREAM_NAME}:{plain_fake.port}/v1/models"
    try:
        assert await _models(transport, url) == 200
    finally:
        await transport.aclose()
        await proxy.stop()
    (seen,) = proxy.seen
    assert (seen.method, seen.target) == ("GET", url)
    assert seen.headers["Host"] == f"{UPSTREAM_NAME}:{plain_fake.port}"
    assert "Proxy-Authorization" in seen.headers
    assert [r.path for r in plain_fake.requests] == ["/v1/models"]


@pytest.mark.parametrize("credentials", [None, ("sam", PASSWORD)])
async def test_socks5_leaves_the_name_to_the_proxy(
    ca: TestCA, tls_fake: FakeOpenAI, credentials: tuple[str, str] | None
) -> None:
    socks = await FakeSocks5(credentials).start()
    auth = f"sam:{PASSWORD}@" if credentials else ""
    transport = Http1Transport(tls=ca.client_context(), proxies=_plan(f"socks5://{auth}{socks.where}"))
    try:
        assert await _models(transport, f"https://{UPSTREAM_NAME}:{tls_fake.port}/v1/models") == 200
    finally:
        await transport.aclose()
        await socks.stop()
    assert [s.target for s in socks.seen] == [f"{UPSTREAM_NAME}:{tls_fake.port}"]  # the name, not an address


async def test_no_proxy_and_loopback_go_directly(plain_fake: FakeOpenAI) -> None:
    proxy = await ForwardProxy().start()
    env = {"HTTP_PROXY": f"http://{proxy.where}", "NO_PROXY": f".test:{plain_fake.port}"}
    transport = Http1Transport(proxies=ProxyPlan(environment=environment_proxies(env)), resolve=_to_loopback)
    try:
        assert await _models(transport, f"http://{UPSTREAM_NAME}:{plain_fake.port}/v1/models") == 200
        assert await _models(transport, f"{plain_fake.url}/models") == 200  # 127.0.0.1: never proxied
    finally:
        await transport.aclose()
        await proxy.stop()
    assert proxy.seen == []
    assert len(plain_fake.requests) == 2


async def test_an_unusable_environment_proxy_refuses_the_calls_it_was_named_for(
    ca: TestCA, tls_fake: FakeOpenAI
) -> None:
    env = {"HTTPS_PROXY": f"https://ann:{PASSWORD}@proxy.corp:3128", "NO_PROXY": UPSTREAM_NAME}
    plan = ProxyPlan(environment=environment_proxies(env))
    transport = Http1Transport(tls=ca.client_context(), proxies=plan, resolve=_to_loopback)
    try:
        with pytest.raises(UpstreamUnreachable) as refused:  # not gone around directly: it names a proxy
            await _models(transport, f"https://api.elsewhere.test:{tls_fake.port}/v1/models")
        assert await _models(transport, f"https://{UPSTREAM_NAME}:{tls_fake.port}/v1/models") == 200  # NO_PROXY'd
    finally:
        await transport.aclose()
    assert refused.value.message == (
        "the proxy this computer names for https (https://proxy.corp:3128) cannot be used: only http:// and socks5://"
        ' proxies are supported; set a proxy in Settings → Network, or "direct" (for provider acme)'
    )
    assert refused.value.provider == "acme" and PASSWORD not in repr(refused.value)
    assert len(tls_fake.requests) == 1


async def _to_loopback(host: str, port: int) -> list[tuple[object, ...]]:
    return [(2, 1, 6, "", ("127.0.0.1", port))]


async def test_a_dead_proxy_is_named_not_the_provider(caplog: pytest.LogCaptureFixture) -> None:
    dead = await ForwardProxy().start()
    await dead.stop()  # its port now refuses
    transport = Http1Transport(proxies=_plan(f"http://ann:{PASSWORD}@{dead.where}"))
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(UpstreamUnreachable) as refused:
            await _models(transport, f"https://{UPSTREAM_NAME}/v1/models")
        error = refused.value
        assert error.message.startswith(f"cannot reach the proxy at {dead.where}: nothing is listening there")
        assert error.fix is not None and error.fix.subject == dead.where
        socks = _plan(f"socks5://ann:{PASSWORD}@{dead.where}")
        with pytest.raises(UpstreamUnreachable, match=f"cannot reach the proxy at {dead.where}") as refused_socks:
            await _models(through_socks := Http1Transport(proxies=socks), f"https://{UPSTREAM_NAME}/v1/models")
        await through_socks.aclose()
    finally:
        await transport.aclose()
    for failure in (error, refused_socks.value):
        _never_said(f"{failure.message} {failure.detail} {failure!r}")
    _never_said(caplog.text)


async def test_a_refusing_proxy_says_it_wants_credentials_and_never_repeats_them(tls_fake: FakeOpenAI) -> None:
    proxy = await ForwardProxy(("ann", "the-right-one")).start()
    transport = Http1Transport(proxies=_plan(f"http://ann:{PASSWORD}@{proxy.where}"))
    socks = await FakeSocks5(("ann", "the-right-one")).start()
    through_socks = Http1Transport(proxies=_plan(f"socks5://ann:{PASSWORD}@{socks.where}"))
    url = f"https://{UPSTREAM_NAME}:{tls_fake.port}/v1/models"
    try:
        with pytest.raises(UpstreamUnreachable, match=f"the proxy at {proxy.where} would not connect") as refused:
            await _models(transport, url)
        assert "user name and password" in refused.value.message
        with pytest.raises(UpstreamError, match=f"the proxy at {socks.where} would not connect") as refused_socks:
            await _models(through_socks, url)
    finally:
        await transport.aclose()
        await through_socks.aclose()
        await proxy.stop()
        await socks.stop()
    for failure in (refused.value, refused_socks.value):
        _never_said(f"{failure.message} {failure.detail} {failure!r}")


async def test_pooled_per_origin_and_proxy(plain_fake: FakeOpenAI) -> None:
    first, second = await ForwardProxy().start(), await ForwardProxy().start()
    plan = ProxyPlan(parse_proxy(f"http://{first.where}"), {"other": parse_proxy(f"http://{second.where}")})
    transport = Http1Transport(proxies=plan)
    url = f"http://{UPSTREAM_NAME}:{plain_fake.port}/v1/models"
    try:
        for party in ("acme", "other", "acme"):
            reply = await transport.send(UpstreamRequest(party, "GET", url, (("Authorization", f"Bearer {KEY}"),)))
            assert reply.status == 200
            await reply.read(1 << 16)
            reply.release()
    finally:
        await transport.aclose()
        await first.stop()
        await second.stop()
    assert (len(first.seen), len(second.seen)) == (2, 1)


def _never_said(text: str) -> None:
    assert PASSWORD not in text
    assert "ann:" not in text and "sam:" not in text


async def test_sign_in_calls_take_the_subscriptions_proxy(plain_fake: FakeOpenAI, tmp_path: Path) -> None:
    proxy = await ForwardProxy().start()
    data = {"subscriptions": {"proxy": f"http://{proxy.where}"}}
    plan = proxy_plan(network_settings(data, tmp_path, {}))
    transport = Http1Transport(proxies=plan, resolve=_to_loopback)
    url = f"http://{UPSTREAM_NAME}:{plain_fake.port}/login/oauth/access_token"
    try:
        answer = await exchange(transport, "POST", url, form={"grant_type": "device_code"}, who="github")
        assert answer.status == 404  # the fake has no such route: but it was reached, through the proxy
        direct = await exchange(transport, "POST", url, form={"grant_type": "device_code"}, who="acme")
        assert direct.status == 404  # not an account's call: directly
    finally:
        await transport.aclose()
        await proxy.stop()
    assert [(s.method, s.target) for s in proxy.seen] == [("POST", url)]


async def test_tunnels_are_pooled_per_credentials_too(ca: TestCA, tls_fake: FakeOpenAI) -> None:
    proxy = await ForwardProxy().start()
    plan = ProxyPlan(
        parse_proxy(f"http://ann:{PASSWORD}@{proxy.where}"), {"other": parse_proxy(f"http://bob:pw-bob@{proxy.where}")}
    )
    transport = Http1Transport(tls=ca.client_context(), proxies=plan)
    url = f"https://{UPSTREAM_NAME}:{tls_fake.port}/v1/models"
    try:
        for party in ("acme", "other", "acme", "other"):
            reply = await transport.send(UpstreamRequest(party, "GET", url, (("Authorization", f"Bearer {KEY}"),)))
            await reply.read(1 << 16)
            reply.release()
    finally:
        await transport.aclose()
        await proxy.stop()
    assert len(proxy.seen) == 2  # one tunnel each, each reused: never one opened with another's credentials
    assert len({s.headers["Proxy-Authorization"] for s in proxy.seen}) == 2
