"""How a gateway is put together from its state folder, the same for the headless CLI and the
tray app: settings from the config file, the environment and the keys kept in the secret store;
a server with the local admin token, the database and the secret store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from gateway.auth import admin_token
from gateway.config import Settings, load_settings
from gateway.paths import StatePaths
from gateway.server import GatewayServer
from gateway.store.provider_keys import stored_keys
from gateway.store.secrets import SecretStore, open_secrets

ADMIN_PASSWORD_ENV = "SWITCHBOARD_ADMIN_PASSWORD"


def read_settings(
    paths: StatePaths,
    env: Mapping[str, str],
    secrets: SecretStore,
    *,
    config: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    require_keys: bool = False,
) -> Settings:
    """Raises ``ConfigError`` with a message for the user."""
    return load_settings(
        config or paths.config_file,
        env,
        explicit=config is not None,
        host=host,
        port=port,
        require_keys=require_keys,
        stored_keys=stored_keys(secrets),
    )


def gateway_server(
    settings: Settings,
    paths: StatePaths,
    env: Mapping[str, str],
    secrets: SecretStore,
    open_browser: Callable[[str], object] | None = None,
) -> GatewayServer:
    """A server over the state folder (not started). Blocking: it writes the admin token file."""
    paths.ensure()
    return GatewayServer(
        settings,
        admin_token=admin_token.issue(paths.data_dir),
        data_dir=paths.data_dir,
        secrets=secrets,
        admin_password=env.get(ADMIN_PASSWORD_ENV) or None,
        environ=env,
        open_browser=open_browser,
    )


def open_server(
    paths: StatePaths,
    env: Mapping[str, str],
    *,
    port: int | None = None,
    open_browser: Callable[[str], object] | None = None,
) -> GatewayServer:
    """Everything from the state folder: the secret store, the settings, the server (not started).
    Blocking. Raises ``ConfigError`` with a message for the user."""
    secrets = open_secrets(paths.data_dir)
    settings = read_settings(paths, env, secrets, port=port)
    return gateway_server(settings, paths, env, secrets, open_browser)
