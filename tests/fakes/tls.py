"""A throwaway certificate authority for TLS tests, the one the release's smoke test uses
(``installers/test_ca.py``): its root (``ca.pem``, what a test trusts through ``ca_file`` or
``SSL_CERT_FILE``) and a server certificate it signs for localhost and 127.0.0.1."""

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
    """Made in ``folder``: ``ca_file`` (the root) and what ``server_context`` presents."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ca_file: Path = _CA.make_test_ca(folder)

    def server_context(self) -> ssl.SSLContext:
        context: ssl.SSLContext = _CA.server_context(self.folder)
        return context


def https_server(folder: Path) -> AbstractContextManager[str]:
    """A server on 127.0.0.1 answering ``hello`` with the certificate the CA in ``folder`` signed;
    yields its URL (``https://localhost:PORT/``)."""
    server: AbstractContextManager[str] = _CA.https_server(folder)
    return server
