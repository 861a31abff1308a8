"""Where the tool-setup tests put a user's home and Switchboard's state: a temporary home on Linux,
no program installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.admin.tool_setup import TOOLS, Places


@pytest.fixture
def places(tmp_path: Path) -> Places:
    home = tmp_path / "home"
    home.mkdir()
    return Places(home=home, state=tmp_path / "state", env={}, which=lambda name: None, platform="linux")


def tool_file(places: Places, tool_id: str) -> Path:
    """The settings file of the tool ``tool_id`` under ``places``."""
    return next(t for t in TOOLS if t.id == tool_id).file(places)
