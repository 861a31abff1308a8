"""The macOS release from the bundle ``pyinstaller build.spec`` made on a Mac (dist/Switchboard.app,
a menu-bar app): signed with the hardened runtime, packed in a signed ``.dmg``, notarized and
stapled, each step verified.

    python installers/macos/package.py dist/Switchboard.app --out release/ [--dry-run]

Identities and secrets only from the environment:
- ``MACOS_CERT_P12_BASE64``, ``MACOS_CERT_PASSWORD``: the Developer ID Application certificate,
  imported into a throwaway keychain for the run and deleted after;
- ``MACOS_SIGN_IDENTITY``: its name ("Developer ID Application: … (TEAMID)");
- ``ASC_KEY_ID``, ``ASC_ISSUER_ID``, ``ASC_KEY_P8`` (the key's text): an App Store Connect API key
  for ``notarytool``, written to a private temporary file for the run.

``--dry-run`` prints every command with secrets masked and runs none: how this script is checked
on Linux, where codesign, hdiutil and notarytool do not exist. Every command's exit code is checked.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from project import name_and_version

HERE = Path(__file__).resolve().parent
NEEDED = (
    "MACOS_CERT_P12_BASE64",
    "MACOS_CERT_PASSWORD",
    "MACOS_SIGN_IDENTITY",
    "ASC_KEY_ID",
    "ASC_ISSUER_ID",
    "ASC_KEY_P8",
)


class Steps:
    """Runs commands (or, dry, prints them), never showing a secret."""

    def __init__(self, dry: bool, hidden: list[str]) -> None:
        self.dry = dry
        self.hidden = [h for h in hidden if h]

    def run(self, *command: str) -> str:
        shown = " ".join(command)
        for secret in self.hidden:
            shown = shown.replace(secret, "***")
        print(f"$ {shown}", flush=True)
        if self.dry:
            return ""
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            said = done.stdout + done.stderr
            for secret in self.hidden:
                said = said.replace(secret, "***")
            raise SystemExit(
                f"package: {command[0]} {command[1] if len(command) > 1 else ''} exited {done.returncode}\n{said}"
            )
        return done.stdout + done.stderr


def release(app: Path, out: Path, version: str, env: dict[str, str], work: Path, steps: Steps) -> Path:
    identity = env["MACOS_SIGN_IDENTITY"]
    keychain = work / "signing.keychain-db"
    keychain_password = secrets.token_hex(16)
    steps.hidden.append(keychain_password)
    p12, key = work / "cert.p12", work / "notary.p8"
    p12.write_bytes(base64.b64decode(env["MACOS_CERT_P12_BASE64"]))
    key.write_text(env["ASC_KEY_P8"], encoding="utf-8")
    for private in (p12, key):
        private.chmod(0o600)
    run = steps.run
    run("security", "create-keychain", "-p", keychain_password, str(keychain))
    try:
        run("security", "set-keychain-settings", "-lut", "3600", str(keychain))
        run("security", "unlock-keychain", "-p", keychain_password, str(keychain))
        # `security import` takes the password only as an argument: on the throwaway release runner.
        run(
            "security",
            "import",
            str(p12),
            "-k",
            str(keychain),
            "-P",
            env["MACOS_CERT_PASSWORD"],
            "-T",
            "/usr/bin/codesign",
        )
        run(
            "security",
            "set-key-partition-list",
            "-S",
            "apple-tool:,apple:",
            "-s",
            "-k",
            keychain_password,
            str(keychain),
        )
        run("security", "list-keychains", "-d", "user", "-s", str(keychain), "login.keychain-db")
        sign = (
            "codesign",
            "--force",
            "--timestamp",
            "--options",
            "runtime",
            "--keychain",
            str(keychain),
            "--sign",
            identity,
        )
        run(*sign, "--deep", "--entitlements", str(HERE / "entitlements.plist"), str(app))
        run("codesign", "--verify", "--deep", "--strict", "--verbose=2", str(app))
        dmg = out / f"Switchboard-{version}.dmg"
        run("hdiutil", "create", "-volname", "Switchboard", "-srcfolder", str(app), "-ov", "-format", "UDZO", str(dmg))
        run(*sign, str(dmg))
        run(
            "xcrun",
            "notarytool",
            "submit",
            str(dmg),
            "--key",
            str(key),
            "--key-id",
            env["ASC_KEY_ID"],
            "--issuer",
            env["ASC_ISSUER_ID"],
            "--wait",
        )
        run("xcrun", "stapler", "staple", str(dmg))
        run("xcrun", "stapler", "validate", str(dmg))
        run("spctl", "--assess", "--type", "open", "--context", "context:primary-signature", "--verbose", str(dmg))
        return dmg
    finally:
        run("security", "delete-keychain", str(keychain))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", type=Path, help="the .app bundle (dist/Switchboard.app)")
    parser.add_argument("--out", type=Path, default=Path("release"), help="where the .dmg goes")
    parser.add_argument("--dry-run", action="store_true", help="print the commands (secrets masked), run none")
    args = parser.parse_args(argv)
    missing = [name for name in NEEDED if not os.environ.get(name, "").strip()]
    if missing:
        raise SystemExit(f"package: set {', '.join(missing)} (installers/README.md says what each is)")
    if not (args.app / "Contents" / "Info.plist").is_file():
        raise SystemExit(f"package: {args.app} is not an .app bundle (build it on macOS with build.spec)")
    if not args.dry_run and (sys.platform != "darwin" or shutil.which("codesign") is None):
        raise SystemExit("package: codesign, hdiutil and notarytool need macOS (use --dry-run to check the steps)")
    _, version = name_and_version()
    env = {name: os.environ[name].strip() for name in NEEDED}
    steps = Steps(args.dry_run, [env["MACOS_CERT_PASSWORD"], env["MACOS_CERT_P12_BASE64"], env["ASC_KEY_P8"]])
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchboard-sign-") as work:
        dmg = release(args.app, args.out, version, env, Path(work), steps)
    print(dmg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
