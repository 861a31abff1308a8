"""Strict decoding of request bodies.

Python's ``json`` is lenient where an API must not be: it accepts ``NaN``/``Infinity``, keeps the
last of duplicate keys, turns ``1e309`` into infinity and parses integers of any length. Each of
those is refused here with a message naming the problem (SECURITY.md B1–B12). A UTF-8 byte-order
mark is refused too (B12: one documented behaviour).
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_INT_DIGITS = 30


class BodyError(ValueError):
    """The body cannot be used; ``param`` names the field when one is to blame."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def _reject_constant(name: str) -> Any:
    raise BodyError(f"{name} is not valid JSON (use a finite number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyError(f"number {text[:40]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise BodyError(f"integer {text[:20]}… is too large")
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BodyError(f"duplicate key {key!r} in JSON object", param=key)
            seen.add(key)
    return obj


def _too_deep(root: Any) -> bool:
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def decode_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be one JSON object."""
    if not raw.strip():
        raise BodyError("request body is empty; send a JSON object")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise BodyError("request body starts with a byte-order mark; send plain UTF-8 JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"request body is not valid UTF-8 (byte {exc.start})") from None
    try:
        obj = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except BodyError:
        raise
    except json.JSONDecodeError as exc:
        raise BodyError(
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise BodyError(f"request body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BodyError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BodyError(f"request body must be a JSON object, not {type(obj).__name__}")
    if _too_deep(obj):
        raise BodyError(f"request body is nested deeper than {MAX_DEPTH} levels")
    if "\\ud" in text or "\\uD" in text:
        try:  # escaped surrogates are fine in pairs, not alone
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise BodyError("request body contains an unpaired UTF-16 surrogate escape") from None
    return obj


def encode(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
