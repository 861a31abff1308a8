"""Switchboard's gateway: an asyncio LLM gateway, importable and runnable without Qt.

This module is the public surface the tray app uses; everything else is internal.
"""

import typing as _typing

from gateway.admin.control import Control
from gateway.admin.relocation import MOVABLE
from gateway.config.editing import Change
from gateway.config.loading import load_settings
from gateway.config.settings import LOG_LEVELS, THEMES, Settings
from gateway.errors import ConfigError, GatewayError
from gateway.paths import StatePaths, platform_paths, resolve_paths
from gateway.runtime.launch import GatewaySetup
from gateway.runtime.logs import start_logging
from gateway.runtime.server import GatewayServer, ListenError
from gateway.runtime.tuning import new_event_loop, tune_for_serving
from gateway.store.secrets import SecretsUnreadable
from gateway.store.secrets import opener_from as secrets_opener
from gateway.store.secrets import place_of as secrets_place
from gateway.version import __version__

if _typing.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "LOG_LEVELS",
    "MOVABLE",
    "THEMES",
    "Change",
    "ConfigError",
    "Control",
    "GatewayError",
    "GatewayServer",
    "GatewaySetup",
    "ListenError",
    "SecretsUnreadable",
    "Settings",
    "StatePaths",
    "__version__",
    "load_settings",
    "new_event_loop",
    "platform_paths",
    "resolve_paths",
    "run_headless",
    "run_self_test",
    "secrets_opener",
    "secrets_place",
    "start_logging",
    "tune_for_serving",
]


def run_self_test(more: "Sequence[tuple[str, Callable[[], str]]]" = ()) -> int:
    """``--self-test``: the bundled pieces, and a gateway on a free port asked for /health and
    /v1/models, and ``more`` checks (the app's); 0 when all pass."""
    from gateway.runtime.self_test import run

    return run(more)


def run_headless(argv: list[str] | None = None) -> int:
    """The headless gateway's command line, as ``python -m gateway`` runs it."""
    from gateway.cli.main import main

    return main(argv)
