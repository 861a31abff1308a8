"""How a gateway is put together from its state folder, the same for the headless CLI and the
tray app: settings from the config file, the environment and the keys kept in the secret store;
a server with the local admin token, the database and the secret store; and, for the app,
changes to the settings file checked the way a start would read them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.admin.relocation import move_state
from gateway.auth import admin_token
from gateway.config.editing import Change, SettingsFile
from gateway.config.loading import load_settings
from gateway.config.settings import Settings
from gateway.paths import StatePaths, platform_paths
from gateway.runtime.server import GatewayServer
from gateway.store.folder_lock import FolderLock
from gateway.store.provider_keys import stored_keys
from gateway.store.proxy_passwords import move_passwords_out, with_password
from gateway.store.secrets import SecretStore, SecretsUnreadable, open_sealed, open_secrets

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
    move_passwords: bool = True,
) -> Settings:
    """Raises ``ConfigError`` with a message for the user. ``move_passwords``: first move any proxy
    password the file holds into the secret store (not while checking a staged edit: that file is
    the editor's)."""
    path = config or paths.config_file

    def load(file: Path) -> Settings:
        return load_settings(
            file,
            env,
            explicit=config is not None or file != path,
            host=host,
            port=port,
            require_keys=require_keys,
            stored_keys=stored_keys(secrets),
            proxy_password=with_password(secrets),
        )

    if move_passwords and path.is_file():
        move_passwords_out(path, secrets, load)
    return load(path)


def gateway_server(
    settings: Settings,
    paths: StatePaths,
    env: Mapping[str, str],
    secrets: SecretStore,
    open_browser: Callable[[str], object] | None = None,
    reload: Callable[[], Settings] | None = None,
) -> GatewayServer:
    """A server over the state folder (not started), whose admin routes edit the config file it
    started from, holding the folder's lock until it stops; ``reload``: how ``settings`` were
    read, for it to read them again when they change. Blocking: it writes the admin token
    file. Raises ``FolderBusy`` (a ``ConfigError``), touching nothing, while another gateway
    serves from the folder."""
    paths.ensure()
    config = settings.config_file or paths.config_file
    lock = FolderLock.take(paths.data_dir)
    try:
        return GatewayServer(
            settings,
            admin_token=admin_token.issue(paths.data_dir),
            data_dir=paths.data_dir,
            secrets=secrets,
            admin_password=env.get(ADMIN_PASSWORD_ENV) or None,
            environ=env,
            open_browser=open_browser,
            settings_file=SettingsFile(
                config, lambda staged: read_settings(paths, env, secrets, config=staged, move_passwords=False)
            ),
            folder_lock=lock,
            reload=reload,
        )
    except BaseException:
        lock.release()
        raise


class GatewaySetup:
    """How the app makes its gateway from a state folder (reading the settings afresh at each
    start, and at each ``GatewayServer.reconfigure``), how it changes that folder's settings, and
    how it moves the folder. ``port``: from the command line, over the file. ``secrets``: opens a data folder's
    secret store (once per folder; the keychain probe is not free). ``defaults``: the platform's
    folders (tests inject them)."""

    def __init__(
        self,
        paths: StatePaths,
        env: Mapping[str, str],
        *,
        port: int | None = None,
        secrets: Callable[[Path], SecretStore] = open_secrets,
        open_browser: Callable[[str], object] | None = None,
        defaults: StatePaths | None = None,
    ) -> None:
        self.paths = paths
        self.env = env
        self.port = port
        self._open_secrets = secrets
        self._secrets: SecretStore | None = None
        self._open_browser = open_browser
        self._defaults = defaults
        self.moved: list[Callable[[StatePaths], None]] = []  # told the new paths after a move

    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = self._open_secrets(self.paths.data_dir)
        return self._secrets

    def unlock(self, passphrase: str) -> None:
        """Open the encrypted secrets with ``passphrase``, given after start (the app asks for it
        when none was given at launch), and from then on with it: kept in this process's memory
        only, never written nor logged. Blocking (the passphrase is hashed); raises
        ``ConfigError`` for a wrong one, in words that never repeat it."""
        self._secrets = open_sealed(self.paths.data_dir, passphrase)
        self._open_secrets = functools.partial(open_secrets, passphrase=passphrase)

    def set_aside_secrets(self) -> Path | None:
        """Move a secrets file that cannot be read out of the way (renamed beside itself, kept,
        never deleted), so the next start makes new secrets in an empty store; where it went,
        or None when the store opens after all. Blocking."""
        try:
            self.secrets()
        except SecretsUnreadable as unreadable:
            return unreadable.set_aside()
        return None

    def move(self, target: Path) -> list[str]:
        """Move the state folder to ``target`` (the gateway stopped: ``GatewayHost.while_stopped``);
        the next start uses it. Returns what of the old place could not be removed. Blocking;
        raises ``ConfigError`` (or ``OSError``) with the old state untouched."""
        new, left = move_state(self.paths, target, self._defaults or platform_paths(), self._open_secrets)
        self.paths, self._secrets = new, None
        for observer in self.moved:
            observer(new)
        return left

    def settings(self, config: Path | None = None) -> Settings:
        """Blocking. Raises ``ConfigError`` with a message for the user."""
        return read_settings(self.paths, self.env, self.secrets(), config=config, port=self.port)

    def server(self) -> GatewayServer:
        """A server from the settings as they are now (not started). Blocking."""
        return gateway_server(
            self.settings(), self.paths, self.env, self.secrets(), self._open_browser, reload=self.settings
        )

    @property
    def settings_file(self) -> SettingsFile:
        return SettingsFile(self.paths.config_file, self.settings)

    def config(self) -> dict[str, Any]:
        """The config file as written (what the pages show; the gateway reads it validated)."""
        return self.settings_file.read()

    def change(self, changes: Sequence[Change]) -> bool:
        """Edit the config file, refused with ``ConfigError`` when the gateway could not start
        from the result. The running gateway reads it at its ``reconfigure``. Blocking."""
        self.paths.ensure()
        return self.settings_file.change(changes)
