"""Which certificates an upstream's TLS is verified against: the operating system's trust store.

Python's own default context reads OpenSSL's compiled-in paths: not the macOS keychain, not
Windows' certificate store, and in a frozen app a path on the build machine. A company that
inspects TLS puts its root in the system store, so that is the store asked, as pip asks it:

- macOS and Windows: ``truststore``, which has the keychain or the certificate store verify each
  chain (a company's root installed there is trusted).
- Linux and the BSDs: the system bundle, found as truststore finds it (OpenSSL's default paths,
  which ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` redirect, else the distributions' usual bundle
  files), loaded once. truststore's own context reloads that bundle at every handshake: 25-40 ms
  of CPU per new connection here, against ~2 ms with the bundle loaded once, for the same roots.

Only where truststore cannot be used (not bundled, or a platform it cannot serve) does
``certifi``'s bundle stand in (public roots only). ``[network] ca_file`` adds roots on top of any.

One context per ``ca_file``, made once and shared by every upstream connection (the gateway's
transport: providers, sign-ins, token refreshes, quota reads) and the app's update downloads.
Verification is always on: no setting turns it off.
"""

from __future__ import annotations

import logging
import os
import ssl
import sys
from pathlib import Path
from typing import Literal

from gateway.errors import ConfigError

log = logging.getLogger("gateway.transport")

Source = Literal["system", "certifi"]

_MADE: dict[tuple[Path | None, tuple[int, int]], ssl.SSLContext] = {}
_SOURCE: list[Source] = []


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """The context for https upstreams, trusting the system's roots and ``ca_file``'s (PEM), made
    once per ``ca_file`` as it is now (loading a store takes milliseconds; a handshake reuses it):
    a file given new roots under the same name is read again. Blocking: at start, or in a thread."""
    key = (ca_file, _version(ca_file))
    made = _MADE.get(key)
    if made is None:
        made = _MADE[key] = _make(ca_file)
    return made


def _version(ca_file: Path | None) -> tuple[int, int]:
    """When ``ca_file`` was last written, and its size ((0, 0): none, or none to read)."""
    try:
        found = ca_file.stat() if ca_file is not None else None
    except OSError:
        found = None  # _make says what is wrong with it
    return (found.st_mtime_ns, found.st_size) if found is not None else (0, 0)


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
            # the usual case: not among a start's few lines (a busy port is one line); --self-test names it
            log.debug("verifying upstream certificates against the system's trust store")
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
    """A context without ``ca_file`` and, when it is certifi's, why the system store could not serve."""
    if sys.platform not in ("darwin", "win32"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if _load_system_bundle(context):
            return context, ""
        why_not = "no system certificate bundle found"
    else:
        try:
            import truststore

            return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT), ""
        except (ImportError, NotImplementedError, OSError) as exc:  # not bundled, or a platform it cannot serve
            why_not = str(exc) or type(exc).__name__
    import certifi

    return ssl.create_default_context(cafile=certifi.where()), why_not


# Where distributions keep their bundle when OpenSSL's compiled-in paths (a frozen app's are the
# build machine's) hold none: truststore's list, after certifi-system-store's.
_BUNDLES = (
    "/etc/ssl/cert.pem",  # Alpine, Arch, Fedora 34-43, OpenWRT, RHEL 9-10, BSD
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora 44+, RHEL 11+
    "/etc/pki/tls/cert.pem",  # older Fedora, RHEL, CentOS
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu
    "/etc/ssl/ca-bundle.pem",  # SUSE
)


def _load_system_bundle(context: ssl.SSLContext) -> bool:
    """OpenSSL's default paths when they hold certificates, else the first distribution bundle
    there is; False when there is none."""
    defaults = ssl.get_default_verify_paths()
    if defaults.cafile or (defaults.capath and any(_hashed(n) for n in os.listdir(defaults.capath))):
        context.set_default_verify_paths()
        return True
    bundle = next((path for path in _BUNDLES if os.path.isfile(path)), None)
    if bundle is not None:
        context.load_verify_locations(cafile=bundle)
    return bundle is not None


def _hashed(name: str) -> bool:
    """A certificate in an OpenSSL hashed directory: ``1a2b3c4d.0``."""
    stem, _, index = name.partition(".")
    return len(stem) == 8 and index.isdigit() and all(c in "0123456789abcdefABCDEF" for c in stem)
