"""Facts about hosts and URLs: what is loopback, and which upstream base URLs are acceptable.

An upstream base URL decides where a provider credential is sent, so it is checked strictly
(SECURITY.md S26): http(s) only, no userinfo, no query or fragment, never an unspecified,
link-local, metadata or multicast address, and plain http only to loopback or to a server the
user marked as local. Numeric IPv4 spellings (``0x7f.1``, ``2130706433``) are normalised first.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from gateway.redact import redact

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")  # what a Host header names this computer by
_HOST_ENTRY = re.compile(r"(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(\d{1,5}))?")
_METADATA_V6 = ipaddress.ip_address("fd00:ec2::254")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(host: str) -> IPAddress | None:
    """The IP a host string denotes, accepting the legacy IPv4 spellings resolvers accept."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        addr = ipaddress.ip_address(bare)
    except ValueError:
        if not bare or not all(c in "0123456789abcdefxABCDEFX." for c in bare):
            return None
        try:  # inet_aton understands "0x7f.1", "2130706433", "0177.0.0.1"
            return ipaddress.IPv4Address(socket.inet_aton(bare))
        except OSError:
            return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") in _LOOPBACK_NAMES:
        return True
    addr = parse_ip(host)
    return addr is not None and addr.is_loopback


def names_loopback(host: str) -> bool:
    """Whether a Host header (with or without its port) is one of ``LOOPBACK_HOSTS``."""
    name = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    return name.lower() in LOOPBACK_HOSTS


def forbidden_address(addr: IPAddress) -> str | None:
    """Why an upstream may never be at this address, or None when it may."""
    if addr.is_unspecified:
        return "an unspecified address"
    if addr.is_link_local or addr == _METADATA_V6:
        return "a link-local or cloud-metadata address"
    if addr.is_multicast:
        return "a multicast address"
    return None


def check_base_url(url: str, *, plain_http_ok: bool) -> str:
    """Return the base URL without a trailing slash, or raise ValueError saying what is wrong
    (the address as said there has any password or key in it masked: the message is logged)."""
    parts, said = urlsplit(url.strip()), redact(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{said!r} must start with https:// (or http:// for a local server)")
    if not parts.hostname:
        raise ValueError(f"{said!r} has no host")
    if "@" in parts.netloc:
        raise ValueError(f"{said!r} must not carry a user name or password")
    if parts.query or parts.fragment:
        raise ValueError(f"{said!r} must not have a query string or fragment")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"{said!r} has an invalid port") from exc
    addr = parse_ip(parts.hostname)
    if addr is not None and (reason := forbidden_address(addr)):
        raise ValueError(f"{said!r} points at {reason}")
    if parts.scheme == "http" and not (plain_http_ok or is_loopback(parts.hostname)):
        raise ValueError(
            f"{said!r} uses plain http to a remote host; use https, "
            "or mark the provider local = true if it is a model server on your network"
        )
    return url.strip().rstrip("/")


def host_entry(entry: str) -> tuple[str, int | None] | None:
    """A Host name as ``[server].allowed_hosts`` holds it (lower case): the name, and the port it
    carries (None: the gateway's own); None when it is no host name (an IPv6 address in brackets)."""
    match = _HOST_ENTRY.fullmatch(entry)
    if match is None:
        return None
    port = int(match[2]) if match[2] is not None else None
    return None if port is not None and not 0 < port < 65536 else (match[1], port)


def is_wildcard(host: str) -> bool:
    """A bind to every interface ("0.0.0.0", "::")."""
    addr = parse_ip(host)
    return addr is not None and addr.is_unspecified


def own_names() -> list[str]:
    """How other computers on the network may name this one: its host name (and ``.local``) and
    its addresses, IPv6 bracketed as a Host header has them. Blocking (resolves the host name)."""
    name = socket.gethostname()
    names = {name.lower(), f"{name.lower()}.local"}
    found: set[str] = set()
    with contextlib.suppress(OSError):
        found.update(str(info[4][0]) for info in socket.getaddrinfo(name, None))
    # The address of the interface with the default route: a UDP "connect" sends nothing.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, contextlib.suppress(OSError):
        probe.connect(("192.0.2.1", 9))
        found.add(probe.getsockname()[0])
    for text in found:
        addr = parse_ip(text.split("%")[0])
        if addr is not None and not addr.is_loopback and not addr.is_unspecified:
            names.add(f"[{addr}]" if addr.version == 6 else str(addr))
    return sorted(names)


def names_of(host: str) -> list[str]:
    """The names beyond loopback's that callers give a gateway listening on ``host``: this machine's
    names and addresses unless it listens on loopback only, and the address or name it is bound to
    (another interface's, or one of 127/8 behind a balancer on this machine). None of them can be
    an attacker's name, which is what the Host check is against. Blocking (``own_names``)."""
    names: set[str] = set() if is_loopback(host) else set(own_names())
    if not is_wildcard(host) and host.lower().rstrip(".") not in _LOOPBACK_NAMES:
        addr = parse_ip(host)
        names.add(host.lower() if addr is None else f"[{addr}]" if addr.version == 6 else str(addr))
    return sorted(names)
