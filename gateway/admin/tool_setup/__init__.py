"""Pointing the coding tools on this computer at Switchboard, and back: one module per tool (its
file and how it is edited), the backups that make Restore exact, and the set-up door the command
line and the app share."""

from gateway.admin.tool_setup.catalog import BY_ID, TOOLS
from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.setup import ToolSetup, ToolState
from gateway.admin.tool_setup.target import DEFAULT_MODEL, Target, Tool, ToolSetupError

__all__ = ["BY_ID", "DEFAULT_MODEL", "TOOLS", "Places", "Target", "Tool", "ToolSetup", "ToolSetupError", "ToolState"]
