"""One member of a team of gateways over the test's PostgreSQL: its own state folder and secret
store (its own JWT secret and anchor key, as on another machine), the database's password in that
store, client keys required, and the fake provider."""

from __future__ import annotations

from conftest import FAKE_KEY, StartGateway, provider_table
from fakes.openai_upstream import FakeOpenAI

from gateway.runtime.server import GatewayServer
from gateway.store.postgres.store import PASSWORD_SECRET
from gateway.store.secrets import MemorySecrets
from servers.postgres import PostgresServer


async def team_member(
    start_gateway: StartGateway,
    upstream: FakeOpenAI,
    server: PostgresServer,
    url: str,
    listen: str = "",
    extra: str = "",
    **kwargs: object,
) -> GatewayServer:
    """``listen``: more of its ``[server]`` table (a ``host``, say); ``extra``: of the provider's."""
    provider = provider_table("fake", upstream, extra=extra)
    config = f'[server]\nrequire_keys = true\n{listen}\n[store]\nurl = "{url}"\n\n' + provider
    secrets = MemorySecrets()
    secrets.set(PASSWORD_SECRET, server.password)
    return await start_gateway(config, {"FAKE_KEY": FAKE_KEY}, secrets=secrets, **kwargs)
