"""A proxy setting as Settings edits it (this computer's, none, or one named here with its user
name; the password never comes back from the gateway), and the proxy in use said in words: which
one, and who named it — never an environment variable's name, never a password."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from gateway import NetworkStatus

Mode = Literal["system", "direct", "proxy"]
ADDRESS_HINT = "http://host:port or socks5://host:port"


@dataclass(frozen=True, slots=True)
class ProxyChoice:
    """``mode``: "system" follows what comes before (this computer's settings, or for a provider
    the Network setting), "direct" bypasses every proxy, "proxy" is ``address`` (no credentials)
    with ``user``."""

    mode: Mode = "system"
    address: str = ""
    user: str = ""

    @classmethod
    def of(cls, table: Any) -> ProxyChoice:
        """From a table of the config file as written (``[network]``, ``[providers.x]``)."""
        value = table.get("proxy") if isinstance(table, dict) else None
        if not isinstance(value, str) or not value.strip():
            return cls()
        if value.strip().lower() == "direct":
            return cls("direct")
        parts = urlsplit(value.strip())
        if not parts.netloc:
            return cls("proxy", value.strip())
        user = unquote(parts.username or "")
        return cls("proxy", f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}", user)

    @property
    def setting(self) -> str | None:
        """What the gateway is asked to set (None: removed, so what comes before applies)."""
        return {"system": None, "direct": "direct"}.get(self.mode, self.address.strip())


def proxy_in_use(network: NetworkStatus | None) -> str:
    """The line under the Network section: where providers' calls go now, and who said so."""
    if network is None:
        return "Shown while the gateway runs."
    if problem := network.get("problem"):  # this computer's proxy cannot be used: calls through it fail
        return f"Calls to providers fail: {problem}. Set a proxy here, or choose No proxy."
    proxy, source = network["proxy"], network["source"]
    if proxy is None:
        if source == "settings":
            return "Going directly to providers, as set here."
        return "Going directly to providers: this computer names no proxy."
    where = proxy.partition("://")[2] or proxy
    kind = "the SOCKS proxy at " if proxy.startswith("socks") else ""
    who = "set here" if source == "settings" else "named by this computer's settings"
    return f"Going through {kind}{where}, {who}."
