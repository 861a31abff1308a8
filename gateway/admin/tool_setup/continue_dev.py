"""Continue: a model entry named "Switchboard" in ``~/.continue/config.yaml`` — an OpenAI provider
at the gateway's /v1 — put first under ``models:`` so it is the one Continue starts with.

The file is YAML the user may have commented; it is edited as text (the runtime carries no YAML
library): our entry is one block that starts with a marker comment, found and replaced as a
whole when set up again, and every other line is left as it was.
"""

from __future__ import annotations

import json
import re

from gateway.admin.tool_setup.places import Places
from gateway.admin.tool_setup.target import Target, Tool

MARKER = "# Switchboard's entry (Switchboard's Restore takes it out)"
NEW_FILE = "name: Local config\nversion: 1.0.0\nschema: v1\n"
_MODELS = re.compile(r"^models:[ \t]*(\[\s*\])?[ \t]*(#.*)?$", re.MULTILINE)
_ANY_MODELS = re.compile(r"^models:", re.MULTILINE)
_ITEM = re.compile(r"^([ \t]*)- ", re.MULTILINE)


def _block(target: Target, indent: str) -> str:
    field = indent + "  "
    lines = [
        f"{indent}{MARKER}",
        f"{indent}- name: Switchboard",
        f"{field}provider: openai",
        f"{field}model: {json.dumps(target.model)}",
        f"{field}apiBase: {json.dumps(target.v1)}",
        f"{field}apiKey: {json.dumps(target.token)}",
    ]
    return "\n".join(lines) + "\n"


def _without_ours(text: str) -> str:
    """``text`` less the block a previous set-up wrote."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip() == MARKER:
            indent = len(line) - len(line.lstrip())
            end = i + 2  # the marker and the entry's first line
            while end < len(lines) and (len(lines[end]) - len(lines[end].lstrip()) > indent + 1):
                end += 1
            return "".join(lines[:i] + lines[end:])
    return text


def configure(text: str, target: Target) -> str:
    text = _without_ours(text) if text.strip() else NEW_FILE
    found = _MODELS.search(text)
    if found is None and _ANY_MODELS.search(text):  # "models: [{…}]": a second list would be a second key
        raise ValueError("its models are written on one line, which Switchboard does not edit")
    if found is None:
        ending = "" if text.endswith("\n") else "\n"
        return f"{text}{ending}models:\n{_block(target, '  ')}"
    after = found.end() + 1 if found.end() < len(text) else len(text)
    item = _ITEM.search(text, after)
    indent = item.group(1) if item and not text[after : item.start()].strip() else "  "
    if found.group(1):  # "models: []": the empty list becomes a list of ours
        head = text[: found.start()] + "models:" + (f" {found.group(2)}" if found.group(2) else "") + "\n"
    else:
        head = text[: found.end()] + "\n"
    return head + _block(target, indent) + text[after:]


def points_at(text: str, url: str) -> bool:
    return MARKER in text and json.dumps(f"{url.rstrip('/')}/v1") in text


TOOL = Tool(
    id="continue",
    name="Continue",
    programs=("cn",),
    folder=Places.continue_dir,
    file_name="config.yaml",
    configure=configure,
    points_at=points_at,
)
