"""Edits to config.toml keep what a person wrote, and a change the gateway could not start from
never lands."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.editing import edit_config, read_config
from gateway.config.loading import load_settings
from gateway.errors import ConfigError

WRITTEN = """# Switchboard, set up by hand
[server]
port = 11488  # the usual one

[providers.groq]   # my fast one
api_key_env = "GROQ_KEY"
"""


def check(path: Path) -> None:
    load_settings(path, {"GROQ_KEY": "gsk-test-key-0001"}, explicit=True)


def test_comments_order_and_layout_are_kept(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(WRITTEN, encoding="utf-8")
    assert edit_config(
        config, [("server", "port", 8080), ("providers.lmstudio", "enabled", False), ("app", "theme", "dark")], check
    )
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# Switchboard, set up by hand\n[server]\nport = 8080")
    assert "[providers.groq]   # my fast one" in text and "[providers.lmstudio]\nenabled = false" in text
    assert "\n[providers]\n" not in text  # sub-tables only, no empty parent table
    assert read_config(config)["app"] == {"theme": "dark"}
    assert not edit_config(config, [("server", "port", 8080)], check)  # already so: the file is not rewritten


def test_removing_the_last_key_removes_its_table(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(WRITTEN + "\n[providers.ollama]\nenabled = false\n", encoding="utf-8")
    edit_config(config, [("providers.ollama", "enabled", None), ("server", "host", None)], check)
    data = read_config(config)
    assert "ollama" not in data["providers"] and data["providers"]["groq"] == {"api_key_env": "GROQ_KEY"}
    assert edit_config(config, [("providers.vllm", "enabled", None)], check) is False  # nothing to remove


def test_a_change_the_gateway_would_refuse_never_lands(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(WRITTEN, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[server\]\.log_level must be one of"):
        edit_config(config, [("server", "log_level", "loud")], check)
    with pytest.raises(ConfigError, match="has no key"):
        edit_config(config, [("providers.mistral", "base_url", "https://example.invalid/v1")], check)
    assert config.read_text(encoding="utf-8") == WRITTEN and [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_a_new_file_is_private_and_a_broken_one_is_named(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    edit_config(config, [("server", "require_keys", True)], check)
    assert read_config(config) == {"server": {"require_keys": True}} and config.stat().st_mode & 0o077 == 0
    config.write_text("[server\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml"):
        edit_config(config, [("server", "port", 1)], check)
    with pytest.raises(ConfigError, match=r"config\.toml"):
        read_config(config)
