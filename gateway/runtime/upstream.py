"""The upstream HTTP client as the settings say to reach the network: through the proxies they
(or the environment) name, trusting ``[network] ca_file``'s roots besides the system's. One for the
gateway and each command that calls out, so sign-ins, refreshes and quota reads go the same way."""

from __future__ import annotations

from gateway.config.network import proxy_plan
from gateway.config.settings import Settings
from gateway.transport import Transport
from gateway.transport.http1 import Http1Transport
from gateway.transport.trust import tls_context


def upstream_transport(settings: Settings) -> Http1Transport:
    network = settings.network
    tls = tls_context(network.ca_file) if network.ca_file is not None else None
    return Http1Transport(tls=tls, proxies=proxy_plan(network))


def follow_network(transport: Transport, settings: Settings) -> None:
    """Settings applied: the transport trusts and proxies as they now say (a test's own transport,
    not an ``Http1Transport``, is left as it is)."""
    if isinstance(transport, Http1Transport):
        transport.follow(tls_context(settings.network.ca_file), proxy_plan(settings.network))
