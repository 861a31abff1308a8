"""Linux release files from a built bundle (``pyinstaller build.spec``): a ``.deb``, a ``.tar.gz``
of the bundle, and ``SHA256SUMS`` with its GPG clear-signature.

    python installers/linux/package.py dist/switchboard --out release/

The ``.deb`` puts the bundle in /opt/switchboard, both programs on PATH (/usr/bin symlinks), a
desktop entry and icons, and nothing else: start at login is each user's choice, made in the app
(Settings, or the tray menu), which writes their own ~/.config/autostart entry. Removing the
package removes every file it brought; a person's settings and data, in their home, stay.

Signing: as ``installers/checksums.py`` says (``SWITCHBOARD_GPG_KEY``). Without a key the script
stops, unless ``--unsigned`` says that is meant. Every command's exit code is checked.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from checksums import sum_and_sign
from project import ROOT, name_and_version

# What the bundle does not carry (shared/platform.md §1, §7): GL, fonts, D-Bus, GLib, and Qt's xcb needs.
DEPENDS = (
    "libc6 (>= 2.34), libegl1, libgl1, libfontconfig1, libxkbcommon0, libxkbcommon-x11-0, libdbus-1-3, "
    "libglib2.0-0, libx11-xcb1, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, "
    "libxcb-render-util0, libxcb-shape0, libxcb-randr0, libxcb-xkb1"
)
ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}
ICON_SIZES = (32, 64, 128, 256)


def run(*command: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """A command that must succeed; its output is kept for the message when it does not."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise SystemExit(f"package: {' '.join(command[:3])}… exited {done.returncode}\n{done.stdout}{done.stderr}")
    return done  # type: ignore[no-any-return]


def desktop_entry(name: str) -> str:
    return (
        "[Desktop Entry]\nType=Application\nName=Switchboard\nGenericName=LLM gateway\n"
        "Comment=One local address for your AI tools, routed to your accounts\n"
        f"Exec={name}\nIcon={name}\nTerminal=false\nCategories=Development;Network;\n"
        f"StartupWMClass={name}\nKeywords=LLM;AI;OpenAI;Anthropic;Ollama;gateway;\n"
    )


def control(name: str, version: str, arch: str, installed_kib: int) -> str:
    return (
        f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: Switchboard <release@switchboard.invalid>\n"
        f"Installed-Size: {installed_kib}\nDepends: {DEPENDS}\nSection: net\nPriority: optional\n"
        "Homepage: https://github.com/switchboard-app/switchboard\n"
        "Description: local LLM gateway with a tray app\n"
        " Switchboard speaks the OpenAI, Anthropic and Ollama APIs on 127.0.0.1:11488 and routes every\n"
        " request to the best of your accounts, with failover, limits, usage and an audit log.\n"
    )


POSTINST = """#!/bin/sh
set -e
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q /usr/share/applications || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
"""

# Before the programs go (removal or purge, not an upgrade): each user's tool settings that
# Switchboard changed (Claude Code's, Codex's, …) are put back from the copies in their state
# folder, by the gateway's own "connect --restore-all", run as that user in their home. A user
# with nothing changed has nothing put back; a failure never stops the removal.
PRERM = """#!/bin/sh
set -e
case "$1" in
    remove|purge) ;;
    *) exit 0 ;;
esac
GATEWAY=/opt/switchboard/switchboard-gateway
[ -x "$GATEWAY" ] || exit 0
getent passwd | while IFS=: read -r user _ uid _ _ home _; do
    case "$uid" in ''|*[!0-9]*) continue ;; esac
    if [ "$uid" -ne 0 ] && [ "$uid" -lt 1000 ]; then continue; fi
    [ -d "$home/.local/share/Switchboard" ] || [ -d "$home/.config/Switchboard" ] || continue
    runuser -u "$user" -- env HOME="$home" "$GATEWAY" connect --restore-all >/dev/null 2>&1 || true
done
exit 0
"""


def draw_icons(folder: Path) -> dict[int, Path]:
    """The tray icon's 'serving' picture as PNGs, drawn by the app's own code (Qt offscreen)."""
    script = (
        "import sys\nfrom PySide6.QtGui import QGuiApplication\nQGuiApplication([])\nfrom app.icons import draw\n"
        "for size in map(int, sys.argv[2:]):\n    assert draw('serving', size).save(f'{sys.argv[1]}/{size}.png')\n"
    )
    run(
        sys.executable,
        "-c",
        script,
        str(folder),
        *map(str, ICON_SIZES),
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    return {size: folder / f"{size}.png" for size in ICON_SIZES}


def build_deb(bundle: Path, name: str, version: str, arch: str, out: Path, work: Path) -> Path:
    tree = work / f"{name}_{version}_{arch}"
    shutil.copytree(bundle, tree / "opt" / name, symlinks=True)
    (tree / "usr" / "bin").mkdir(parents=True)
    for program in (name, f"{name}-gateway"):
        if not (tree / "opt" / name / program).is_file():
            raise SystemExit(f"package: {bundle} has no {program}")
        (tree / "usr" / "bin" / program).symlink_to(f"/opt/{name}/{program}")
    applications = tree / "usr" / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / f"{name}.desktop").write_text(desktop_entry(name), encoding="utf-8")
    for size, png in draw_icons(work).items():
        icons = tree / "usr" / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        icons.mkdir(parents=True)
        shutil.copyfile(png, icons / f"{name}.png")
    installed = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file() and not p.is_symlink())
    debian = tree / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(control(name, version, arch, installed // 1024 + 1), encoding="utf-8")
    for script, text in (("postinst", POSTINST), ("postrm", POSTINST), ("prerm", PRERM)):
        (debian / script).write_text(text, encoding="utf-8")
        (debian / script).chmod(0o755)
    deb = out / f"{name}_{version}_{arch}.deb"
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", str(tree), str(deb))
    return deb


def build_tarball(bundle: Path, name: str, version: str, machine: str, out: Path) -> Path:
    tarball = out / f"{name}-{version}-linux-{machine}.tar.gz"
    with tarfile.open(tarball, "w:gz", compresslevel=6) as archive:
        archive.add(bundle, arcname=f"{name}-{version}")
    return tarball


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the onedir bundle (dist/switchboard)")
    parser.add_argument("--out", type=Path, default=Path("release"), help="where the release files go")
    parser.add_argument("--unsigned", action="store_true", help="no SHA256SUMS signature (test builds only)")
    args = parser.parse_args(argv)
    key = os.environ.get("SWITCHBOARD_GPG_KEY", "").strip()
    if not key and not args.unsigned:
        raise SystemExit("package: set SWITCHBOARD_GPG_KEY to sign SHA256SUMS, or pass --unsigned for a test build")
    name, version = name_and_version()
    machine = platform.machine()
    arch = ARCHES.get(machine)
    if arch is None:
        raise SystemExit(f"package: no Debian architecture known for {machine}")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="switchboard-deb-") as work:
        deb = build_deb(args.bundle, name, version, arch, args.out, Path(work))
    tarball = build_tarball(args.bundle, name, version, machine, args.out)
    for path in [deb, tarball, *sum_and_sign([deb, tarball], args.out)]:
        print(f"{path}  {path.stat().st_size / 1048576:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
