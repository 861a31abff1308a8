"""The upstream HTTP client as the settings say to reach the network: through the proxies they
(or the environment) name, trusting ``[network] ca_file``'s roots besides the system's. One for the
gateway and each command that calls out, so sign-ins, refreshes and quota reads go the same way."""

from __future__ import annotations

import asyncio
import logging
import ssl

from gateway.config.network import proxy_plan
from gateway.config.settings import Settings
from gateway.transport import Transport
from gateway.transport.http1 import Http1Transport
from gateway.transport.proxies import Proxy
from gateway.transport.trust import tls_context

log = logging.getLogger("gateway.transport")


def upstream_transport(settings: Settings) -> Http1Transport:
    transport = Http1Transport(tls=_tls(settings), proxies=proxy_plan(settings.network))
    _say_proxy(transport)
    return transport


def follow_network(transport: Transport, settings: Settings) -> None:
    """A reconfigure's ``[network]`` (ca_file, proxies), taken by the gateway's own transport at
    once (``prepare_network`` first); a transport a test handed in is left as it is."""
    if isinstance(transport, Http1Transport):
        transport.follow(_tls(settings), proxy_plan(settings.network))
        _say_proxy(transport)


async def prepare_network(settings: Settings) -> None:
    """Make the trust a reconfigure's settings name (reading ``ca_file`` and the system's store)
    in a worker thread, so ``follow_network`` finds it made; ``ConfigError`` for a bad ca_file."""
    await asyncio.to_thread(tls_context, settings.network.ca_file)


def _tls(settings: Settings) -> ssl.SSLContext:
    return tls_context(settings.network.ca_file)


def _say_proxy(transport: Http1Transport) -> None:
    chosen = transport.proxy_in_use()
    if isinstance(chosen.proxy, Proxy):  # its address only: never its user name or password
        log.info("providers are reached through the proxy at %s (named by the %s)", chosen.proxy.url, chosen.source)
    for unusable in transport.unusable_proxies():  # the start goes on; the calls it would carry fail saying so
        log.warning(
            "%s (set in %s): the calls it would carry fail; set a proxy in Settings → Network or [network] proxy,"
            ' or "direct"',
            unusable.problem,
            unusable.variable,
        )
