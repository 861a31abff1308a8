"""``[network]``: how upstreams are reached. A proxy for every upstream (``proxy``), one per
provider (its table's ``proxy``), one for the signed-in accounts' providers and their sign-in
servers (``[subscriptions] proxy``) and one per signed-in account (``[accounts."label"] proxy``:
its requests, token renewals and quota reads); ``"direct"`` in any of them bypasses every proxy.
``ca_file``: extra root certificates to trust, checked to exist here (the transport's trust reads it).

A proxy the file names that cannot be used refuses the load (the user's own setting, refused with the
reason); one the environment names does not: it is kept as unusable (``environment_proxies``), and the
calls it would carry fail saying so."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gateway.config.settings import NetworkSettings
from gateway.config.table import Table
from gateway.errors import ConfigError
from gateway.providers.settings import SUBSCRIPTIONS
from gateway.transport.proxies import (
    EnvironmentProxies,
    Proxy,
    ProxyPlan,
    ProxySetting,
    environment_proxies,
    parse_proxy,
)

# Who the signed-in accounts' calls are attributed to (auth/oauth's ``who``): their providers and
# the servers they sign in with.
SUBSCRIPTION_PARTIES = (*SUBSCRIPTIONS, "openai-auth", "github")


def network_settings(
    data: Mapping[str, Any], folder: Path, env: Mapping[str, str], stored: Callable[[Proxy], Proxy] | None = None
) -> NetworkSettings:
    """From the whole file's ``data`` and the environment's proxies (read only when ``[network]
    proxy`` does not settle it); ``folder``: where a relative ``ca_file`` is found; ``stored``: a
    proxy given its password from the secret store (the file keeps none)."""
    complete = stored or (lambda proxy: proxy)

    def _proxy(value: object, where: str) -> ProxySetting | None:
        setting = _parsed(value, where)
        return complete(setting) if isinstance(setting, Proxy) else setting

    t = Table(data.get("network", {}), "[network]", {"proxy", "ca_file"})
    own: list[tuple[str, ProxySetting]] = []
    for pid, table in data.get("providers", {}).items():
        if isinstance(table, dict) and (chosen := _proxy(table.get("proxy"), f"[providers.{pid}].proxy")):
            own.append((pid, chosen))
    accounts: list[tuple[str, ProxySetting]] = []
    for label, table in data.get("accounts", {}).items():
        where = f'[accounts."{label}"]'
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table")
        proxy = _proxy(Table(table, where, {"proxy"}).data.get("proxy"), f"{where}.proxy")
        if proxy is not None:
            accounts.append((label, proxy))
    shared = _proxy(data.get("subscriptions", {}).get("proxy"), "[subscriptions].proxy")
    if shared is not None:
        own.extend((party, shared) for party in SUBSCRIPTION_PARTIES)
    ca_file = None
    if (named := t.text("ca_file")) is not None:
        ca_file = (folder / Path(named).expanduser()).resolve()
        if not ca_file.is_file():
            raise ConfigError(f"[network].ca_file: {ca_file} is not a file")
    setting = _proxy(t.data.get("proxy"), "[network].proxy")
    environment = environment_proxies(env) if setting is None else EnvironmentProxies()
    return NetworkSettings(setting, ca_file, tuple(own), environment, account_proxies=tuple(accounts))


def _parsed(value: object, where: str) -> ProxySetting | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f'{where} must be a proxy\'s address ("http://host:port", "socks5://host:port") or "direct"')
    try:
        return parse_proxy(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def proxy_plan(network: NetworkSettings) -> ProxyPlan:
    """The transport's plan from the settings: made once per loaded configuration."""
    return ProxyPlan(network.proxy, dict(network.provider_proxies), network.environment, dict(network.account_proxies))
