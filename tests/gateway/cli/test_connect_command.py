"""``switchboard-gateway connect``: set up, list, restore and restore-all from the command line,
against a temporary home; a client key is made for the tool where the gateway needs keys."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from gateway.cli.main import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    (folder / ".codex").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    monkeypatch.delenv("CLAUDE_CONFIG_DIR", raising=False)
    monkeypatch.setenv("SWITCHBOARD_SECRETS", "memory")
    return folder


def test_connect_list_and_restore(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(tmp_path / "state")
    original = b'# mine\nmodel = "o3"\n'
    (home / ".codex" / "config.toml").write_bytes(original)

    assert main(["connect", "codex", "--model", "openai/gpt-test", "--url", "http://127.0.0.1:5", "--home", state]) == 0
    config = tomllib.loads((home / ".codex" / "config.toml").read_text(encoding="utf-8"))
    assert config["model"] == "openai/gpt-test"
    assert config["model_providers"]["switchboard"]["base_url"] == "http://127.0.0.1:5/v1"
    assert main(["connect", "claude-code", "--home", state]) == 0
    env = json.loads((home / ".claude" / "settings.json").read_text(encoding="utf-8"))["env"]
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:11488" and env["ANTHROPIC_MODEL"] == "auto"
    capsys.readouterr()

    assert main(["connect", "--list", "--url", "http://127.0.0.1:5", "--home", state]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert listed["codex"].endswith(" connected") and listed["claude-code"].endswith(" changed")

    assert main(["connect", "codex", "--restore", "--home", state]) == 0
    assert (home / ".codex" / "config.toml").read_bytes() == original
    assert main(["connect", "--restore-all", "--home", state]) == 0
    assert not (home / ".claude").exists()
    assert "Restored" in capsys.readouterr().out


def test_a_gateway_that_needs_keys_gets_one_made_for_the_tool(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "config.toml").write_text("[server]\nrequire_keys = true\n", encoding="utf-8")
    assert main(["connect", "codex", "--home", str(state)]) == 0
    token = tomllib.loads((home / ".codex" / "config.toml").read_text(encoding="utf-8"))["model_providers"][
        "switchboard"
    ]["experimental_bearer_token"]
    assert token.startswith("sk-")
    assert main(["keys", "--home", str(state), "list", "--json"]) == 0
    assert "Codex CLI" in capsys.readouterr().out


def test_a_key_made_for_a_file_that_cannot_take_it_is_revoked(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "config.toml").write_text("[server]\nrequire_keys = true\n", encoding="utf-8")
    (home / ".codex" / "config.toml").mkdir()  # a folder where Codex's file should be
    assert main(["connect", "codex", "--home", str(state)]) == 1
    assert "could not be read: is a directory" in capsys.readouterr().err
    assert main(["keys", "--home", str(state), "list", "--json"]) == 0
    (made,) = json.loads(capsys.readouterr().out)
    assert made["label"] == "Codex CLI" and made["revoked_at"] is not None


def test_restore_names_the_tool(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["connect", "--restore", "--home", str(tmp_path / "state")]) == 2
    assert "name the tool to restore" in capsys.readouterr().err


def test_launch_reuses_the_key_it_made_until_it_is_revoked(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``launch`` changes no file, so its client key is kept in the secret store: a second launch
    presents the same key (no pile of keys), and a new one is made once that one is revoked."""
    monkeypatch.delenv("SWITCHBOARD_SECRETS")  # kept between runs: the file store (no keychain here)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    programs = tmp_path / "bin"
    programs.mkdir()
    (programs / "claude").write_text("#!/bin/sh\n", encoding="utf-8")
    (programs / "claude").chmod(0o755)
    monkeypatch.setenv("PATH", str(programs))
    state = tmp_path / "state"
    state.mkdir()
    (state / "config.toml").write_text("[server]\nrequire_keys = true\n", encoding="utf-8")
    tokens: list[str] = []

    def run(path: str, argv: list[str], env: dict[str, str]) -> None:  # the tool taking the process's place
        tokens.append(env["ANTHROPIC_AUTH_TOKEN"])
        raise SystemExit(0)

    monkeypatch.setattr("os.execve", run)
    for _ in range(2):
        with pytest.raises(SystemExit):
            main(["launch", "--home", str(state), "claude", "-p", "hi"])
    assert len(tokens) == 2 and tokens[0] == tokens[1] and tokens[0].startswith("sk-")
    capsys.readouterr()
    assert main(["keys", "--home", str(state), "list", "--json"]) == 0
    (made,) = json.loads(capsys.readouterr().out)
    assert made["label"] == "claude (launch)"
    assert main(["keys", "--home", str(state), "revoke", made["id"]]) == 0
    with pytest.raises(SystemExit):
        main(["launch", "--home", str(state), "claude"])
    assert tokens[2] != tokens[0]
