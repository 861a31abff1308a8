"""Start at login as each OS keeps it (Linux for real; macOS and Windows by what is written), and
one instance per state folder."""

from __future__ import annotations

import plistlib
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.platform.autostart import (
    RUN_VALUE,
    LaunchAgent,
    WindowsRun,
    XdgAutostart,
    for_platform,
    launch_command,
)
from app.single_instance import SingleInstance, ask_running, socket_name
from gateway.store.secrets import MemorySecrets

COMMAND = ["/opt/Switch Board/python", "-m", "app"]


def test_linux_writes_an_xdg_autostart_entry(tmp_path: Path) -> None:
    autostart = for_platform("linux", tmp_path, {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}, COMMAND)
    assert isinstance(autostart, XdgAutostart) and not autostart.enabled()
    autostart.enable()
    text = (tmp_path / "cfg" / "autostart" / "switchboard.desktop").read_text(encoding="utf-8")
    assert 'Exec="/opt/Switch Board/python" -m app\n' in text and "Type=Application" in text
    assert autostart.enabled()
    autostart.disable()
    assert not autostart.enabled()
    assert for_platform("linux", tmp_path, {}, COMMAND).where == str(
        tmp_path / ".config" / "autostart" / "switchboard.desktop"
    )


def test_macos_writes_a_launch_agent(tmp_path: Path) -> None:
    autostart = for_platform("darwin", tmp_path, {}, COMMAND)
    assert isinstance(autostart, LaunchAgent)
    autostart.enable()
    plist = plistlib.loads(Path(autostart.where).read_bytes())
    assert (
        plist["ProgramArguments"] == COMMAND and plist["RunAtLoad"] is True and plist["Label"] == "app.switchboard.tray"
    )
    assert Path(autostart.where).parent == tmp_path / "Library" / "LaunchAgents"
    autostart.disable()
    assert not autostart.enabled()


def test_windows_sets_a_run_value(tmp_path: Path) -> None:
    registry = MemorySecrets()  # a name -> value store, as the Run key is
    autostart = for_platform("win32", tmp_path, {}, [r"C:\Program Files\Switchboard\Switchboard.exe"], registry)
    assert isinstance(autostart, WindowsRun)
    autostart.enable()
    assert registry.values == {RUN_VALUE: r'"C:\Program Files\Switchboard\Switchboard.exe"'}
    assert autostart.enabled() and autostart.where.endswith(r"CurrentVersion\Run\Switchboard")
    autostart.disable()
    assert registry.values == {}


def test_the_launch_command() -> None:
    assert launch_command(frozen=True, executable="/app/Switchboard") == ["/app/Switchboard"]
    assert launch_command(frozen=False, executable="/usr/bin/python3") == ["/usr/bin/python3", "-m", "app"]


def test_a_second_instance_asks_the_first_to_show_itself(qtbot: QtBot, tmp_path: Path) -> None:
    name = socket_name(tmp_path)
    assert name != socket_name(tmp_path / "other")
    assert not ask_running(name)
    first = SingleInstance(name)
    assert first.listen()
    with qtbot.waitSignal(first.show_requested, timeout=5000):
        assert ask_running(name)
    first.close()
    assert not ask_running(name)
