"""``[shared] redis``: read from the config file (its password never in a settings' repr), a wrong
address refused in words, and the limits it gives a gateway: shared in Redis, or in-process without."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.clock import SystemClock
from gateway.config.loading import load_settings
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.pipeline.limits import Limits
from gateway.pipeline.shared_limits import SharedLimits
from gateway.runtime.team import Team, limits_for


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {}, explicit=True)


def test_the_redis_address_is_read_and_kept_out_of_repr(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, '[shared]\nredis = "redis://:s3cret-pass@10.1.2.3:6379/2"\n')
    assert settings.shared.redis == "redis://:s3cret-pass@10.1.2.3:6379/2"
    assert "s3cret-pass" not in repr(settings)
    assert isinstance(limits_for(Team.made(settings), SystemClock()), SharedLimits)


def test_without_redis_limits_stay_in_this_process(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")
    assert settings.shared.redis is None
    assert Team.made(settings) is None and type(limits_for(None, SystemClock())) is Limits


def test_an_address_that_is_not_redis_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[shared\].redis must be an address starting redis://"):
        settings_from(tmp_path, '[shared]\nredis = "http://127.0.0.1:6379"\n')
