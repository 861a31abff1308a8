"""A proxy's password never stays in the config file: a start moves it into the secret store and
writes the address back without it (the rest of the file as it was), and loading finds it again."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_relocation import Keychain, populated

from gateway.admin.relocation import move_state
from gateway.paths import StatePaths
from gateway.runtime.launch import read_settings
from gateway.runtime.upstream import upstream_transport
from gateway.store.secrets import MemorySecrets
from gateway.transport.proxies import Proxy

CONFIG = """# my settings
[network]
proxy = "http://ann:s%40cret-one@proxy.corp:3128"  # the office proxy

[providers.groq]
api_key_env = "GROQ_KEY"
proxy = "socks5://sam:cret-two@10.1.1.1:1080"
"""
ENV = {"GROQ_KEY": "gsk_0123456789abcdef"}


def paths(tmp_path: Path) -> StatePaths:
    return StatePaths(tmp_path / "config", tmp_path / "data", tmp_path / "logs")


def test_a_start_moves_proxy_passwords_into_the_secret_store(tmp_path: Path) -> None:
    where = paths(tmp_path)
    where.config_dir.mkdir()
    where.config_file.write_text(CONFIG, encoding="utf-8")
    secrets = MemorySecrets()
    settings = read_settings(where, ENV, secrets)
    kept = where.config_file.read_text(encoding="utf-8")
    assert "cret-one" not in kept and "cret-two" not in kept
    assert 'proxy = "http://ann@proxy.corp:3128"  # the office proxy' in kept and kept.startswith("# my settings")
    assert 'proxy = "socks5://sam@10.1.1.1:1080"' in kept
    assert settings.network.proxy == Proxy("http", "proxy.corp", 3128, "ann", "s@cret-one")
    again = read_settings(where, ENV, secrets)  # the file has no password now: the store's is used
    own = dict(again.network.provider_proxies)["groq"]
    assert isinstance(own, Proxy) and (own.user, own.password) == ("sam", "cret-two")
    assert where.config_file.read_text(encoding="utf-8") == kept


def test_a_user_name_without_a_stored_password_has_none(tmp_path: Path) -> None:
    where = paths(tmp_path)
    where.config_dir.mkdir()
    where.config_file.write_text('[network]\nproxy = "http://ann@proxy.corp:3128"\n', encoding="utf-8")
    proxy = read_settings(where, {}, MemorySecrets()).network.proxy
    assert isinstance(proxy, Proxy) and (proxy.user, proxy.password) == ("ann", "")


def test_moving_the_state_folder_carries_the_proxy_passwords(tmp_path: Path) -> None:
    keychain = Keychain()
    defaults, paths_in_use, _ = populated(tmp_path, keychain)
    defaults.config_file.write_text(CONFIG, encoding="utf-8")
    read_settings(paths_in_use, ENV, keychain(defaults.data_dir))  # the passwords go to the keychain
    new, left = move_state(paths_in_use, tmp_path / "elsewhere", defaults, keychain)
    assert left == []
    proxy = read_settings(new, ENV, keychain(new.data_dir)).network.proxy
    assert isinstance(proxy, Proxy) and proxy.password == "s@cret-one"
    assert keychain(defaults.data_dir).values == {}


def test_a_start_says_which_proxy_it_uses_without_its_credentials(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="gateway.transport")
    env = {"HTTPS_PROXY": "http://ann:cret-three@proxy.corp:3128"}
    upstream_transport(read_settings(paths(tmp_path), env, MemorySecrets()))
    assert "through the proxy at http://proxy.corp:3128 (named by the environment)" in caplog.text
    assert "cret-three" not in caplog.text and "ann" not in caplog.text


def test_an_accounts_proxy_password_is_moved_too_its_label_dots_and_all(tmp_path: Path) -> None:
    where = paths(tmp_path)
    where.config_dir.mkdir()
    where.config_file.write_text(
        '[accounts."codex:ada@example.com"]\nproxy = "http://ann:cret-three@proxy.corp:3128"\n', encoding="utf-8"
    )
    secrets = MemorySecrets()
    settings = read_settings(where, ENV, secrets)
    kept = where.config_file.read_text(encoding="utf-8")
    assert "cret-three" not in kept and '[accounts."codex:ada@example.com"]' in kept
    assert 'proxy = "http://ann@proxy.corp:3128"' in kept
    own = dict(settings.network.account_proxies)["codex:ada@example.com"]
    assert isinstance(own, Proxy) and (own.user, own.password) == ("ann", "cret-three")
    again = dict(read_settings(where, ENV, secrets).network.account_proxies)["codex:ada@example.com"]
    assert again == own
