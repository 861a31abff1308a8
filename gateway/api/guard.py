"""The first step of every request: who may talk to us at all, and in what form.

- Host must be exactly one of the allowed ``name:port`` pairs (SECURITY.md S6, S7): this is what
  defeats DNS rebinding. Checked against the raw header, never a URL rebuilt from it (S10).
- A browser Origin that is not configured is refused, and so is any request a browser marks
  ``Sec-Fetch-Site: cross-site`` (S8, S9). No CORS grant unless configured, exact echo only.
- JSON endpoints take JSON only (415 otherwise: a CSRF guard too), and the body size is checked
  from ``Content-Length`` before a byte of the body is read (413). These body rules come after the
  caller is identified (``Entry``), so a refused body is counted against a known caller. A body
  with no ``Content-Type`` (or ``application/octet-stream``) is JSON unless a browser sent it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from aiohttp import web

from gateway.errors import (
    Forbidden,
    GatewayError,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from gateway.transport.addresses import LOOPBACK_HOSTS, host_entry

_HOST_SHAPE = re.compile(r"^[A-Za-z0-9.\-\[\]:]+$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ACCEPTED_ENCODINGS = frozenset({"", "identity", "gzip", "deflate", "zstd"})


class Guard:
    __slots__ = ("_allowed_hosts", "_extra_names", "cors_origins", "max_body_bytes")

    def __init__(self, *, extra_names: Iterable[str], cors_origins: Iterable[str], max_body_bytes: int) -> None:
        self._extra_names = tuple(n.lower() for n in extra_names)
        self._allowed_hosts: frozenset[str] = frozenset()
        self.cors_origins = frozenset(cors_origins)
        self.max_body_bytes = max_body_bytes

    def listening_on(self, port: int, own_names: Iterable[str] = (), earlier: Iterable[int] = ()) -> None:
        """Allow Host values naming the port we actually bound (known only after binding);
        ``own_names``: this machine's names and addresses, when it listens on every interface;
        ``earlier``: ports this process listened on before a settings change moved it, which
        connections kept alive from then still name (the check is against foreign names: DNS
        rebinding; one of our names with a port that was ours is no threat)."""
        ports = {port, *earlier}
        hosts: set[str] = set()
        for entry in (*LOOPBACK_HOSTS, *self._extra_names, *own_names):
            name, named = host_entry(entry) or (entry, None)
            # A name given with a port is what a load balancer or ingress in front is called by
            # (``switchboard.corp:443``): its clients send that Host, without the port when it is
            # their scheme's default.
            for p in ports if named is None else {named}:
                hosts.add(f"{name}:{p}")
                if p in (80, 443) and (named is not None or p == 80):
                    hosts.add(name)
        self._allowed_hosts = frozenset(hosts)

    def origin_allowed(self, origin: str | None) -> bool:
        return origin is not None and origin in self.cors_origins

    def check(self, request: web.BaseRequest) -> GatewayError | None:
        """The reason to refuse this request, whoever sends it, or None to let it through."""
        headers = request.headers
        if not request.raw_path.startswith("/"):
            return InvalidRequest("request target must be a path, not an absolute URL")
        host = headers.get("Host")
        if not host:
            return InvalidRequest("the Host header is required")
        if host not in self._allowed_hosts and host.lower() not in self._allowed_hosts:
            if not _HOST_SHAPE.match(host):
                return InvalidRequest("the Host header is malformed")
            return Forbidden(
                f"Host {host!r} is not allowed. Call the gateway as localhost or 127.0.0.1 "
                "(other names can be added to [server].allowed_hosts)."
            )
        origin = headers.get("Origin")
        if origin is not None and origin not in self.cors_origins:
            return Forbidden(f"Origin {origin!r} is not allowed (add it to [server].cors_origins to permit it).")
        if origin is None and headers.get("Sec-Fetch-Site") == "cross-site":
            return Forbidden("cross-site browser requests are not allowed")
        return None

    def check_body(self, request: web.BaseRequest) -> GatewayError | None:
        """The reason to refuse the body of a request to a route that takes JSON, or None."""
        if request.method not in _BODY_METHODS:
            return None
        headers = request.headers
        length = request.content_length
        if length is not None and length > self.max_body_bytes:
            return _too_large(self.max_body_bytes)
        problem = _not_json(headers)
        if problem is not None:
            return UnsupportedMediaType(problem)
        encoding = headers.get("Content-Encoding")
        if encoding is not None and encoding.strip().lower() not in _ACCEPTED_ENCODINGS:
            return UnsupportedMediaType(
                f"Content-Encoding {encoding!r} is not supported (use gzip, deflate, zstd or none)."
            )
        return None


# Types that say nothing of the body, which programs (not browsers) send JSON under.
_UNTYPED = frozenset({"", "application/octet-stream"})


def _not_json(headers: Mapping[str, str]) -> str | None:
    """Why the body is not to be read as UTF-8 JSON, or None when it is.

    Parsed here rather than with ``request.content_type``, which runs the ``email`` package's
    header parser on every request.
    """
    content_type = headers.get("Content-Type")
    if content_type == "application/json":
        return None
    mime, _, params = (content_type or "").partition(";")
    mime = mime.strip().lower()
    if mime in _UNTYPED:
        # Ollama reads such a body as JSON: LiteLLM's Ollama providers send none (older) or
        # aiohttp's label for raw bytes (1.110). A browser adds Origin or Sec-Fetch-Site to every
        # POST and a page cannot remove them, so a cross-site form or beacon is still refused (S9).
        browser = "Origin" in headers or "Sec-Fetch-Site" in headers
        return f"Content-Type must be application/json, not {mime or 'missing'}." if browser else None
    if mime != "application/json":
        return f"Content-Type must be application/json, not {mime or 'missing'}."
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return f"JSON must be UTF-8, not {charset}."
    return None


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body is larger than the limit of {limit // 1024} KiB")
