"""A throwaway certificate authority and a local HTTPS server it vouches for: how a release checks
that the frozen bundle verifies TLS against the operating system's trust store.

    python installers/test_ca.py DIR      # writes DIR/ca.pem (the root), server.pem, server-key.pem

The release workflow makes the CA first, adds ``ca.pem`` to the user's store (the macOS login
keychain, Windows' CurrentUser Root store; on Linux ``SSL_CERT_FILE`` is what the store means to
OpenSSL), then ``smoke_test.py --ca DIR`` serves HTTPS with the server certificate and has the
bundle's self-test ask it once. Valid for a day; the keys never leave DIR.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "Switchboard Test Root"


def make_test_ca(folder: Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Path:
    """The root and a server certificate it signed for ``names`` (host names or IP addresses; the
    first is its common name), in ``folder``; returns the root's PEM file."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ROOT_NAME)])
    root = (
        _valid(x509.CertificateBuilder(), now)
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # certificate and CRL signing only
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        _valid(x509.CertificateBuilder(), now)
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(root_name)
        .public_key(server_key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server-key.pem").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    return ca_file


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _valid(builder: x509.CertificateBuilder, now: datetime.datetime) -> x509.CertificateBuilder:
    return (
        builder.serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def server_context(folder: Path) -> ssl.SSLContext:
    """What the test server presents: the certificate the CA in ``folder`` signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server-key.pem")
    return context


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def https_server(folder: Path) -> Iterator[str]:
    """A server on localhost answering ``hello`` over TLS, in a thread; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.socket = server_context(folder).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    print(make_test_ca(Path(sys.argv[1])))
