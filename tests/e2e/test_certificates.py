"""Issue 24 point 2 end to end: a provider whose certificate a company root signed, a root not in the
system's store. Without ``[network] ca_file`` the client is told, in its protocol's error shape,
that the certificate is not trusted, naming the host; once the settings name the root and are
applied (no restart), the same provider answers, over the same gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from conftest import LOCAL_OFF, StartGateway
from fakes.openai_upstream import FakeOpenAI
from fakes.tls import TestCA

KEY = "sk-company-provider-0001"
HI = {"model": "corp/gpt-test", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


@pytest.fixture
async def corp(ca: TestCA) -> AsyncIterator[FakeOpenAI]:
    fake = await FakeOpenAI(key=KEY).start(ca.server_context())
    yield fake
    await fake.stop()


def provider(fake: FakeOpenAI) -> str:
    return f'[providers.corp]\nkind = "openai-compatible"\nbase_url = "{fake.url}"\napi_key_env = "CORP_KEY"\n'


async def chat(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.post(f"{url}/v1/chat/completions", json=HI) as reply:
        body: dict[str, object] = await reply.json()
        return reply.status, body


async def test_a_root_named_in_ca_file_is_trusted_once_the_settings_are_applied(
    start_gateway: StartGateway, corp: FakeOpenAI, ca: TestCA, tmp_path: Path
) -> None:
    gateway = await start_gateway(provider(corp), {"CORP_KEY": KEY})
    status, body = await chat(gateway.url)
    assert status == 502
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "upstream_unreachable"
    assert "at 127.0.0.1: its certificate is not one this computer trusts" in str(error["message"])
    assert corp.requests == []  # refused at the handshake: the key never left

    (tmp_path / "config0.toml").write_text(
        f'{LOCAL_OFF}[network]\nca_file = "{ca.ca_file}"\n{provider(corp)}', encoding="utf-8"
    )
    await gateway.reconfigure()
    status, body = await chat(gateway.url)
    assert status == 200, body
    assert len(corp.requests_to("/chat/completions")) == 1
