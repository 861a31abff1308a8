"""Which certificates an upstream's TLS is verified against: the operating system's trust store.

Python's own default context reads OpenSSL's compiled-in paths: not the macOS keychain, not
Windows' certificate store, and in a frozen app a path on the build machine. A company that
inspects TLS puts its root in the system store, so that is the store asked, through
``truststore`` (what pip does): the keychain on macOS, the certificate store on Windows, the
system bundle on Linux (OpenSSL's default paths, which ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``
redirect). Only where truststore cannot be used — not installed, or a platform it does not
support — does ``certifi``'s bundle stand in (public roots only). ``[network] ca_file`` adds one
more root on top of either, for a company whose root is not in the system store.

One context per ``ca_file``, made once and shared by every upstream connection (the gateway's
transport: providers, sign-ins, token refreshes, quota reads) and the app's update downloads.
Verification is always on: no setting turns it off.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Literal

from gateway.errors import ConfigError

log = logging.getLogger("gateway.transport")

Source = Literal["system", "certifi"]

_MADE: dict[Path | None, ssl.SSLContext] = {}
_SOURCE: list[Source] = []


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """The context for https upstreams, trusting the system's roots and ``ca_file``'s (PEM), made
    once per ``ca_file`` (loading a store takes milliseconds; a handshake reuses it)."""
    made = _MADE.get(ca_file)
    if made is None:
        made = _MADE[ca_file] = _make(ca_file)
    return made


def trust_source() -> Source:
    """Where the roots come from on this machine: the system store, or certifi's bundle."""
    if not _SOURCE:
        tls_context()
    return _SOURCE[0]


def _make(ca_file: Path | None) -> ssl.SSLContext:
    context, why_not = _base()
    if not _SOURCE:  # said once, whatever ca_files follow
        _SOURCE.append("system" if not why_not else "certifi")
        if why_not:
            log.warning("the system's trust store cannot be used (%s): certifi's bundle instead", why_not)
        else:
            log.info("verifying upstream certificates against the system's trust store")
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"the certificate file {ca_file} cannot be used: it must hold PEM certificates",
                detail=str(exc),
            ) from None
    # What create_default_context sets, and truststore's context keeps unless told otherwise.
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    return context


def _base() -> tuple[ssl.SSLContext, str]:
    """A context without ``ca_file`` and, when it is certifi's, why truststore could not serve."""
    try:
        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT), ""
    except (ImportError, NotImplementedError, OSError) as exc:  # not bundled, or a platform it cannot serve
        why_not = str(exc) or type(exc).__name__
    import certifi

    return ssl.create_default_context(cafile=certifi.where()), why_not
