"""The Windows installer from a Windows-built bundle (``pyinstaller build.spec`` on Windows):
both programs signed, packed by NSIS (``switchboard.nsi``), the installer signed, every signature
verified.

    python installers/windows/package.py dist/switchboard --out release/

The certificate comes from the environment only: ``WINDOWS_CERT_PFX_BASE64`` (a PKCS#12 file,
base64) and ``WINDOWS_CERT_PASSWORD``. It is written to a private temporary file for the run and
deleted after; the password never goes on a command line (S31). On Windows ``signtool`` signs,
from the user's certificate store, into which the certificate is imported for the run (PowerShell
reads the password from the environment) and removed after; elsewhere ``osslsigncode`` signs,
reading the password from a private file. Both time-stamp (``SWITCHBOARD_TIMESTAMP_URL``, default
DigiCert's RFC 3161 server; ``none`` for an offline test). Without a certificate the script stops,
unless ``--unsigned`` says a test build is meant. ``makensis`` comes from NSIS (``choco install
nsis`` on Windows, ``apt-get install nsis`` on Linux). Every command's exit code is checked.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from project import name_and_version

HERE = Path(__file__).resolve().parent
PROGRAMS = ("switchboard.exe", "switchboard-gateway.exe")
TIMESTAMP = "http://timestamp.digicert.com"


def run(*command: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"package: {Path(command[0]).name} exited {done.returncode}\n{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


def makensis(bundle: Path, version: str, out: Path) -> Path:
    tool = shutil.which("makensis")
    if tool is None:
        raise SystemExit("package: makensis not found (install NSIS)")
    installer = out / f"Switchboard-{version}-setup.exe"
    # makensis takes Windows paths on Windows and POSIX paths elsewhere; the script joins with "\\".
    run(
        tool,
        "-V2",
        "-WX",
        f"-DVERSION={version}",
        f"-DBUNDLE={bundle.resolve()}",
        f"-DOUTFILE={installer.resolve()}",
        str(HERE / "switchboard.nsi"),
    )
    return installer


class Signer:
    """Signs and verifies Authenticode signatures with the certificate from the environment."""

    def __init__(self, pfx: Path, password: str, timestamp: str | None, ca_file: Path | None) -> None:
        self._pfx, self._password, self._timestamp, self._ca = pfx, password, timestamp, ca_file
        self._thumbprint: str | None = None

    def __enter__(self) -> Signer:
        if os.name == "nt":
            from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

            cert = pkcs12.load_key_and_certificates(self._pfx.read_bytes(), self._password.encode())[1]
            if cert is None:
                raise SystemExit("package: the PFX holds no certificate")
            self._thumbprint = (
                hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()
            )  # the certificate store names it so
            run(
                "powershell",
                "-NoProfile",
                "-Command",
                "Import-PfxCertificate -FilePath $env:SB_PFX -CertStoreLocation Cert:\\CurrentUser\\My "
                "-Password (ConvertTo-SecureString -String $env:WINDOWS_CERT_PASSWORD -AsPlainText -Force) | Out-Null",
                env={**os.environ, "SB_PFX": str(self._pfx), "WINDOWS_CERT_PASSWORD": self._password},
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thumbprint is not None:
            run("powershell", "-NoProfile", "-Command", f"Remove-Item Cert:\\CurrentUser\\My\\{self._thumbprint}")

    def sign(self, target: Path) -> None:
        if self._thumbprint is not None:
            stamp = ["/tr", self._timestamp, "/td", "sha256"] if self._timestamp else []
            run("signtool", "sign", "/sha1", self._thumbprint, "/fd", "sha256", *stamp, str(target))
            run("signtool", "verify", "/pa", str(target))
            return
        with tempfile.TemporaryDirectory() as folder:
            secret = Path(folder) / "pass"
            secret.write_text(self._password, encoding="utf-8")
            secret.chmod(0o600)
            signed = Path(folder) / target.name
            stamp = ["-ts", self._timestamp] if self._timestamp else []
            run(
                "osslsigncode",
                "sign",
                "-pkcs12",
                str(self._pfx),
                "-readpass",
                str(secret),
                "-h",
                "sha256",
                "-n",
                "Switchboard",
                *stamp,
                "-in",
                str(target),
                "-out",
                str(signed),
            )
            shutil.move(signed, target)
        said = run("osslsigncode", "verify", *(["-CAfile", str(self._ca)] if self._ca else []), "-in", str(target))
        if "Signature verification: ok" not in said:
            raise SystemExit(f"package: the signature on {target.name} does not verify\n{said}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the Windows onedir bundle (dist/switchboard)")
    parser.add_argument("--out", type=Path, default=Path("release"), help="where the installer goes")
    parser.add_argument("--unsigned", action="store_true", help="no signatures (test builds only)")
    args = parser.parse_args(argv)
    for program in PROGRAMS:
        if not (args.bundle / program).is_file():
            raise SystemExit(f"package: {args.bundle} has no {program} (build the bundle on Windows)")
    encoded = os.environ.get("WINDOWS_CERT_PFX_BASE64", "").strip()
    if not encoded and not args.unsigned:
        raise SystemExit(
            "package: set WINDOWS_CERT_PFX_BASE64 and WINDOWS_CERT_PASSWORD to sign, "
            "or pass --unsigned for a test build"
        )
    _, version = name_and_version()
    args.out.mkdir(parents=True, exist_ok=True)
    if not encoded:
        installer = makensis(args.bundle, version, args.out)
    else:
        timestamp = os.environ.get("SWITCHBOARD_TIMESTAMP_URL", TIMESTAMP)
        ca = os.environ.get("SWITCHBOARD_SIGN_CA_FILE")  # a test's own CA; real certificates chain to the system's
        with tempfile.TemporaryDirectory() as folder:
            pfx = Path(folder) / "cert.pfx"
            pfx.write_bytes(base64.b64decode(encoded))
            pfx.chmod(0o600)
            with Signer(
                pfx,
                os.environ.get("WINDOWS_CERT_PASSWORD", ""),
                None if timestamp == "none" else timestamp,
                Path(ca) if ca else None,
            ) as signer:
                for program in PROGRAMS:
                    signer.sign(args.bundle / program)
                installer = makensis(args.bundle, version, args.out)
                signer.sign(installer)
    print(f"{installer}  {installer.stat().st_size / 1048576:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
