"""Tool set-up and the user's files as they really are: a client key written leaves the file
readable by its owner only (and Restore gives back the permissions it had); a byte-order mark and
Windows line ends stay; a settings file that is a link stays a link; Restore never deletes nor
overwrites what someone else wrote since (it is kept beside), and a damaged record changes nothing."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import pytest
from tool_places import tool_file

from gateway.admin.tool_setup import Places, Target, ToolSetup, ToolSetupError, jsonc
from gateway.admin.tool_setup.backups import MANIFEST, REPLACED

URL = "http://127.0.0.1:11488"
KEYED = Target(URL, "sk-sb-client-key-0123456789", "auto")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("tool_id", ["codex", "claude-code", "continue", "opencode"])
def test_a_client_key_leaves_the_file_for_its_owner_only(places: Places, tool_id: str) -> None:
    path = tool_file(places, tool_id)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    setup = ToolSetup(places)

    setup.set_up(tool_id, KEYED)
    assert KEYED.token in path.read_text(encoding="utf-8")
    assert _mode(path) == 0o600

    setup.restore(tool_id, URL)
    assert path.read_bytes() == b"" and _mode(path) == 0o644  # as it was, its permissions too


def test_a_new_file_with_a_key_is_the_owners_only(places: Places) -> None:
    ToolSetup(places).set_up("claude-code", KEYED)
    assert _mode(tool_file(places, "claude-code")) == 0o600


def test_a_byte_order_mark_and_windows_line_ends_stay(places: Places) -> None:
    path = tool_file(places, "vscode")
    path.parent.mkdir(parents=True)
    original = '\ufeff{\r\n    "editor.fontSize": 14, // larger\r\n}\r\n'.encode()
    path.write_bytes(original)
    setup = ToolSetup(places)

    assert setup.set_up("vscode", KEYED)["connected"]
    written = path.read_bytes()
    assert written.startswith("\ufeff{\r\n".encode()) and b"\n" not in written.replace(b"\r\n", b"")
    text = written.decode("utf-8").removeprefix("\ufeff")
    assert jsonc.loads(text) == {"editor.fontSize": 14, "github.copilot.chat.byok.ollamaEndpoint": URL}
    assert '    "editor.fontSize": 14, // larger\r\n    "github.copilot' in text

    setup.restore("vscode", URL)
    assert path.read_bytes() == original


def test_a_codex_config_with_a_mark_and_windows_line_ends(places: Places) -> None:
    path = tool_file(places, "codex")
    path.parent.mkdir(parents=True)
    original = '\ufeff# mine\r\nmodel = "o3"\r\n'.encode()
    path.write_bytes(original)
    setup = ToolSetup(places)

    setup.set_up("codex", KEYED)
    written = path.read_bytes()
    assert written.startswith("\ufeff# mine\r\n".encode()) and b"\n" not in written.replace(b"\r\n", b"")
    assert tomllib.loads(written.decode("utf-8").removeprefix("\ufeff"))["model_provider"] == "switchboard"
    setup.restore("codex", URL)
    assert path.read_bytes() == original


def test_a_settings_file_that_is_a_link_stays_a_link(places: Places, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "settings.json"
    original = b'{\n  "theme": "dark"\n}\n'
    real.write_bytes(original)
    path = tool_file(places, "claude-code")
    path.parent.mkdir(parents=True)
    path.symlink_to(real)
    setup = ToolSetup(places)

    setup.set_up("claude-code", KEYED)
    assert path.is_symlink() and json.loads(real.read_text(encoding="utf-8"))["env"]["ANTHROPIC_BASE_URL"] == URL
    setup.restore("claude-code", URL)
    assert path.is_symlink() and real.read_bytes() == original


def test_restore_keeps_a_file_made_here_but_changed_since(places: Places) -> None:
    path = tool_file(places, "claude-code")
    setup = ToolSetup(places)
    setup.set_up("claude-code", KEYED)
    later = path.read_bytes().replace(b'"env"', b'"permissions": {"allow": ["Bash"]},\n  "env"', 1)
    path.write_bytes(later)  # Claude Code, or its user, wrote to the file set-up made

    setup.restore("claude-code", URL)

    assert not path.exists()  # the tool no longer points at the gateway
    aside = path.with_name(path.name + REPLACED)
    assert aside.read_bytes() == later and _mode(aside) == 0o600  # nothing anyone wrote is lost


def test_restore_keeps_what_was_changed_since_beside_the_userstool_file(places: Places) -> None:
    path = tool_file(places, "vscode")
    path.parent.mkdir(parents=True)
    setup = ToolSetup(places)
    for round_ in (1, 2):
        original = f'{{"round": {round_}}}\n'.encode()
        path.write_bytes(original)
        setup.set_up("vscode", KEYED)
        later = path.read_bytes() + b"// mine\n"
        path.write_bytes(later)
        setup.restore("vscode", URL)
        assert path.read_bytes() == original
        aside = path.with_name(path.name + REPLACED + ("" if round_ == 1 else "-2"))
        assert aside.read_bytes() == later  # an earlier one is not overwritten
    assert path.with_name(path.name + REPLACED).read_bytes().startswith(b'{"round": 1')


def test_restore_of_a_file_as_set_up_left_it_keeps_nothing_beside(places: Places) -> None:
    path = tool_file(places, "codex")
    setup = ToolSetup(places)
    setup.set_up("codex", KEYED)
    setup.set_up("codex", Target(URL, None, "other"))  # again: what it wrote last is what counts
    setup.restore_all()
    assert not path.exists() and not path.with_name(path.name + REPLACED).exists()


def test_a_damaged_record_changes_nothing(places: Places) -> None:
    path = tool_file(places, "codex")
    path.parent.mkdir(parents=True)
    path.write_bytes(b'model = "o3"\n')
    places.backups.mkdir(parents=True)
    (places.backups / MANIFEST).write_text("{not json", encoding="utf-8")
    setup = ToolSetup(places)

    with pytest.raises(ToolSetupError, match="record of the tools' files") as refused:
        setup.set_up("codex", KEYED)
    assert "not json" not in refused.value.message and MANIFEST in refused.value.detail
    assert path.read_bytes() == b'model = "o3"\n'
    with pytest.raises(ToolSetupError, match="record of the tools' files"):
        setup.restore_all()
    assert not setup.state("codex", URL)["changed"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{\n  "a": 0,\n}\n', '{\n  "a": 0,\n  "k": 1,\n}\n'),  # a trailing comma stays one
        ('{\n  "a": 0\n  // the end\n}\n', '{\n  "a": 0,\n  // the end\n  "k": 1\n}\n'),  # a comment at the end
        ('{\n  "a": 0 // why\n}\n', '{\n  "a": 0, // why\n  "k": 1\n}\n'),
        ('{"a": 0 /* c */}', '{"a": 0, "k": 1 /* c */}'),
        ("{}\n// after\n", '{\n  "k": 1\n}\n// after\n'),
        ('{"a": 0,}', '{"a": 0, "k": 1,}'),
    ],
)
def test_jsonc_edges(text: str, expected: str) -> None:
    assert jsonc.set_value(text, ("k",), 1) == expected
    assert jsonc.loads(expected)["k"] == 1


def test_continue_models_written_on_one_line_are_left_alone(places: Places) -> None:
    path = tool_file(places, "continue")
    path.parent.mkdir(parents=True)
    original = b"name: Mine\nmodels: [{name: GPT, provider: openai, model: gpt-4o}]\n"
    path.write_bytes(original)
    with pytest.raises(ToolSetupError, match="written on one line"):
        ToolSetup(places).set_up("continue", KEYED)
    assert path.read_bytes() == original
