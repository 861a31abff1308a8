"""The installer scripts that can run here, run; the rest checked as far as Linux allows.

Windows: NSIS cross-builds the installer and osslsigncode signs it here, exactly as on a Linux
release job; the payload stands in for a Windows PyInstaller build (two small real PE programs).
The certificate is a throwaway self-signed code-signing certificate, given the way a release gives
it: base64 PFX and password in the environment.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID
from fakes.certificates import self_signed

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "pfx-password-canary-5c1d"
needs_nsis = pytest.mark.skipif(
    not (shutil.which("makensis") and shutil.which("osslsigncode")), reason="needs nsis and osslsigncode (CI has them)"
)


def code_signing_certificate(folder: Path) -> tuple[str, Path]:
    """A self-signed code-signing certificate: its PFX in base64, and its PEM as the CA to trust."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed("Switchboard CI Throwaway", key, x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]))
    pfx = pkcs12.serialize_key_and_certificates(
        b"ci", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )
    ca = folder / "ca.pem"
    ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return base64.b64encode(pfx).decode(), ca


def small_program(folder: Path) -> Path:
    """A real PE executable, made by NSIS: what osslsigncode can sign in place of a PyInstaller .exe."""
    (folder / "hello.nsi").write_text(
        'Unicode true\nOutFile "hello.exe"\nRequestExecutionLevel user\nSilentInstall silent\nSection\nSectionEnd\n'
    )
    subprocess.run(["makensis", "-V1", "hello.nsi"], cwd=folder, check=True, timeout=60)
    return folder / "hello.exe"


def package(bundle: Path, out: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "installers" / "windows" / "package.py"), str(bundle), "--out", str(out), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@needs_nsis
def test_the_windows_installer_is_built_and_it_and_both_programs_are_signed(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    program = small_program(tmp_path)
    for name in ("switchboard.exe", "switchboard-gateway.exe"):
        shutil.copy(program, bundle / name)
    (bundle / "_internal" / "base_library.zip").write_bytes(b"stands in for the bundle's files")
    pfx, ca = code_signing_certificate(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINDOWS_CERT")}

    refused = package(bundle, tmp_path / "out", env)
    assert refused.returncode != 0 and "WINDOWS_CERT_PFX_BASE64" in refused.stderr  # never unsigned by accident

    signing = {
        **env,
        "WINDOWS_CERT_PFX_BASE64": pfx,
        "WINDOWS_CERT_PASSWORD": PASSWORD,
        "SWITCHBOARD_TIMESTAMP_URL": "none",
        "SWITCHBOARD_SIGN_CA_FILE": str(ca),
    }
    done = package(bundle, tmp_path / "out", signing)
    assert done.returncode == 0, done.stdout + done.stderr
    (installer,) = (tmp_path / "out").iterdir()
    assert installer.name == "Switchboard-0.1.0-setup.exe"
    data = installer.read_bytes()
    assert data[:2] == b"MZ" and b"Nullsoft" in data
    for signed in (installer, bundle / "switchboard.exe", bundle / "switchboard-gateway.exe"):
        said = subprocess.run(
            ["osslsigncode", "verify", "-CAfile", str(ca), "-in", str(signed)], capture_output=True, text=True
        )
        assert "Signature verification: ok" in said.stdout, said.stdout + said.stderr
    assert PASSWORD not in done.stdout + done.stderr and not list(tmp_path.glob("**/*.pfx"))  # the PFX was removed

    wrong = package(bundle, tmp_path / "again", {**signing, "WINDOWS_CERT_PASSWORD": "not it"})
    assert wrong.returncode != 0 and "osslsigncode exited" in wrong.stderr


def test_the_nsis_script_installs_per_user_and_cleans_up_what_it_made() -> None:
    """What the script says, read here where the installer cannot be run: per user, the same Run
    value the app writes, and an uninstaller removing every value and file it made."""
    script = (ROOT / "installers" / "windows" / "switchboard.nsi").read_text()
    from app.platform.autostart import RUN_KEY, RUN_VALUE

    assert "RequestExecutionLevel user" in script and 'InstallDir "$LOCALAPPDATA\\Programs\\${NAME}"' in script
    assert f'!define RUN_KEY "{RUN_KEY}"' in script and f'!define NAME "{RUN_VALUE}"' in script
    install, uninstall = script.split('Section "Uninstall"')
    for made in (
        'WriteRegStr HKCU "${RUN_KEY}" "${NAME}"',
        'WriteRegStr HKCU "${UNINSTALL_KEY}"',
        'CreateShortcut "$SMPROGRAMS\\${NAME}.lnk"',
    ):
        assert made in install
    for undone in (
        'DeleteRegValue HKCU "${RUN_KEY}" "${NAME}"',
        'DeleteRegKey HKCU "${UNINSTALL_KEY}"',
        'Delete "$SMPROGRAMS\\${NAME}.lnk"',
        'RMDir /r "$INSTDIR\\_internal"',
        'Delete "$INSTDIR\\uninstall.exe"',
    ):
        assert undone in uninstall


MAC_SECRETS = {
    "MACOS_CERT_P12_BASE64": base64.b64encode(b"p12-canary-bytes").decode(),
    "MACOS_CERT_PASSWORD": "p12-password-canary",
    "MACOS_SIGN_IDENTITY": "Developer ID Application: Switchboard CI (TEAM123456)",
    "ASC_KEY_ID": "KEY123",
    "ASC_ISSUER_ID": "issuer-uuid",
    "ASC_KEY_P8": "-----BEGIN PRIVATE KEY-----\\np8-canary\\n-----END PRIVATE KEY-----",
}


def test_the_macos_steps_sign_with_the_hardened_runtime_notarize_and_staple(tmp_path: Path) -> None:
    """Checked dry here (no codesign on Linux): the commands, in order, with the real version and
    paths, and no secret in what is printed."""
    import plistlib

    app = tmp_path / "Switchboard.app"
    (app / "Contents").mkdir(parents=True)
    (app / "Contents" / "Info.plist").write_bytes(plistlib.dumps({"CFBundleName": "Switchboard", "LSUIElement": True}))
    script = [
        sys.executable,
        str(ROOT / "installers" / "macos" / "package.py"),
        str(app),
        "--out",
        str(tmp_path / "out"),
    ]
    bare = {k: v for k, v in os.environ.items() if k not in MAC_SECRETS}
    refused = subprocess.run(script, env=bare, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "MACOS_CERT_P12_BASE64" in refused.stderr
    if sys.platform != "darwin":
        real = subprocess.run(script, env={**bare, **MAC_SECRETS}, capture_output=True, text=True, timeout=60)
        assert real.returncode != 0 and "need macOS" in real.stderr
    done = subprocess.run(
        [*script, "--dry-run"], env={**bare, **MAC_SECRETS}, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    commands = [line[2:] for line in done.stdout.splitlines() if line.startswith("$ ")]
    order = [
        "security create-keychain",
        "security import",
        "codesign --force",
        "codesign --verify",
        "hdiutil create",
        "codesign --force",
        "xcrun notarytool submit",
        "xcrun stapler staple",
        "xcrun stapler validate",
        "spctl --assess",
        "security delete-keychain",
    ]
    found = iter(commands)
    assert all(any(c.startswith(step) for c in found) for step in order), commands
    signing = next(c for c in commands if c.startswith("codesign --force") and "--deep" in c)
    assert (
        "--options runtime" in signing
        and "--timestamp" in signing
        and str(ROOT / "installers" / "macos" / "entitlements.plist") in signing
    )
    assert any(c.endswith("Switchboard-0.1.0.dmg") for c in commands if c.startswith("hdiutil create"))
    for secret in ("p12-password-canary", MAC_SECRETS["MACOS_CERT_P12_BASE64"], "p8-canary"):
        assert secret not in done.stdout + done.stderr
    entitlements = plistlib.loads((ROOT / "installers" / "macos" / "entitlements.plist").read_bytes())
    assert entitlements == {"com.apple.security.cs.allow-unsigned-executable-memory": True}


def test_a_release_folder_is_never_left_with_unsigned_checksums(tmp_path: Path) -> None:
    (tmp_path / "switchboard_9.9.9_amd64.deb").write_bytes(b"deb")
    bare = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "installers" / "checksums.py"), str(tmp_path)],
        env=bare,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "SWITCHBOARD_GPG_KEY" in done.stderr and not (tmp_path / "SHA256SUMS").exists()
    only_gpg = {**bare, "SWITCHBOARD_GPG_KEY": "ABCDEF"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "installers" / "checksums.py"), str(tmp_path)],
        env=only_gpg,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "SWITCHBOARD_UPDATE_SIGNING_KEY" in done.stderr
