"""Minimal edits of JSON with comments (VS Code's settings.json, OpenCode's and Claude Code's
settings): one member set by its path, every other byte — comments, order, indentation, trailing
commas — left as the user wrote it. Pure text in, text out; no I/O."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_LITERAL = re.compile(r"[^\s,\]}/]+")


class JsoncError(ValueError):
    """The text is not an object in JSON with comments."""


@dataclass(frozen=True, slots=True)
class _Member:
    key: str
    value_start: int
    value_end: int


def _skip(text: str, i: int) -> int:
    """Past whitespace and comments."""
    while i < len(text):
        if text[i].isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise JsoncError("a comment is not closed")
            i = end + 2
        else:
            break
    return i


def _string_end(text: str, i: int) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
        elif text[j] == '"':
            return j + 1
        else:
            j += 1
    raise JsoncError("a string is not closed")


def _value_end(text: str, i: int) -> int:
    if i >= len(text):
        raise JsoncError("a value is missing")
    if text[i] == '"':
        return _string_end(text, i)
    if text[i] == "{":
        return _members(text, i)[1] + 1
    if text[i] == "[":
        j = _skip(text, i + 1)
        while j < len(text) and text[j] != "]":
            j = _skip(text, _value_end(text, j))
            if j < len(text) and text[j] == ",":
                j = _skip(text, j + 1)
        if j >= len(text):
            raise JsoncError("a list is not closed")
        return j + 1
    found = _LITERAL.match(text, i)
    if found is None:
        raise JsoncError(f"unexpected {text[i]!r} at character {i}")
    return found.end()


def _members(text: str, start: int) -> tuple[list[_Member], int]:
    """The members of the object whose ``{`` is at ``start``, and where its ``}`` is."""
    members = []
    i = _skip(text, start + 1)
    while i < len(text) and text[i] != "}":
        if text[i] != '"':
            raise JsoncError(f"a member's name was expected at character {i}")
        key_end = _string_end(text, i)
        key = json.loads(text[i:key_end])
        i = _skip(text, key_end)
        if i >= len(text) or text[i] != ":":
            raise JsoncError(f"':' was expected at character {i}")
        value_start = _skip(text, i + 1)
        value_end = _value_end(text, value_start)
        members.append(_Member(key, value_start, value_end))
        i = _skip(text, value_end)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    if i >= len(text):
        raise JsoncError("an object is not closed")
    return members, i


def _root(text: str) -> int:
    i = _skip(text, 0)
    if i >= len(text) or text[i] != "{":
        raise JsoncError("the file does not hold an object")
    return i


def loads(text: str) -> Any:
    """The value, comments and trailing commas set aside."""
    if not text.strip():
        return {}
    plain, i = [], 0
    while i < len(text):
        if text[i] == '"':
            end = _string_end(text, i)
            plain.append(text[i:end])
            i = end
        elif text.startswith(("//", "/*"), i):
            i = _skip(text, i)
            plain.append(" ")
        elif text[i] == ",":
            after = _skip(text, i + 1)
            if after >= len(text) or text[after] not in "}]":
                plain.append(",")
            i += 1
        else:
            plain.append(text[i])
            i += 1
    try:
        return json.loads("".join(plain))
    except json.JSONDecodeError as exc:
        raise JsoncError(str(exc)) from None


def _indent_unit(text: str) -> str:
    found = re.search(r"\n([ \t]+)\S", text)
    return found.group(1) if found else "  "


def _line_indent(text: str, i: int) -> str:
    line_start = text.rfind("\n", 0, i) + 1
    found = re.match(r"[ \t]*", text[line_start:])
    return found.group(0) if found else ""


def _render(value: Any, indent: str, unit: str) -> str:
    rendered = json.dumps(value, indent=unit if "\t" in unit else len(unit), ensure_ascii=False)
    return rendered.replace("\n", "\n" + indent)


def set_value(text: str, path: tuple[str, ...], value: Any) -> str:
    """``text`` with the member at ``path`` set to ``value`` (objects on the way made as needed)."""
    if not text.strip():
        nested = value
        for key in reversed(path):
            nested = {key: nested}
        return json.dumps(nested, indent=2, ensure_ascii=False) + "\n"
    return _set(text, _root(text), path, value, _indent_unit(text))


def _set(text: str, start: int, path: tuple[str, ...], value: Any, unit: str) -> str:
    members, close = _members(text, start)
    key, rest = path[0], path[1:]
    for member in reversed(members):  # the last of duplicate names is the one JSON readers keep
        if member.key != key:
            continue
        if rest and text[member.value_start] == "{":
            return _set(text, member.value_start, rest, value, unit)
        for name in reversed(rest):
            value = {name: value}
        indent = _line_indent(text, member.value_start)
        return text[: member.value_start] + _render(value, indent, unit) + text[member.value_end :]
    for name in reversed(rest):
        value = {name: value}
    return _insert(text, start, members, close, key, value, unit)


def _insert(text: str, start: int, members: list[_Member], close: int, key: str, value: Any, unit: str) -> str:
    outer = _line_indent(text, start)
    first_on_own_line = bool(members) and "\n" in text[start : members[0].value_start]
    indent = _line_indent(text, members[0].value_start) if first_on_own_line else outer + unit
    member = f"{json.dumps(key, ensure_ascii=False)}: {_render(value, indent, unit)}"
    own_line = text[text.rfind("\n", 0, close) + 1 : close].strip() == ""
    if members:
        last = members[-1].value_end
        after = _skip(text, last)
        trailing = after < len(text) and text[after] == ","
        if own_line:
            line_start = text.rfind("\n", 0, close) + 1
            added = f"{indent}{member}{',' if trailing else ''}\n"
            head = text[:line_start] if trailing else text[:last] + "," + text[last:line_start]
            return head + added + text[line_start:]
        return text[:last] + f", {member}" + text[last:]
    if own_line:
        line_start = text.rfind("\n", 0, close) + 1
        return text[:line_start] + f"{indent}{member}\n" + text[line_start:]
    return text[: start + 1] + f"\n{indent}{member}\n{outer}" + text[close:]
