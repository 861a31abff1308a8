"""Switchboard's gateway: an asyncio LLM gateway, importable and runnable without Qt.

This module is the public surface the tray app uses; everything else is internal.
"""

from gateway.config import Settings, load_settings
from gateway.errors import ConfigError, GatewayError
from gateway.paths import StatePaths, resolve_paths
from gateway.runtime import tune_for_serving
from gateway.server import GatewayServer, ListenError
from gateway.version import __version__

__all__ = [
    "ConfigError",
    "GatewayError",
    "GatewayServer",
    "ListenError",
    "Settings",
    "StatePaths",
    "__version__",
    "load_settings",
    "resolve_paths",
    "tune_for_serving",
]
