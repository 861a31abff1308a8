"""Updates: is there a newer release, and is a downloaded installer the one the release signed.

The feed is a GitHub "latest release" document (``tag_name``, ``body``, ``html_url``, ``assets``
with ``name`` and ``browser_download_url``), at the address Settings give. A release carries
``SHA256SUMS`` and ``SHA256SUMS.sig``: an Ed25519 signature over the checksums file, made with the
release key (installers/checksums.py). An installer is offered only when the signature verifies
against the public key built into this copy and the installer's own SHA-256 is the one listed;
anything else is refused, said, and deleted. Pure: no Qt, no network, no disk — the fetching and
saving is app/update_http.py's.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FEED = "https://api.github.com/repos/switchboard-app/switchboard/releases/latest"
SUMS, SIGNATURE = "SHA256SUMS", "SHA256SUMS.sig"
FEED_LIMIT = 1 << 20
SUMS_LIMIT = 1 << 16
SIGNATURE_LIMIT = 1 << 10
INSTALLER_LIMIT = 1 << 30


class UpdateRefused(Exception):
    """The feed or a download is not what a release of ours looks like; the message says why."""


@dataclass(frozen=True, slots=True)
class Release:
    version: str
    notes: str
    page: str
    assets: dict[str, str] = field(default_factory=dict)  # name -> download address


def version_key(version: str) -> tuple[int, ...]:
    """``v1.10.2`` -> (1, 10, 2); anything after the numbers (``-rc1``) makes it not a release."""
    found = re.fullmatch(r"v?(\d+(?:\.\d+)*)", version.strip())
    if found is None:
        raise UpdateRefused(f"{version[:40]!r} is not a release version")
    return tuple(int(part) for part in found.group(1).split("."))


def check_address(url: str) -> None:
    """Updates come over HTTPS; a loopback address may be plain HTTP (a local feed)."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")):
        raise UpdateRefused(f"updates come over HTTPS, not from {url[:80]}")


def parse_feed(body: bytes) -> Release:
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise UpdateRefused("the release feed is not JSON") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("tag_name"), str)
        or data.get("draft")
        or data.get("prerelease")
    ):
        raise UpdateRefused("the release feed names no published release")
    assets = {
        a["name"]: a["browser_download_url"]
        for a in data.get("assets") or []
        if isinstance(a, dict) and isinstance(a.get("name"), str) and isinstance(a.get("browser_download_url"), str)
    }
    version = data["tag_name"].strip().removeprefix("v")
    version_key(version)
    notes, page = data.get("body"), data.get("html_url")
    return Release(
        version, notes.strip() if isinstance(notes, str) else "", page if isinstance(page, str) else "", assets
    )


def newer_release(feed: bytes, current: str) -> Release | None:
    """The feed's release when it is newer than ``current``, else None."""
    release = parse_feed(feed)
    return release if version_key(release.version) > version_key(current) else None


def installer_name(release: Release, platform: str = sys.platform, from_deb: bool | None = None) -> str | None:
    """This machine's installer among the release's files: the setup program on Windows, the disk
    image on macOS, on Linux the .deb where this copy came from one, else the tarball."""
    if platform == "win32":
        wanted = "-setup.exe"
    elif platform == "darwin":
        wanted = ".dmg"
    else:
        deb = Path("/var/lib/dpkg/info/switchboard.list").exists() if from_deb is None else from_deb
        wanted = ".deb" if deb else ".tar.gz"
    return next((name for name in sorted(release.assets) if name.endswith(wanted)), None)


def public_key(text: str) -> Any:
    """An Ed25519 public key from its base64 (the raw 32 bytes); None for none."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not text.strip():
        return None
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
    except ValueError:
        raise UpdateRefused("the release key in the settings is not a base64 Ed25519 public key") from None


def check_downloadable(release: Release, name: str, key: Any) -> None:
    """What must hold before anything is downloaded: a key to prove it with, and the files to prove."""
    if key is None:
        raise UpdateRefused(
            "this copy carries no release key, so no download can be proven ours: get the update from the release page"
        )
    missing = [n for n in (name, SUMS, SIGNATURE) if n not in release.assets]
    if missing:
        raise UpdateRefused(f"the release has no {', '.join(missing)}")


def signed_digest(sums: bytes, signature: bytes, key: Any, name: str) -> str:
    """The SHA-256 (hex) the release's checksums list for ``name``, once their signature holds."""
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), sums)
    except (InvalidSignature, ValueError):
        raise UpdateRefused("the release's checksums are not signed with the release key") from None
    listed: dict[str, str] = {}
    for line in sums.decode("utf-8", "replace").splitlines():
        digest, _, listed_name = line.strip().partition(" ")
        listed[listed_name.strip().lstrip("*")] = digest  # "*name": sha256sum's binary mode
    expected = listed.get(name)
    if expected is None:
        raise UpdateRefused(f"{name} is not in the signed checksums")
    return expected.lower()
