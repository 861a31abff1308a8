"""``[shared] redis``: read from the config file, which never holds its password (the environment
or the secret store does, and a Redis that asks for one gets it), a wrong address refused in words,
and the limits it gives a gateway: shared in Redis, or in-process without."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers.redis import RedisServer

from gateway.clock import SystemClock
from gateway.config.loading import load_settings
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.ids import RequestIds
from gateway.pipeline.limits import Limits
from gateway.pipeline.shared_limits import SharedLimits
from gateway.runtime.team import Team, limits_for
from gateway.runtime.upstream import upstream_transport
from gateway.runtime.wiring import build_gateway
from gateway.store.secrets import MemorySecrets


def settings_from(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, {}, explicit=True)


async def test_the_password_comes_from_the_secret_store_or_the_environment(tmp_path: Path, redis_folder: Path) -> None:
    server = RedisServer(redis_folder, None, "--requirepass", "s3cret-pass")
    server.start()
    try:
        settings = settings_from(tmp_path, f'[shared]\nredis = "{server.url}"\n')
        assert isinstance(
            limits_for(Team.made(settings, SystemClock(), MemorySecrets(), {}), SystemClock()), SharedLimits
        )
        kept = MemorySecrets()
        kept.set("redis-password", "s3cret-pass")
        for secrets, env, answers in (
            (MemorySecrets(), {}, False),  # refused: NOAUTH
            (kept, {}, True),
            (MemorySecrets(), {"SWITCHBOARD_REDIS_PASSWORD": "s3cret-pass"}, True),
        ):
            team = Team.made(settings, SystemClock(), secrets, env)
            assert team is not None
            assert await team.answers() is answers
            await team.close()
    finally:
        server.stop()


def test_a_password_in_the_address_is_refused_and_not_repeated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must not hold the password") as refused:
        settings_from(tmp_path, '[shared]\nredis = "redis://:s3cret-pass@10.1.2.3:6379/2"\n')
    assert "s3cret-pass" not in str(refused.value)


def test_without_redis_limits_stay_in_this_process(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")
    assert settings.shared.redis is None
    assert Team.made(settings, SystemClock()) is None and type(limits_for(None, SystemClock())) is Limits


def test_an_address_that_is_not_redis_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[shared\].redis must be a redis://, rediss:// or unix:// address"):
        settings_from(tmp_path, '[shared]\nredis = "http://127.0.0.1:6379"\n')


async def test_a_cli_commands_one_pipeline_joins_no_team(tmp_path: Path) -> None:
    """``models`` or ``doctor`` serve no client key: no Redis client is opened for them (and left unclosed)."""
    settings = settings_from(tmp_path, '[shared]\nredis = "redis://127.0.0.1:1/0"\n')
    transport = upstream_transport(settings)
    gateway = build_gateway(settings, transport, SystemClock(), RequestIds())
    await transport.aclose()
    assert type(gateway.accounting.limits) is Limits
