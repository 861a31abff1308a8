"""An alias whose routes no provider lists is said in the log at start, once the lists are in."""

from __future__ import annotations

import asyncio
import logging

import pytest
from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

ALIASES = '[aliases]\ncoding = ["fake/gpt-tset", "fake/gpt-test"]\nfine = ["fake/gpt-test"]\n'


async def test_an_alias_with_a_route_nobody_lists_is_reported_at_start(
    start_gateway: StartGateway, upstream: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "gateway.routing")
    await start_gateway(ALIASES + provider_table("fake", upstream), {"FAKE_KEY": FAKE_KEY})
    said = 'alias "coding": no provider lists "fake/gpt-tset"; requests for it go to its other routes'
    for _ in range(100):
        if any(r.getMessage() == said for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    assert [r.getMessage() for r in caplog.records if "alias" in r.getMessage()] == [said]
