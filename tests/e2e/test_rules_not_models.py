"""Model lists name models: an exact-name alias is one (a client may ask for it), a glob rule and
the ``default`` rule are not, on every list (OpenAI's, Anthropic's, Ollama's); the Models page's
rows carry those rules, each with the routes it leads to."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from conftest import StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway import Control

RULES = (
    '[aliases]\nquick = ["fake/gpt-test"]\n"claude-*" = ["fake/gpt-other", "fake/gpt-test"]\n'
    'default = ["fake/gpt-test"]\n'
)


async def get(url: str) -> Any:
    headers = {"anthropic-version": "2023-06-01"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as r:
        assert r.status == 200, await r.text()
        return json.loads(await r.read())


async def test_default_and_globs_are_no_models_exact_aliases_are(
    start_gateway: StartGateway, upstream: FakeOpenAI
) -> None:
    gateway = await start_gateway(RULES + provider_table("fake", upstream), {"FAKE_KEY": upstream.key or ""})
    openai = {m["id"] for m in (await get(f"{gateway.url}/v1/models"))["data"]}
    ollama = {m["name"] for m in (await get(f"{gateway.url}/api/tags"))["models"]}
    for listed in (openai, ollama):
        assert "quick" in listed or "quick:latest" in listed, listed
        assert not {"default", "default:latest", "claude-*", "claude-*:latest"} & listed, listed
    async with aiohttp.ClientSession() as session, session.get(f"{gateway.url}/v1/models/default") as r:
        assert r.status == 404
    control = gateway.control
    assert isinstance(control, Control)
    rows = {row["id"]: row for row in await control.models()}
    assert (rows["quick"]["kind"], rows["quick"]["leads_to"]) == ("alias", ["fake/gpt-test"])
    assert (rows["claude-*"]["kind"], rows["claude-*"]["leads_to"]) == ("rule", ["fake/gpt-other", "fake/gpt-test"])
    assert (rows["default"]["kind"], rows["default"]["leads_to"]) == ("rule", ["fake/gpt-test"])
    assert rows["claude-*"]["state"] == "ready"
