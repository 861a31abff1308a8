"""Proxies: what a proxy setting says, and which proxy (if any) carries the calls to an upstream.

Pure: the environment comes in as a mapping, the settings as parsed values; the answer is decided
once per upstream origin (``ProxyPlan.choose`` caches it), never per request.

Order, first that applies: a loopback upstream is always reached directly; then the provider's
own ``proxy``, then ``[network] proxy`` ("direct" in either bypasses every proxy); then the
environment (``https_proxy``/``http_proxy`` by the upstream's scheme, else ``all_proxy``; each in
lower case before upper case, as curl and Python's urllib read them), unless ``no_proxy`` names
the host. ``no_proxy`` follows curl and httpx: ``*`` for every host; a name matching itself and
every name under it, with or without a leading dot; a ``:port`` limiting an entry to that port; an
IP address or CIDR block matching addresses written as such in the URL (nothing is resolved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

DIRECT: Literal["direct"] = "direct"
PROXY_SCHEMES = ("http", "socks5", "socks5h")
_DEFAULT_PORTS = {"http": 80, "socks5": 1080, "socks5h": 1080}
Source = Literal["settings", "environment", "none"]


@dataclass(frozen=True, slots=True)
class Proxy:
    """One proxy server. ``socks5`` and ``socks5h`` both leave name lookups to the proxy (remote
    DNS): the upstream's name may not resolve from here at all."""

    scheme: str  # "http", "socks5" or "socks5h"
    host: str
    port: int
    user: str = field(default="", repr=False, compare=False)
    password: str = field(default="", repr=False, compare=False)

    @property
    def where(self) -> str:
        """host:port, safe to show (no credentials)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The address without credentials, safe to show and to write to a file."""
        return f"{self.scheme}://{self.where}"

    @property
    def socks(self) -> bool:
        return self.scheme != "http"


ProxySetting = Proxy | Literal["direct"]


def parse_proxy(text: str, *, default_scheme: str = "") -> ProxySetting:
    """``"direct"`` or a proxy's address (``http://host:port``, ``socks5://user:pw@host:port``);
    ValueError saying what is wrong, never repeating a password. ``default_scheme``: for the
    environment's bare ``host:port`` values, which curl takes as http."""
    text = text.strip()
    if text.lower() == DIRECT:
        return DIRECT
    if "://" not in text and default_scheme:
        text = f"{default_scheme}://{text}"
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    shown = f"{scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else repr(text.rpartition("@")[2][:60])
    if scheme not in PROXY_SCHEMES:
        raise ValueError(f'{shown} is not a proxy address: use http://host:port, socks5://host:port or "direct"')
    if not parts.hostname:
        raise ValueError(f"{shown} has no host")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ValueError(f"{shown} must be only scheme://host:port")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise ValueError(f"{shown} has an invalid port") from None
    return Proxy(scheme, parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""))
