"""Issue 25: ``[store] url`` is read but ``serve`` does not run on it yet; a start says so rather
than leaving a team believing its gateways share keys, ledger and audit."""

from __future__ import annotations

import logging

import pytest
from conftest import StartGateway


async def test_a_start_with_a_store_url_says_it_serves_from_its_own_folder(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await start_gateway('[store]\nurl = "postgresql://switchboard@db.example:5432/switchboard"\n')
    said = [r.getMessage() for r in caplog.records if "[store] url" in r.getMessage()]
    assert said and "own state folder" in said[0]


async def test_a_start_without_one_says_nothing_of_it(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await start_gateway()
    assert not [r for r in caplog.records if "[store] url" in r.getMessage()]
