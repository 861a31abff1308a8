"""Issue 25: with ``[store] url`` set, ``serve`` keeps its client keys, ledger and most of its
audit log in the team's database but not yet everything; a start says what is still in its own
folder rather than leaving a team believing its gateways share it all."""

from __future__ import annotations

import logging

import pytest
from conftest import StartGateway
from servers.postgres import PostgresServer, postgres_server, postgres_url  # noqa: F401 (fixtures)

from gateway.store.postgres.store import PASSWORD_SECRET
from gateway.store.secrets import MemorySecrets


async def test_a_start_with_a_store_url_says_what_it_keeps_in_its_own_folder(
    start_gateway: StartGateway,
    caplog: pytest.LogCaptureFixture,
    postgres_server: PostgresServer,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    secrets = MemorySecrets()
    secrets.set(PASSWORD_SECRET, postgres_server.password)
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await start_gateway(f'[store]\nurl = "{postgres_url}"\n', secrets=secrets)
    said = [r.getMessage() for r in caplog.records if "[store] url" in r.getMessage()]
    assert said and "client keys, the usage ledger and the audit log" in said[0]
    assert "starts" in said[0] and "own" in said[0]


async def test_a_start_without_one_says_nothing_of_it(
    start_gateway: StartGateway, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway"):
        await start_gateway()
    assert not [r for r in caplog.records if "[store] url" in r.getMessage()]
