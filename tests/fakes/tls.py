"""The throwaway certificate authority for TLS tests, the one the release's smoke test uses
(``installers/test_ca.py``, which needs no tests/ in the bundle): its root (``ca.pem``, what a test
trusts through ``ca_file`` or ``SSL_CERT_FILE``) and a server certificate it signs for the names
asked (localhost and 127.0.0.1 by default; a name only a proxy reaches, ``forward_proxy``'s)."""

from __future__ import annotations

import importlib.util
import ssl
from contextlib import AbstractContextManager
from pathlib import Path
from types import ModuleType


def _installers_test_ca() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "installers" / "test_ca.py"
    spec = importlib.util.spec_from_file_location("installers_test_ca", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_CA = _installers_test_ca()


class TestCA:
    """Made in ``folder``: ``ca_file`` (the root), what ``server_context`` presents (a certificate
    for ``names``) and a ``client_context`` trusting the root alone."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, folder: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> None:
        self.folder = folder
        self.ca_file: Path = _CA.make_test_ca(folder, names)

    def server_context(self) -> ssl.SSLContext:
        context: ssl.SSLContext = _CA.server_context(self.folder)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


def https_server(folder: Path) -> AbstractContextManager[str]:
    """A server on 127.0.0.1 answering ``hello`` with the certificate the CA in ``folder`` signed;
    yields its URL (``https://localhost:PORT/``)."""
    server: AbstractContextManager[str] = _CA.https_server(folder)
    return server
