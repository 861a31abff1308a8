"""What a window says when something goes wrong: plain words, the fix as a button where there is
one, and the technical text one click away ("Details"). The gateway's failures carry their fix and
detail (``gateway.Fix``); the app's own (the update check's HTTP) are put in words here.

``Said`` is a ``str``, so every ``on_error(message)`` that passes a failure's words along carries its
fix and detail with them to ``Page.say``, which shows the button and the Details.
"""

from __future__ import annotations

import errno
import socket
import ssl

import httpx

from gateway import ConfigError, Fix, FixId, GatewayError, ListenError, fix_of

# The fixes the app offers as a button, and what the button says; a button shows where a page makes
# that fix (``Page.fixes``). The rest, and those no page makes yet, are said in words only.
BUTTONS: dict[FixId, str] = {
    "choose_port": "Use another port…",
    "undo_change": "Undo that change",
    "add_client_key": "Create a client key…",
    "store_key": "Add its key…",
    "sign_in_chatgpt": "Sign in with ChatGPT instead",
    "sign_in_copilot": "Sign in with GitHub instead",
    "unlock_secrets": "Enter the passphrase…",
    "set_aside_secrets": "Set the unreadable file aside…",
    "trust_certificate": "Choose a company certificate…",
}
OFFLINE = "Check the internet connection."
UNTRUSTED = "A company network that inspects secure connections needs its root certificate added in Settings."
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


class Said(str):
    """Words for a window, with the fix and technical detail they came with."""

    fix: Fix | None
    detail: str

    def __new__(cls, text: str, fix: Fix | None = None, detail: str = "") -> Said:
        said = super().__new__(cls, text)
        said.fix, said.detail = fix, detail
        return said

    def __add__(self, more: str) -> Said:  # words added keep the fix
        return Said(str(self) + more, self.fix, self.detail)

    def prefixed(self, before: str) -> Said:
        """``before`` these words (what was being done when they came), the fix and detail kept."""
        return Said(before + str(self), self.fix, self.detail)


def said_of(exc: BaseException) -> Said:
    """What went wrong: in the gateway's own words and fix where it has them; an HTTP failure of
    the app's own in words, its system text kept as the detail."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        return Said(f"{exc.request.url.host} answered with an error ({status}).", detail=str(exc))
    if isinstance(exc, httpx.TimeoutException):
        host = exc.request.url.host if _has_request(exc) else "The server"
        return Said(f"{host} did not answer in time. {OFFLINE}", Fix("check_connection", host), _technical(exc))
    if isinstance(exc, httpx.TransportError) or _network(exc):
        host = exc.request.url.host if isinstance(exc, httpx.TransportError) and _has_request(exc) else ""
        if _untrusted(exc):  # reached, but its certificate is from no root this computer trusts
            return Said(
                f"{host or 'The server'}'s certificate is not one this computer trusts. {UNTRUSTED}",
                Fix("trust_certificate", host),
                _technical(exc),
            )
        return Said(
            f"{host or 'The server'} cannot be reached. {OFFLINE}", Fix("check_connection", host), _technical(exc)
        )
    if isinstance(exc, OSError) and exc.errno is not None:  # a file or folder: its system text is the detail
        return Said(_file_words(exc), detail=_technical(exc))
    fix, detail = fix_of(exc)
    text = str(getattr(exc, "message", "") or exc) or "Something went wrong."
    return Said(text, fix, detail or ("" if fix is not None or _plain(exc) else f"{type(exc).__name__}: {exc}"))


def _untrusted(exc: BaseException) -> bool:
    """A certificate refused somewhere in what caused ``exc`` (httpx wraps the ssl error twice)."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, ssl.SSLCertVerificationError):
        seen = seen.__cause__ or seen.__context__
    return seen is not None


def _network(exc: BaseException) -> bool:
    """A failure to reach another computer, as the system says it (not a file's)."""
    return isinstance(exc, ConnectionError | TimeoutError | socket.gaierror | socket.herror) or (
        isinstance(exc, OSError) and exc.errno in _UNREACHABLE
    )


def _file_words(exc: OSError) -> str:
    """What went wrong with a file, in words: which file, and why where the system says a reason
    a person can act on."""
    name = f"“{exc.filename}”" if exc.filename else "a file it needs"
    if isinstance(exc, PermissionError):
        return f"Switchboard is not allowed to read or change {name}."
    if isinstance(exc, FileNotFoundError):
        return f"Switchboard could not find {name}."
    if exc.errno == errno.ENOSPC:
        return f"There is no room left on the disk for {name}."
    if exc.errno == errno.EROFS:
        return f"Switchboard cannot change {name}: its disk is read-only."
    return f"Switchboard could not read or write {name}."


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        exc.request  # noqa: B018  # raises when the error came without one
    except RuntimeError:
        return False
    return True


def _technical(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _plain(exc: BaseException) -> bool:
    """The gateway's own failures are words already; anything else keeps its type as the detail."""
    return isinstance(exc, GatewayError | ConfigError | ListenError)
