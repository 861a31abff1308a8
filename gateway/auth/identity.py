"""Pipeline step 3: who is calling.

One policy for every header that can carry a key (``Authorization: Bearer`` and ``x-api-key``):

- A value that claims to be a Switchboard key (``sk-sb-``) must be a live one, on every route and
  from every address; otherwise 401, the same answer whichever header carried it.
- Two carriers with different values: 401.
- Callers beyond loopback, and every caller when keys are required, need a valid key.
- A caller without a Switchboard key is this computer's user (``LOCAL``) only when it arrives over
  loopback *and* names the gateway by a loopback name (``localhost``, ``127.0.0.1``, ``[::1]``):
  in LAN mode the machine's own LAN names are allowed hosts too, and a request naming one is a
  request meant for the network, keyed like one (SECURITY.md S2, S10). Many tools insist on
  sending some key (``ollama``, ``sk-anything``) to a local server; that placeholder is not ours
  and is not taken as one.
- A peer with too many failures in a minute is refused with 429 for a while (brute force, S16).
- The tray app's own key (``app_key``) makes its caller this computer's user: the app tests models
  through the HTTP address as a tool would, also where keys are required. It is made at random for
  each start and lives only in this process's memory: never stored, listed or audited as a client key.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping

from gateway.auth.callers import LOCAL, Caller
from gateway.auth.client_keys import looks_like_ours
from gateway.auth.key_table import ClientKeys, as_caller
from gateway.clock import Clock
from gateway.core.sliding_window import Window
from gateway.errors import LimitExceeded, Unauthorized
from gateway.transport.addresses import is_loopback, names_loopback

MAX_CREDENTIAL = 1024  # characters; longer is no credential of ours (and is not looked at)
FAILURES_PER_MINUTE = 20
_MAX_PEERS = 10_000


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header; None without one (or another scheme)."""
    scheme, _, value = headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _key_error(message: str) -> Unauthorized:
    return Unauthorized(message, code="invalid_api_key")


class Identity:
    def __init__(
        self, keys: ClientKeys, clock: Clock, *, require_keys: bool, loopback: Callable[[str], bool] = is_loopback
    ) -> None:
        """``loopback``: which peer addresses are this computer."""
        self.keys = keys
        self.require_keys = require_keys
        self._clock = clock
        self._is_local = loopback
        self.app_key = f"sb-app-{secrets.token_urlsafe(32)}"  # not ``sk-sb-``: no client key's form
        self._failures: dict[str, Window] = {}
        self._loopback: dict[str, bool] = {}  # per peer address: parsing one costs microseconds
        self.failed: dict[str, int] = {}  # per peer, since the audit log last summarised them

    def presented(self, headers: Mapping[str, str]) -> str | None:
        """The credential the request carries, from whichever header; None when there is none."""
        bearer = bearer_token(headers)
        other = headers.get("x-api-key")
        for carried in (bearer, other):
            if carried is not None and (
                len(carried) > MAX_CREDENTIAL or not carried.isascii() or not carried.isprintable()
            ):
                raise _key_error("The API key is malformed.")
        if bearer and other and bearer != other:
            raise _key_error("Two different API keys were sent (Authorization and x-api-key); send one.")
        return bearer or other or None

    def caller(self, headers: Mapping[str, str], peer: str | None) -> Caller:
        """Who this request is from, or the refusal to answer with."""
        peer = peer or "unknown"
        if self._failures:
            self.throttle(peer)
        try:
            presented = self.presented(headers)
            if presented is not None and hmac.compare_digest(presented.encode(), self.app_key.encode()):
                return LOCAL
            if presented is not None and looks_like_ours(presented):
                record = self.keys.find(presented)
                if record is None:
                    raise _key_error("Invalid API key: it is not a key this gateway issued, or it was revoked.")
                return as_caller(record)
        except Unauthorized:
            self.failed_attempt(peer)  # a guess (a missing key is no guess, and is not counted)
            raise
        if self.require_keys or not self._is_loopback(peer):
            raise _key_error(
                "This gateway needs a client key: send it as 'Authorization: Bearer sk-sb-…' or 'x-api-key'."
            )
        if not names_loopback(headers.get("Host", "")):
            raise _key_error(
                "Without a client key, call the gateway as localhost, 127.0.0.1 or [::1]; "
                "under any other name send a key as 'Authorization: Bearer sk-sb-…' or 'x-api-key'."
            )
        return LOCAL

    def _is_loopback(self, peer: str) -> bool:
        known = self._loopback.get(peer)
        if known is None:
            if len(self._loopback) >= _MAX_PEERS:
                self._loopback.clear()
            known = self._loopback[peer] = self._is_local(peer)
        return known

    def throttle(self, peer: str) -> None:
        """Refuse a peer that has failed too often in the last minute."""
        window = self._failures.get(peer)
        if window is not None and (wait := window.wait(self._clock.monotonic(), 1, FAILURES_PER_MINUTE)) > 0:
            raise LimitExceeded(
                "Too many failed authentication attempts from this address; try again later.",
                retry_after=max(1, round(wait)),
            )

    def failed_attempt(self, peer: str) -> None:
        now = self._clock.monotonic()
        if len(self._failures) >= _MAX_PEERS:
            self._failures = {p: w for p, w in self._failures.items() if w.total(now)}
        window = self._failures.get(peer)
        if window is None:
            window = self._failures[peer] = Window(60, 12)
        window.add(now, 1)
        self.failed[peer] = self.failed.get(peer, 0) + 1

    def failures(self) -> dict[str, int]:
        """Failed attempts per peer since the last call (summarised into the audit log)."""
        failed, self.failed = self.failed, {}
        return failed
