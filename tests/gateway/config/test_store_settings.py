"""``[store] url``: unset is the SQLite database; a postgresql:// address without its password."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.loading import load_settings
from gateway.config.store import StoreSettings
from gateway.errors import ConfigError


def _load(tmp_path: Path, text: str) -> StoreSettings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {}).store


def test_unset_is_the_database_in_the_state_folder(tmp_path: Path) -> None:
    assert _load(tmp_path, "").url is None


@pytest.mark.parametrize(
    "url", ["postgresql://switchboard@db.internal:5432/team", "postgres:///team?host=/run/postgresql"]
)
def test_a_postgresql_address_is_taken(tmp_path: Path, url: str) -> None:
    assert _load(tmp_path, f'[store]\nurl = "{url}"\n').url == url


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://switchboard:hunter2@db:5432/team", "must not hold the password"),
        ("postgresql://switchboard@db/team?password=hunter2", "must not hold the password"),
        ("mysql://db/team", "must be a postgresql:// address"),
        ("postgresql://db:notaport/team", "is not an address"),
    ],
)
def test_an_address_with_a_password_or_of_another_kind_is_refused_without_repeating_it(
    tmp_path: Path, url: str, said: str
) -> None:
    with pytest.raises(ConfigError, match=said) as caught:
        _load(tmp_path, f'[store]\nurl = "{url}"\n')
    assert "hunter2" not in str(caught.value)


def test_an_unknown_key_in_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="password"):
        _load(tmp_path, '[store]\nurl = "postgresql://db/team"\npassword = "x"\n')
