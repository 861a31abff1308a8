"""The trust store upstream TLS is verified against (``gateway.transport.trust``): a root trusted only
through ``ca_file`` is accepted and the same server without it refused, in words that name the host
and point at the setting; the system store is what OpenSSL's ``SSL_CERT_FILE`` names on Linux
(truststore reads it); certifi stands in only where truststore cannot be used."""

from __future__ import annotations

import logging
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA, https_server

from app.words import said_of
from gateway.cli.fixes import explained
from gateway.config.settings import NetworkSettings
from gateway.errors import ConfigError, Fix, UpstreamUnreachable
from gateway.runtime.self_test import HTTPS_TEST_SERVER
from gateway.transport import UpstreamRequest
from gateway.transport import trust as trust_module
from gateway.transport.http1 import Http1Transport
from gateway.transport.trust import tls_context, trust_source


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path)


@pytest.fixture
async def tls_upstream(ca: TestCA) -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=None).start(ca.server_context())
    yield fake
    await fake.stop()


async def _models(transport: Http1Transport, fake: FakeOpenAI) -> int:
    try:
        reply = await transport.send(UpstreamRequest("acme", "GET", f"{fake.url}/models", ()))
        await reply.read(1 << 16)
        return reply.status
    finally:
        await transport.aclose()


async def test_a_root_trusted_only_through_ca_file_is_accepted(ca: TestCA, tls_upstream: FakeOpenAI) -> None:
    assert tls_upstream.url.startswith("https://127.0.0.1:")
    assert await _models(Http1Transport(tls=tls_context(ca.ca_file)), tls_upstream) == 200
    assert tls_context(ca.ca_file) is tls_context(ca.ca_file)  # made once, shared by every connection


async def test_without_ca_file_the_same_server_is_refused_in_plain_words(tls_upstream: FakeOpenAI) -> None:
    with pytest.raises(UpstreamUnreachable) as refused:
        await _models(Http1Transport(), tls_upstream)
    error = refused.value
    assert error.message == "cannot reach provider acme at 127.0.0.1: its certificate is not one this computer trusts"
    assert error.fix == Fix("trust_certificate", "127.0.0.1")
    assert "CERTIFICATE_VERIFY_FAILED" in error.detail  # the technical words, for whoever asks
    assert said_of(error) == error.message and said_of(error).fix == error.fix  # the app says it as it is
    assert "ca_file in the [network] table" in explained(error)  # a terminal names the setting


def test_a_ca_file_that_holds_no_certificate_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match=r"root\.pem cannot be used: it must hold PEM certificates"):
        tls_context(tmp_path / "root.pem")


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """No context made yet in this process (each test makes its own), its log captured."""
    monkeypatch.setattr(trust_module, "_MADE", {})
    monkeypatch.setattr(trust_module, "_SOURCE", [])
    caplog.set_level(logging.DEBUG, "gateway.transport")
    return caplog


def test_macos_and_windows_ask_truststore_and_verification_is_on(
    fresh: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import truststore

    monkeypatch.setattr(sys, "platform", "darwin")
    context = tls_context()
    assert trust_source() == "system" and isinstance(context, truststore.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


async def test_linux_loads_the_system_bundle_once_and_ssl_cert_file_redirects_it(
    ca: TestCA, tls_upstream: FakeOpenAI, fresh: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """truststore's Linux context reloads the bundle at every handshake (tens of ms of CPU): this
    one loads the same roots once, so what the environment says at start is what counts."""
    if sys.platform != "linux":
        pytest.skip("OpenSSL's paths are the system store on Linux only")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_file))
    context = tls_context()
    monkeypatch.delenv("SSL_CERT_FILE")
    assert trust_source() == "system" and "against the system's trust store" in fresh.text
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    assert await _models(Http1Transport(tls=context), tls_upstream) == 200


async def test_a_frozen_openssl_with_no_default_paths_finds_the_distributions_bundle(
    ca: TestCA, tls_upstream: FakeOpenAI, fresh: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sys.platform != "linux":
        pytest.skip("the Linux bundle search")
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _NO_DEFAULT_PATHS)
    monkeypatch.setattr(trust_module, "_BUNDLES", ("/nonexistent/cert.pem", str(ca.ca_file)))
    assert trust_source() == "system"
    assert await _models(Http1Transport(tls=tls_context()), tls_upstream) == 200


_NO_DEFAULT_PATHS = ssl.DefaultVerifyPaths._make(
    [None, None, "SSL_CERT_FILE", "/nowhere/a", "SSL_CERT_DIR", "/nowhere"]
)


@pytest.mark.parametrize("platform", ["darwin", "linux"])
async def test_certifi_stands_in_only_where_the_system_store_cannot_be_used(
    platform: str,
    ca: TestCA,
    tls_upstream: FakeOpenAI,
    fresh: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import certifi

    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setitem(sys.modules, "truststore", None)  # macOS, Windows: as if not bundled
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _NO_DEFAULT_PATHS)  # Linux: no bundle anywhere
    monkeypatch.setattr(trust_module, "_BUNDLES", ())
    public_only = tls_context()
    assert trust_source() == "certifi"
    assert len(public_only.get_ca_certs()) == len(tls_context(Path(certifi.where())).get_ca_certs()) > 100
    with pytest.raises(UpstreamUnreachable, match="certificate is not one this computer trusts"):
        await _models(Http1Transport(tls=public_only), tls_upstream)
    assert await _models(Http1Transport(tls=tls_context(ca.ca_file)), tls_upstream) == 200  # ca_file adds to it
    assert fresh.text.count("certifi's bundle instead") == 1  # said once, not per context


def test_on_linux_the_system_store_is_what_ssl_cert_file_names(ca: TestCA) -> None:
    """What "the operating system's store" means to OpenSSL on Linux, set for a child process as
    the release's smoke test sets it: the self-test's one HTTPS request is verified against it."""
    if sys.platform != "linux":
        pytest.skip("macOS and Windows stores are the release workflow's (installers/test_ca.py)")

    base = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    with https_server(ca.folder) as url:
        said = {}
        for name, extra in (("trusted", {"SSL_CERT_FILE": str(ca.ca_file)}), ("unknown", {})):
            done = subprocess.run(
                [sys.executable, "-m", "gateway", "--self-test"],
                env={**base, HTTPS_TEST_SERVER: url, **extra},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            said[name] = (done.returncode, done.stdout)
    assert said["trusted"][0] == 0, said["trusted"][1]
    assert f"ok   GET {url}: 200 'hello', verified with the system's trust store" in said["trusted"][1]
    assert said["unknown"][0] == 1
    assert f"FAIL GET {url}: UpstreamUnreachable" in said["unknown"][1]
    assert "its certificate is not one this computer trusts" in said["unknown"][1]


async def test_the_apps_update_downloads_trust_what_the_gateway_trusts(ca: TestCA, tls_upstream: FakeOpenAI) -> None:
    from app import update_http

    url = f"{tls_upstream.url}/models"
    async with update_http.update_client() as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await update_http.fetch(client, url, 1 << 16)
    async with update_http.update_client(network=NetworkSettings(ca_file=ca.ca_file)) as client:
        assert b"gpt" in await update_http.fetch(client, url, 1 << 16)
