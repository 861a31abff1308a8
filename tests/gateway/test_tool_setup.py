"""Setting each tool up against a temporary home, and Restore putting every file back byte for byte
(or removing it where there was none); restore-all; a second set-up keeps the first backup."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from tool_places import tool_file

from gateway.admin.tool_setup import Places, Target, ToolSetup, ToolSetupError, jsonc
from gateway.admin.tool_setup.launch import command

URL = "http://127.0.0.1:11488"
TARGET = Target(URL, None, "openai/gpt-test")

VSCODE_SETTINGS = """// Settings, my own
{
    "editor.fontSize": 14, // larger
    /* a block comment
       over lines */
    "files.autoSave": "afterDelay",
}
"""
CODEX_CONFIG = """# my Codex settings
model = "o3"  # the one I like

[model_providers.other]  # a server of my own
name = "Other"
base_url = "http://example.invalid/v1"
"""
CLAUDE_SETTINGS = '{\n  "env": {\n    "MY_FLAG": "1"\n  },\n  "permissions": {"allow": ["Bash"]}\n}\n'
CONTINUE_CONFIG = """name: Mine
version: 1.0.0
schema: v1
models:  # the ones I use
  - name: GPT
    provider: openai
    model: gpt-4o
"""
OPENCODE_CONFIG = '{\n  // my OpenCode\n  "theme": "dark"\n}\n'
ORIGINALS = {
    "vscode": VSCODE_SETTINGS,
    "codex": CODEX_CONFIG,
    "claude-code": CLAUDE_SETTINGS,
    "continue": CONTINUE_CONFIG,
    "opencode": OPENCODE_CONFIG,
}


@pytest.mark.parametrize("tool_id", list(ORIGINALS))
def test_set_up_then_restore_gives_back_the_users_file_byte_for_byte(places: Places, tool_id: str) -> None:
    path = tool_file(places, tool_id)
    path.parent.mkdir(parents=True)
    original = ORIGINALS[tool_id].encode()
    path.write_bytes(original)
    setup = ToolSetup(places)

    state = setup.set_up(tool_id, TARGET)

    assert state["connected"] and state["changed"] and state["installed"]
    assert path.read_bytes() != original
    restored = setup.restore(tool_id, URL)
    assert path.read_bytes() == original
    assert not restored["connected"] and not restored["changed"]


@pytest.mark.parametrize("tool_id", list(ORIGINALS))
def test_a_file_that_was_not_there_is_removed_again(places: Places, tool_id: str) -> None:
    path = tool_file(places, tool_id)
    setup = ToolSetup(places)
    assert not setup.state(tool_id, URL)["installed"]

    setup.set_up(tool_id, TARGET)
    assert path.is_file() and setup.state(tool_id, URL)["connected"]

    setup.restore(tool_id, URL)
    assert not path.exists()
    assert not path.parent.exists()  # the folders made for it go too
    assert places.home.is_dir()


def test_the_users_comments_and_other_settings_stay(places: Places) -> None:
    setup = ToolSetup(places)
    for tool_id, text in ORIGINALS.items():
        tool_file(places, tool_id).parent.mkdir(parents=True, exist_ok=True)
        tool_file(places, tool_id).write_text(text, encoding="utf-8")
        setup.set_up(tool_id, TARGET)

    vscode = tool_file(places, "vscode").read_text(encoding="utf-8")
    assert "// larger" in vscode and "/* a block comment" in vscode
    assert jsonc.loads(vscode) == {
        "editor.fontSize": 14,
        "files.autoSave": "afterDelay",
        "github.copilot.chat.byok.ollamaEndpoint": URL,
    }
    codex = tool_file(places, "codex").read_text(encoding="utf-8")
    assert "# the one I like" in codex and "# a server of my own" in codex
    parsed = tomllib.loads(codex)
    assert parsed["model"] == "openai/gpt-test" and parsed["model_provider"] == "switchboard"
    assert parsed["model_providers"]["switchboard"] == {
        "name": "Switchboard",
        "base_url": f"{URL}/v1",
        "wire_api": "responses",
    }
    assert parsed["model_providers"]["other"]["name"] == "Other"
    claude = json.loads(tool_file(places, "claude-code").read_text(encoding="utf-8"))
    assert claude["permissions"] == {"allow": ["Bash"]}
    assert claude["env"]["MY_FLAG"] == "1"
    assert claude["env"]["ANTHROPIC_BASE_URL"] == URL
    assert claude["env"]["ANTHROPIC_AUTH_TOKEN"] == "switchboard"
    for slot in (
        "ANTHROPIC_MODEL",
        "ANTHROPIC_DEFAULT_OPUS_MODEL",
        "ANTHROPIC_DEFAULT_SONNET_MODEL",
        "ANTHROPIC_DEFAULT_HAIKU_MODEL",
        "CLAUDE_CODE_SUBAGENT_MODEL",
    ):
        assert claude["env"][slot] == "openai/gpt-test"
    cont = tool_file(places, "continue").read_text(encoding="utf-8")
    assert "models:  # the ones I use\n  # Switchboard's entry" in cont
    assert cont.endswith("  - name: GPT\n    provider: openai\n    model: gpt-4o\n")
    opencode = jsonc.loads(tool_file(places, "opencode").read_text(encoding="utf-8"))
    assert opencode["theme"] == "dark" and opencode["model"] == "switchboard/openai/gpt-test"
    assert opencode["provider"]["switchboard"]["options"]["baseURL"] == f"{URL}/v1"


def test_a_second_set_up_keeps_the_first_backup(places: Places) -> None:
    path = tool_file(places, "codex")
    path.parent.mkdir(parents=True)
    path.write_text(CODEX_CONFIG, encoding="utf-8")
    setup = ToolSetup(places)

    setup.set_up("codex", TARGET)
    setup.set_up("codex", Target("http://127.0.0.1:9999", "sk-client-1", "other-model"))

    changed = tomllib.loads(path.read_text(encoding="utf-8"))
    assert changed["model"] == "other-model"
    assert changed["model_providers"]["switchboard"]["experimental_bearer_token"] == "sk-client-1"
    assert setup.state("codex", "http://127.0.0.1:9999")["connected"]
    setup.restore("codex", URL)
    assert path.read_text(encoding="utf-8") == CODEX_CONFIG


def test_continue_set_up_twice_leaves_one_entry(places: Places) -> None:
    path = tool_file(places, "continue")
    setup = ToolSetup(places)
    setup.set_up("continue", TARGET)
    setup.set_up("continue", Target(URL, "sk-client-2", "m2"))
    text = path.read_text(encoding="utf-8")
    assert text.count("- name: Switchboard") == 1 and 'model: "m2"' in text and '"sk-client-2"' in text


def test_restore_all_puts_back_everytool_file(places: Places) -> None:
    setup = ToolSetup(places)
    originals = {}
    for tool_id, text in ORIGINALS.items():
        path = tool_file(places, tool_id)
        if tool_id != "opencode":  # one file that was not there
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            originals[path] = path.read_bytes()
        setup.set_up(tool_id, TARGET)

    restored = setup.restore_all()

    assert sorted(restored) == sorted(str(tool_file(places, t)) for t in ORIGINALS)
    for path, data in originals.items():
        assert path.read_bytes() == data
    assert not tool_file(places, "opencode").exists()
    assert setup.backups.kept() == [] and setup.restore_all() == []
    assert not any(state["changed"] for state in setup.states(URL))


def test_a_file_that_is_not_its_format_is_left_alone(places: Places) -> None:
    path = tool_file(places, "claude-code")
    path.parent.mkdir(parents=True)
    path.write_text('{"env": {', encoding="utf-8")
    setup = ToolSetup(places)
    with pytest.raises(ToolSetupError, match="could not be read"):
        setup.set_up("claude-code", TARGET)
    assert path.read_text(encoding="utf-8") == '{"env": {'
    assert setup.backups.kept() == []


def test_installed_is_the_program_on_path_or_its_folder(tmp_path: Path) -> None:
    places = Places(tmp_path, tmp_path / "state", {}, lambda name: f"/usr/bin/{name}" if name == "codex" else None)
    states = {s["id"]: s["installed"] for s in ToolSetup(places).states(URL)}
    assert states == {"claude-code": False, "codex": True, "vscode": False, "continue": False, "opencode": False}
    (tmp_path / ".continue").mkdir()
    assert ToolSetup(places).state("continue", URL)["installed"]


def test_codex_home_and_xdg_folders_are_respected(tmp_path: Path) -> None:
    env = {"CODEX_HOME": str(tmp_path / "ch"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    places = Places(tmp_path / "home", tmp_path / "state", env, lambda name: None, "linux")
    assert tool_file(places, "codex") == tmp_path / "ch" / "config.toml"
    assert tool_file(places, "vscode") == tmp_path / "xdg" / "Code" / "User" / "settings.json"
    assert tool_file(places, "opencode") == tmp_path / "xdg" / "opencode" / "opencode.json"
    mac = Places(tmp_path / "home", tmp_path / "state", {}, lambda name: None, "darwin")
    assert tool_file(mac, "vscode") == tmp_path / "home/Library/Application Support/Code/User/settings.json"


def test_launch_changes_no_file_and_hands_the_key_through_the_environment() -> None:
    target = Target(URL, "sk-client-3", "auto")
    argv, env = command("codex", "/bin/codex", target, ["exec", "hi"], {"PATH": "/bin"})
    assert argv[0] == "/bin/codex" and argv[-2:] == ["exec", "hi"]
    assert 'model_provider="switchboard"' in argv and 'model="auto"' in argv
    table = next(a for a in argv if a.startswith("model_providers.switchboard="))
    assert f'base_url = "{URL}/v1"' in table and 'env_key = "SWITCHBOARD_API_KEY"' in table
    assert "sk-client-3" not in " ".join(argv) and env["SWITCHBOARD_API_KEY"] == "sk-client-3"
    argv, env = command("claude", "/bin/claude", target, ["-p", "hi"], {"PATH": "/bin"})
    assert argv == ["/bin/claude", "-p", "hi"]
    assert env["ANTHROPIC_BASE_URL"] == URL and env["ANTHROPIC_AUTH_TOKEN"] == "sk-client-3"
    assert env["CLAUDE_CODE_SUBAGENT_MODEL"] == "auto" and env["PATH"] == "/bin"


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("{}", ("a",), '{\n  "a": 1\n}'),
        ('{\n\t"x": [1, {"y": 2}], // c\n}\n', ("a",), '{\n\t"x": [1, {"y": 2}], // c\n\t"a": 1,\n}\n'),
        ('{"a": {"b": 0}}', ("a", "b"), '{"a": {"b": 1}}'),
        ('{\n  "a": "x" /* keep */\n}', ("a",), '{\n  "a": 1 /* keep */\n}'),
        ('{\n  "s": "a \\" } // not a comment"\n}', ("a",), '{\n  "s": "a \\" } // not a comment",\n  "a": 1\n}'),
    ],
)
def test_jsonc_sets_one_member_and_keeps_the_rest(text: str, path: tuple[str, ...], expected: str) -> None:
    assert jsonc.set_value(text, path, 1) == expected


def test_a_file_that_cannot_be_read_says_why_in_words(places: Places) -> None:
    tool_file(places, "codex").mkdir(parents=True)  # a folder where its file should be
    with pytest.raises(ToolSetupError) as refused:
        ToolSetup(places).set_up("codex", TARGET)
    assert "Errno" not in refused.value.message
    assert refused.value.message.endswith("could not be read: is a directory.")
