"""How a gateway is put together from its state folder, the same for the headless CLI and the
tray app: settings from the config file, the environment and the keys kept in the secret store;
a server with the local admin token, the database and the secret store; and, for the app,
changes to the settings file checked the way a start would read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.auth import admin_token
from gateway.config import Settings, load_settings
from gateway.config_file import Change, edit_config, read_config
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


class GatewaySetup:
    """How the app makes its gateway from a state folder, each start afresh (so new keys and
    settings take effect on a restart), and how it changes that folder's settings. ``port``: from
    the command line, over the file. ``secrets``: opens the secret store (once; the keychain probe
    is not free)."""

    def __init__(
        self,
        paths: StatePaths,
        env: Mapping[str, str],
        *,
        port: int | None = None,
        secrets: Callable[[], SecretStore] | None = None,
        open_browser: Callable[[str], object] | None = None,
    ) -> None:
        self.paths = paths
        self.env = env
        self.port = port
        self._open_secrets = secrets or (lambda: open_secrets(paths.data_dir))
        self._secrets: SecretStore | None = None
        self._open_browser = open_browser

    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = self._open_secrets()
        return self._secrets

    def settings(self, config: Path | None = None) -> Settings:
        """Blocking. Raises ``ConfigError`` with a message for the user."""
        return read_settings(self.paths, self.env, self.secrets(), config=config, port=self.port)

    def server(self) -> GatewayServer:
        """A server from the settings as they are now (not started). Blocking."""
        return gateway_server(self.settings(), self.paths, self.env, self.secrets(), self._open_browser)

    def config(self) -> dict[str, Any]:
        """The config file as written (what the pages show; the gateway reads it validated)."""
        return read_config(self.paths.config_file)

    def change(self, changes: Sequence[Change]) -> bool:
        """Edit the config file, refused with ``ConfigError`` when the gateway could not start
        from the result. Takes effect on the next start. Blocking."""
        self.paths.ensure()
        return edit_config(self.paths.config_file, changes, self.settings)
