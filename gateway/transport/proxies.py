"""Proxies: what a proxy setting says, and which proxy (if any) carries the calls to an upstream.

Pure: the environment comes in as a mapping, the settings as parsed values; the answer is decided
once per upstream origin (``ProxyPlan.choose`` caches it), never per request.

Order, first that applies: a loopback upstream is always reached directly; then the signed-in
account's own ``proxy`` (``[accounts."label"]``), then the provider's own, then ``[network] proxy``
("direct" in any of them bypasses every proxy); then the environment (``https_proxy``/``http_proxy``
by the upstream's scheme, else ``all_proxy``; each in lower case before upper case, as curl and
Python's urllib read them), unless ``no_proxy`` names the host. ``no_proxy`` follows curl and
httpx: ``*`` for every host; a name matching itself and every name under it, with or without a
leading dot; a ``:port`` limiting an entry to that port; an IP address or CIDR block matching
addresses written as such in the URL (nothing is resolved). An environment's proxy that cannot be
used (an https:// one, a malformed value) is kept as an ``UnusableProxy`` for the scheme it was named
for: the calls it would carry fail saying so, and nothing else stops (the app starts).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from gateway.transport.addresses import IPAddress, is_loopback, parse_ip

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
    user: str = field(default="", repr=False)  # compared too: pooled tunnels are kept per credentials
    password: str = field(default="", repr=False)

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


class BadProxy(ValueError):
    """An address that is not a usable proxy. Its message says so to whoever wrote it; ``shown``
    (the address without credentials) and ``reason`` say it of a value someone else set."""

    def __init__(self, shown: str, said: str, reason: str = "") -> None:
        super().__init__(f"{shown} {said}")
        self.shown = shown
        self.reason = reason or f"it {said}"


def parse_proxy(text: str, *, default_scheme: str = "") -> ProxySetting:
    """``"direct"`` or a proxy's address (``http://host:port``, ``socks5://user:pw@host:port``);
    BadProxy saying what is wrong, never repeating a password. ``default_scheme``: for the
    environment's bare ``host:port`` values, which curl takes as http."""
    text = text.strip()
    if text.lower() == DIRECT:
        return DIRECT
    if "://" not in text and default_scheme:
        text = f"{default_scheme}://{text}"
    try:
        parts = urlsplit(text)
    except ValueError:  # its message repeats the address, password and all (NFKC, IPv6 brackets)
        raise BadProxy(repr(text.rpartition("@")[2][:60]), "is not a proxy address") from None
    scheme = parts.scheme.lower()
    shown = f"{scheme}://{parts.netloc.rpartition('@')[2]}" if parts.netloc else repr(text.rpartition("@")[2][:60])
    if scheme not in PROXY_SCHEMES:
        raise BadProxy(
            shown,
            'is not a proxy address: use http://host:port, socks5://host:port or "direct"',
            "only http:// and socks5:// proxies are supported",
        )
    if not parts.hostname:
        raise BadProxy(shown, "has no host")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise BadProxy(shown, "must be only scheme://host:port")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        raise BadProxy(shown, "has an invalid port") from None
    return Proxy(scheme, parts.hostname, port, unquote(parts.username or ""), unquote(parts.password or ""))


@dataclass(frozen=True, slots=True)
class UnusableProxy:
    """A proxy the environment names that cannot be used, kept in its place so that what it was
    named for is not silently reached directly, around a policy of "through a proxy"."""

    named_for: str  # "https", "http" or "every connection"
    shown: str  # the value, without credentials
    reason: str
    variable: str = field(default="", compare=False)  # for the log only: never in words a window shows

    @property
    def problem(self) -> str:
        """In words, safe anywhere: no variable's name, no credentials."""
        return f"the proxy this computer names for {self.named_for} ({self.shown}) cannot be used: {self.reason}"


@dataclass(frozen=True, slots=True)
class Chosen:
    """The way to one upstream: through ``proxy``, or directly (None), or nowhere (an unusable one,
    each call refused saying why); ``source``: what said so."""

    proxy: Proxy | UnusableProxy | None
    source: Source


NOBODY = Chosen(None, "none")


@dataclass(frozen=True, slots=True)
class Bypass:
    """One ``no_proxy`` entry: a name (matching itself and the names under it) or a block of
    addresses, on any port or on one."""

    name: str = ""
    block: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None

    def matches(self, host: str, ip: IPAddress | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.block is not None:
            return ip is not None and ip.version == self.block.version and ip in self.block
        return host == self.name or host.endswith(f".{self.name}")


@dataclass(frozen=True, slots=True)
class EnvironmentProxies:
    """What ``https_proxy``, ``http_proxy``, ``all_proxy`` and ``no_proxy`` say."""

    https: Proxy | UnusableProxy | None = None
    http: Proxy | UnusableProxy | None = None
    all: Proxy | UnusableProxy | None = None
    bypass: tuple[Bypass, ...] = ()
    bypass_all: bool = False  # no_proxy = "*"

    def choose(self, scheme: str, host: str, port: int) -> Chosen:
        proxy = (self.https if scheme == "https" else self.http) or self.all
        if proxy is None or self.bypass_all:
            return NOBODY
        ip = parse_ip(host)
        if any(entry.matches(host, ip, port) for entry in self.bypass):
            return NOBODY
        return Chosen(proxy, "environment")

    @property
    def unusable(self) -> tuple[UnusableProxy, ...]:
        """Those that would carry some call (``no_proxy = *``: none would)."""
        found = () if self.bypass_all else (self.https, self.http, self.all)
        return tuple(p for p in found if isinstance(p, UnusableProxy))


_NAMED_FOR = {"https_proxy": "https", "http_proxy": "http", "all_proxy": "every connection"}


def environment_proxies(env: Mapping[str, str]) -> EnvironmentProxies:
    """The environment's proxies; an unusable one is kept as such (never raised: a variable set
    for other programs must not stop the gateway, nor be gone around)."""
    found: dict[str, Proxy | UnusableProxy | None] = {}
    for name in ("https_proxy", "http_proxy", "all_proxy"):
        variable, value = _variable(env, name)
        found[name] = None
        if value:
            try:
                chosen = parse_proxy(value, default_scheme="http")
            except BadProxy as exc:
                found[name] = UnusableProxy(_NAMED_FOR[name], exc.shown, exc.reason, variable)
                continue
            found[name] = chosen if isinstance(chosen, Proxy) else None
    entries = [e.strip().lower() for e in _variable(env, "no_proxy")[1].replace(" ", ",").split(",")]
    return EnvironmentProxies(
        https=found["https_proxy"],
        http=found["http_proxy"],
        all=found["all_proxy"],
        bypass=tuple(b for e in entries if e and e != "*" and (b := _bypass(e)) is not None),
        bypass_all="*" in entries,
    )


def _variable(env: Mapping[str, str], name: str) -> tuple[str, str]:
    """The lower-case spelling when it is set (as curl and urllib read them), else the upper."""
    for variable in (name, name.upper()):
        if variable in env:
            return variable, env[variable].strip()
    return name, ""


def _bypass(entry: str) -> Bypass | None:
    """A ``no_proxy`` entry, or None for one that names nothing usable (it is skipped, as curl does)."""
    port: int | None = None
    host = entry
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif entry.count(":") == 1:
        host, _, digits = entry.partition(":")
        if not digits.isdigit():
            return None
        port = int(digits)
    if "/" in host:
        try:
            return Bypass(block=ipaddress.ip_network(host, strict=False), port=port)
        except ValueError:
            return None
    host = host.removeprefix("*").lstrip(".").rstrip(".")
    ip = parse_ip(host)
    if ip is not None:
        return Bypass(block=ipaddress.ip_network(ip), port=port)
    return Bypass(name=host, port=port) if host else None


class ProxyPlan:
    """Which proxy carries the calls to each upstream, decided once per (account, party, origin)
    and kept.

    ``setting``: ``[network] proxy``; ``own``: a provider's (or the signed-in accounts' providers')
    own, by the name calls are attributed to; ``accounts``: a signed-in account's own, by its
    label; ``environment``: the environment's proxies."""

    def __init__(
        self,
        setting: ProxySetting | None = None,
        own: Mapping[str, ProxySetting] | None = None,
        environment: EnvironmentProxies | None = None,
        accounts: Mapping[str, ProxySetting] | None = None,
    ) -> None:
        self._setting = setting
        self._own = dict(own or {})
        self._accounts = dict(accounts or {})
        self._environment = environment or EnvironmentProxies()
        self._decided: dict[tuple[str, str, str, str, int], Chosen] = {}

    def __eq__(self, other: object) -> bool:
        """The same settings (what was decided from them aside)."""
        return isinstance(other, ProxyPlan) and self._settings() == other._settings()

    __hash__ = None  # type: ignore[assignment]  # mutable (its decisions): compared, never a key

    def _settings(self) -> tuple[object, ...]:
        return (self._setting, self._own, self._accounts, self._environment)

    @property
    def by_party(self) -> bool:
        """Whether who calls matters (some provider or account has its own setting)."""
        return bool(self._own or self._accounts)

    @property
    def anywhere(self) -> bool:
        """Whether any upstream could go through a proxy at all (if not, nothing need be asked)."""
        env = self._environment
        settings = [self._setting, *self._own.values(), *self._accounts.values()]
        return any(isinstance(s, Proxy) for s in settings) or (
            self._setting is None and bool(env.https or env.http or env.all) and not env.bypass_all
        )

    def choose(self, scheme: str, host: str, port: int, party: str = "", account: str = "") -> Chosen:
        """``party``: who the call is attributed to (a provider, a sign-in server); ``account``: the
        signed-in account it is made for, if any."""
        key = (account if account in self._accounts else "", party if self._own else "", scheme, host, port)
        chosen = self._decided.get(key)
        if chosen is None:
            chosen = self._decide(scheme, host.lower().rstrip("."), port, party, key[0])
            if len(self._decided) < 4096:
                self._decided[key] = chosen
        return chosen

    def _decide(self, scheme: str, host: str, port: int, party: str, account: str) -> Chosen:
        if is_loopback(host):
            return NOBODY
        setting = self._accounts[account] if account else self._own.get(party, self._setting)
        if setting is not None:
            return Chosen(setting if isinstance(setting, Proxy) else None, "settings")
        return self._environment.choose(scheme, host, port)

    @property
    def unusable(self) -> tuple[UnusableProxy, ...]:
        """The environment's unusable proxies, when nothing in the settings stands over them all."""
        return self._environment.unusable if self._setting is None else ()

    def in_use(self) -> Chosen:
        """The proxy an https provider without its own setting goes through: what a status shows."""
        if self._setting is not None:
            return Chosen(self._setting if isinstance(self._setting, Proxy) else None, "settings")
        env = self._environment
        proxy = None if env.bypass_all else env.https or env.all
        return Chosen(proxy, "environment") if proxy is not None else NOBODY
