"""``SHA256SUMS`` over release files, signed twice: clear-signed with GPG (``SHA256SUMS.asc``,
for people and package tools) and with the Ed25519 release key (``SHA256SUMS.sig``, base64, what
the app's update check verifies against the public key built into it). For the Linux packages,
and for the whole release once every OS's files are together.

    python installers/checksums.py release/

The GPG key is named by ``SWITCHBOARD_GPG_KEY`` (a key id or fingerprint in the keyring
``GNUPGHOME`` points at; its passphrase, if any, in ``SWITCHBOARD_GPG_PASSPHRASE``, given to gpg
on its standard input, never as an argument). The release key is ``SWITCHBOARD_UPDATE_SIGNING_KEY``
(the raw 32-byte Ed25519 private key, base64). Every command's exit code is checked.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

SUMS = "SHA256SUMS"


def write_sums(files: list[Path], folder: Path) -> Path:
    sums = folder / SUMS
    lines = [f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in sorted(files)]
    sums.write_text("".join(lines), encoding="utf-8")
    return sums


def sign(sums: Path, key: str, passphrase: str | None) -> Path:
    signed = sums.with_name(sums.name + ".asc")
    command = ["gpg", "--batch", "--yes", "--local-user", key, "--clearsign", "--output", str(signed)]
    if passphrase is not None:
        command += ["--pinentry-mode", "loopback", "--passphrase-fd", "0"]
    for step, stdin in (([*command, str(sums)], passphrase or ""), (["gpg", "--batch", "--verify", str(signed)], "")):
        done = subprocess.run(step, input=stdin, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"checksums: {' '.join(step[:3])}… exited {done.returncode}\n{done.stderr}")
    return signed


def sign_for_updates(sums: Path, private_key: str) -> Path:
    """``SHA256SUMS.sig``: the Ed25519 signature the app's update check verifies."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key, validate=True))
    except ValueError:
        raise SystemExit(
            "checksums: SWITCHBOARD_UPDATE_SIGNING_KEY is not a base64 Ed25519 private key (32 bytes)"
        ) from None
    signature = sums.with_name(sums.name + ".sig")
    signature.write_text(base64.b64encode(key.sign(sums.read_bytes())).decode("ascii") + "\n", encoding="ascii")
    return signature


def sum_and_sign(files: list[Path], folder: Path) -> list[Path]:
    """``SHA256SUMS`` for ``files`` in ``folder``, and its signatures by the keys named."""
    made = [write_sums(files, folder)]
    key = os.environ.get("SWITCHBOARD_GPG_KEY", "").strip()
    if key:
        made.append(sign(made[0], key, os.environ.get("SWITCHBOARD_GPG_PASSPHRASE")))
    release_key = os.environ.get("SWITCHBOARD_UPDATE_SIGNING_KEY", "").strip()
    if release_key:
        made.append(sign_for_updates(made[0], release_key))
    return made


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        raise SystemExit("usage: python installers/checksums.py RELEASE_FOLDER")
    for needed in ("SWITCHBOARD_GPG_KEY", "SWITCHBOARD_UPDATE_SIGNING_KEY"):
        if not os.environ.get(needed, "").strip():
            raise SystemExit(f"checksums: set {needed}: a release's checksums are always signed")
    folder = Path(args[0])
    files = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(SUMS)]
    for path in sum_and_sign(files, folder):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
