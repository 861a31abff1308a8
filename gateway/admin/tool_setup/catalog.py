"""The tools Switchboard can set up, in the order people see them."""

from __future__ import annotations

from gateway.admin.tool_setup import claude_code, codex, continue_dev, opencode, vscode
from gateway.admin.tool_setup.target import Tool

TOOLS: tuple[Tool, ...] = (claude_code.TOOL, codex.TOOL, vscode.TOOL, continue_dev.TOOL, opencode.TOOL)
BY_ID = {tool.id: tool for tool in TOOLS}
