"""The uninstallers put back the tools' settings Switchboard changed, before the gateway program
goes: the .deb's prerm runs ``connect --restore-all`` as each user with a Switchboard folder (not
on an upgrade), and the Windows uninstaller runs it first. (The macOS .dmg has no uninstall step.)"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _prerm() -> str:
    spec = importlib.util.spec_from_file_location("linux_package", ROOT / "installers" / "linux" / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.PRERM
    return text


def test_the_deb_restores_each_users_tool_settings_before_removal(tmp_path: Path) -> None:
    ran = tmp_path / "ran.txt"
    gateway = tmp_path / "switchboard-gateway"
    gateway.write_text(f'#!/bin/sh\necho "$HOME $*" >> {ran}\n', encoding="utf-8")
    gateway.chmod(0o755)
    used, unused = tmp_path / "used", tmp_path / "unused"
    (used / ".local" / "share" / "Switchboard").mkdir(parents=True)
    unused.mkdir()
    me = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    uid = subprocess.run(["id", "-u"], capture_output=True, text=True, check=True).stdout.strip()
    users = f"{me}:x:{uid}:0::{used}:/bin/sh\\n{me}:x:{uid}:0::{unused}:/bin/sh\\nsys:x:2:2::/:/bin/false"
    script = (
        _prerm()
        .replace("GATEWAY=/opt/switchboard/switchboard-gateway", f"GATEWAY={gateway}")
        .replace("getent passwd |", f'printf "{users}\\n" |')
        .replace('runuser -u "$user" -- ', "")  # this test runs as one user
    )
    prerm = tmp_path / "prerm"
    prerm.write_text(script, encoding="utf-8")

    assert subprocess.run(["sh", str(prerm), "upgrade"], check=False).returncode == 0
    assert not ran.exists()  # an upgrade keeps the tools as they are
    assert subprocess.run(["sh", str(prerm), "remove"], check=False).returncode == 0
    if uid == "0" or int(uid) >= 1000:
        assert ran.read_text(encoding="utf-8") == f"{used} connect --restore-all\n"
    assert 'runuser -u "$user" -- env HOME="$home" "$GATEWAY" connect --restore-all' in _prerm()


def test_the_windows_uninstaller_restores_them_before_deleting_the_gateway() -> None:
    script = (ROOT / "installers" / "windows" / "switchboard.nsi").read_text(encoding="utf-8")
    uninstall = script.split('Section "Uninstall"')[1]
    restore = uninstall.index('switchboard-gateway.exe" connect --restore-all')
    assert restore < uninstall.index('Delete "$INSTDIR\\switchboard-gateway.exe"')
