"""Moving the state to another folder (the app's Settings): everything arrives — settings,
database, audit chain, keychain entries re-keyed to the new folder — the old copies go, every
entry point finds the new place, and a move that fails part-way leaves the old state as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LOCAL_OFF

from gateway.admin.relocation import move_state
from gateway.admin.state import ANCHOR_KEY, PEPPER, State
from gateway.clock import SystemClock
from gateway.errors import ConfigError
from gateway.paths import POINTER, StatePaths, home_paths, resolve_paths
from gateway.store import accounts, audit, provider_keys
from gateway.store.secrets import MemorySecrets

CONFIG = LOCAL_OFF + "# mine, keep this comment\n[server]\nport = 12345\n"


class Keychain:
    """Stands in for the OS keychain: one namespace per data folder, as ``open_secrets`` keys it."""

    def __init__(self) -> None:
        self.namespaces: dict[Path, MemorySecrets] = {}
        self.refuse_writes = False

    def __call__(self, data_dir: Path) -> MemorySecrets:
        store = self.namespaces.setdefault(data_dir.resolve(), MemorySecrets())
        if self.refuse_writes and not store.values:

            def refuse(name: str, value: str) -> None:
                raise OSError("the keychain is locked")

            store.set = refuse  # type: ignore[method-assign]
        return store


def populated(tmp_path: Path, keychain: Keychain) -> tuple[StatePaths, StatePaths, str]:
    """The platform's folders (as on Linux: three of them) holding a used state; returns them as
    the defaults, the paths in use, and a client key."""
    defaults = StatePaths(tmp_path / "config", tmp_path / "share", tmp_path / "logs")
    defaults.ensure()
    defaults.config_file.write_text(CONFIG, encoding="utf-8")
    (defaults.log_dir / "gateway.log").write_text("a line\n", encoding="utf-8")
    store = keychain(defaults.data_dir)
    state = State(defaults.data_dir, store, SystemClock())
    state.open()
    key, _ = state.keys.create_now("laptop", "standard", {}, "test").result()
    now = 1_700_000_000.0
    state.db.writer.run(
        lambda conn: accounts.save(
            conn, accounts.AccountRow("acct1", "codex", "work", "sub", "", "plus", "ok", "login", "", now, now)
        )
    ).result()
    state.close()
    store.set(accounts.secret_name("acct1"), '{"access": "tok-abc"}')
    provider_keys.set_keys(store, "groq", ("gsk-secret-1",))
    return defaults, resolve_paths(None, {}, defaults), key


def test_everything_arrives_under_the_new_folder_and_nothing_stays_behind(tmp_path: Path) -> None:
    keychain = Keychain()
    defaults, paths, key = populated(tmp_path, keychain)
    old_secrets = dict(keychain(defaults.data_dir).values)

    new, left = move_state(paths, tmp_path / "elsewhere" / "Switchboard", defaults, keychain)

    assert left == []
    assert new == home_paths(tmp_path / "elsewhere" / "Switchboard", "moved")
    assert resolve_paths(None, {}, defaults) == new  # every entry point now finds it there
    assert (defaults.config_dir / POINTER).read_text(encoding="utf-8").strip() == str(new.config_dir)
    assert new.config_file.read_text(encoding="utf-8") == CONFIG
    assert (new.log_dir / "gateway.log").read_text(encoding="utf-8") == "a line\n"
    assert {p.name for p in new.data_dir.iterdir()} >= {"switchboard.db", "audit.anchor"}
    assert (
        all(oct(p.stat().st_mode & 0o777) == "0o600" for p in [new.config_file, *new.data_dir.iterdir()] if p.is_file())
        or os.name == "nt"
    )

    moved = keychain(new.data_dir)
    assert moved.values == old_secrets and {PEPPER, ANCHOR_KEY, "account:acct1", "provider-key:groq"} <= set(
        old_secrets
    )
    assert keychain(defaults.data_dir).values == {}
    assert [p.name for p in defaults.config_dir.iterdir()] == [POINTER]
    assert not defaults.data_dir.exists() and not defaults.log_dir.exists()

    state = State(new.data_dir, moved, SystemClock())
    state.open()
    try:
        assert state.keys.find(key) is not None  # the pepper came along: client keys still work
        verdict = state.db.writer.run(lambda conn: audit.verify(conn, state.db.anchor)).result()
        assert verdict.ok and state.db.anchor_problem is None
        (event,) = [e for e in state.db.writer.run(audit.events).result() if e.action == "state.moved"]
        assert event.public()["payload"] == {"from": str(defaults.config_dir), "to": str(new.config_dir)}
        assert [r.label for r in state.db.writer.run(accounts.load).result()] == ["work"]
    finally:
        state.close()
    assert provider_keys.stored_keys(moved) == {"groq": ("gsk-secret-1",)}

    again, left = move_state(new, tmp_path / "third", defaults, keychain)  # and once more: the old home goes whole
    assert left == [] and not new.config_dir.exists()
    assert resolve_paths(None, {}, defaults) == again and keychain(again.data_dir).values == old_secrets


def test_a_move_that_fails_part_way_leaves_the_old_state_as_it_was(tmp_path: Path) -> None:
    keychain = Keychain()
    defaults, paths, _ = populated(tmp_path, keychain)
    before = {
        p: p.read_bytes() for d in (defaults.config_dir, defaults.data_dir, defaults.log_dir) for p in d.iterdir()
    }
    secrets = dict(keychain(defaults.data_dir).values)
    keychain.refuse_writes = True
    target = tmp_path / "new"
    with pytest.raises(OSError, match="locked"):
        move_state(paths, target, defaults, keychain)
    assert not target.exists()
    assert resolve_paths(None, {}, defaults) == paths
    assert {
        p: p.read_bytes() for d in (defaults.config_dir, defaults.data_dir, defaults.log_dir) for p in d.iterdir()
    } == before
    assert keychain(defaults.data_dir).values == secrets


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("inside", "overlaps the folder in use"),
        ("parent", "overlaps the folder in use"),
        ("full", "not an empty folder"),
        ("file", "not an empty folder"),
    ],
)
def test_a_folder_that_cannot_take_the_state_is_refused_before_anything_is_done(
    tmp_path: Path, where: str, error: str
) -> None:
    keychain = Keychain()
    defaults, paths, _ = populated(tmp_path, keychain)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "photo.jpg").write_bytes(b"x")
    (tmp_path / "file").write_bytes(b"x")
    target = {
        "inside": defaults.data_dir / "sub",
        "parent": tmp_path,
        "full": tmp_path / "full",
        "file": tmp_path / "file",
    }[where]
    with pytest.raises(ConfigError, match=error):
        move_state(paths, target, defaults, keychain)
    assert resolve_paths(None, {}, defaults) == paths and (defaults.data_dir / "switchboard.db").exists()


def test_a_folder_chosen_at_launch_is_not_moved_from_the_app(tmp_path: Path) -> None:
    for paths, how in (
        (resolve_paths(tmp_path / "h", {}), "--home"),
        (resolve_paths(None, {"SWITCHBOARD_HOME": str(tmp_path / "h")}), "SWITCHBOARD_HOME"),
    ):
        with pytest.raises(ConfigError, match="when it was started") as refused:
            move_state(paths, tmp_path / "new", StatePaths(tmp_path / "c", tmp_path / "d", tmp_path / "l"), Keychain())
        assert how in refused.value.detail and how not in str(refused.value)  # the flag is technical detail


def test_a_moved_folder_that_is_gone_is_said_plainly_not_started_afresh(tmp_path: Path) -> None:
    defaults = StatePaths(tmp_path / "config", tmp_path / "share", tmp_path / "logs")
    defaults.config_dir.mkdir()
    (defaults.config_dir / POINTER).write_text(str(tmp_path / "usb" / "Switchboard"), encoding="utf-8")
    with pytest.raises(ConfigError, match="not there now"):
        resolve_paths(None, {}, defaults)
    assert resolve_paths(tmp_path / "h", {}, defaults).source == "option"  # --home still wins


@pytest.mark.skipif(sys.platform != "linux", reason="the platform folders are set through XDG variables here")
def test_the_headless_gateway_and_its_commands_follow_a_move(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "XDG_DATA_HOME": str(tmp_path / "xdg-data"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.pop("SWITCHBOARD_HOME", None)

    def gateway(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args], env=env, capture_output=True, text=True, timeout=60
        )

    made = gateway("keys", "create", "--label", "before the move")
    assert made.returncode == 0, made.stderr
    defaults = StatePaths(
        tmp_path / "xdg-config" / "Switchboard",
        tmp_path / "xdg-data" / "Switchboard",
        tmp_path / "xdg-state" / "Switchboard" / "log",
    )
    paths = resolve_paths(None, {}, defaults)
    assert paths == defaults and (paths.data_dir / "switchboard.db").exists()

    from gateway.store.secrets import open_secrets  # the file store, as the subprocess used

    new, left = move_state(paths, tmp_path / "moved", defaults, open_secrets)
    assert left == []
    listed = gateway("keys", "list")
    assert listed.returncode == 0 and "before the move" in listed.stdout, listed.stderr
    verified = gateway("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert (new.data_dir / "switchboard.db").exists() and not (defaults.data_dir / "switchboard.db").exists()


def test_where_the_data_folder_is_the_config_folder_the_pointer_stays_and_nothing_is_left(tmp_path: Path) -> None:
    keychain = Keychain()  # macOS and Windows: settings and data share one folder
    defaults = StatePaths(tmp_path / "Switchboard", tmp_path / "Switchboard", tmp_path / "Logs")
    defaults.ensure()
    defaults.config_file.write_text(CONFIG, encoding="utf-8")
    state = State(defaults.data_dir, keychain(defaults.data_dir), SystemClock())
    state.open()
    state.close()
    new, left = move_state(resolve_paths(None, {}, defaults), tmp_path / "new", defaults, keychain)
    assert left == [] and [p.name for p in defaults.config_dir.iterdir()] == [POINTER]
    assert not (new.data_dir / "config.toml").exists() and new.config_file.read_text(encoding="utf-8") == CONFIG
