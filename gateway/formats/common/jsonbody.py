"""Strict decoding of request bodies, and the one JSON encoder.

Python's ``json`` is lenient where an API must not be: it accepts ``NaN``/``Infinity``, keeps the
last of duplicate keys, turns ``1e309`` into infinity and parses integers of any length. orjson
(also several times faster, which matters on the hot path) refuses the non-standard literals,
out-of-range numbers, invalid UTF-8, lone surrogates and a byte-order mark by itself (SECURITY.md
B1–B12). Two rules are added here: no duplicate keys, and at most ``MAX_DEPTH`` levels of nesting
— the depth at which orjson's encoder stops, and every request is re-encoded on its way upstream.

Integers beyond 64 bits become floats, as orjson reads them; every field the gateway reads is
range-checked as an integer, so such a value there is refused, and elsewhere it is meaningless.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

MAX_DEPTH = 254


class BodyError(ValueError):
    """The body cannot be used; ``param`` names the field when one is to blame."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def untranslatable(param: str, what: str) -> BodyError:
    """A request that is valid in its own protocol but holds ``what``, which the upstream's
    protocol cannot carry: refused by name rather than dropped."""
    return BodyError(f"'{param}': {what} cannot be translated for this model's provider.", param)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BodyError(f"duplicate key {key!r} in JSON object", param=key)
            seen.add(key)
    return obj


def _raise_on_duplicate(raw: bytes) -> None:
    json.loads(raw, object_pairs_hook=_no_duplicates)


_KEY = re.compile(rb'"((?:[^"\\]|\\.){1,128})"\s*:\s*-?$')


def _key_before(raw: bytes, pos: int) -> str | None:
    """The key whose value starts where the parser gave up (``"temperature": NaN``), if any."""
    found = _KEY.search(raw, max(0, pos - 200), pos)
    if found is None:
        return None
    try:
        key = orjson.loads(b'"' + found.group(1) + b'"')
    except orjson.JSONDecodeError:
        return None
    return key if isinstance(key, str) else None


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as the client sent it, what it decodes to, and orjson's encoding of that
    (no whitespace, only the escapes JSON requires)."""

    raw: bytes
    obj: dict[str, Any]
    canonical: bytes


def decode_body(raw: bytes) -> Body:
    """Decode a request body that must be one JSON object, keeping its bytes."""
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not raw.strip():
            raise BodyError("request body is empty; send a JSON object") from None
        if raw.startswith(b"\xef\xbb\xbf"):
            raise BodyError("request body starts with a byte-order mark; send plain UTF-8 JSON") from None
        raise BodyError(f"request body is not valid JSON: {exc}", param=_key_before(raw, exc.pos)) from None
    if type(obj) is not dict:
        raise BodyError(f"request body must be a JSON object, not {type(obj).__name__}")
    try:
        again = orjson.dumps(obj)
    except orjson.JSONEncodeError:
        raise BodyError(f"request body is nested deeper than {MAX_DEPTH} levels") from None
    # A dropped duplicate key takes its quotes with it, so the re-encoding shows fewer. Any mismatch
    # (unusual escaping can cause one too) gets the exact, slower check that names the key.
    if raw.count(b'"') != again.count(b'"'):
        _raise_on_duplicate(raw)
    return Body(raw, obj, again)


# Members that would point an upstream call elsewhere or change its credentials, were a server
# behind the gateway to honour them (LiteLLM's proxy did: CVE-2024-6587). Never sent upstream.
STEERING = frozenset({"api_base", "base_url", "api_key", "extra_headers", "user_config", "url", "endpoint"})


def without_steering(body: Body) -> tuple[Body, tuple[str, ...]]:
    """The body without its top-level ``STEERING`` members, and their names (SECURITY.md S23).

    Bodies rarely hold one: a look at the object's own keys says so at a cost that does not grow
    with the body (a search of its bytes would), and only a body that has one is re-encoded.
    """
    if STEERING.isdisjoint(body.obj):
        return body, ()
    obj = {key: value for key, value in body.obj.items() if key not in STEERING}
    again = encode(obj)
    return Body(again, obj, again), tuple(sorted(STEERING.intersection(body.obj)))


_STRING_MODEL = re.compile(rb'"model"\s*:\s*(?=")')
_MEMBER = re.compile(rb'"model"\s*:\s*')
_SPACE = b" \t\r\n"


def _opens_key(data: bytes, quote: int) -> bool:
    """In valid JSON a ``"`` not escaped is a delimiter; one after ``{`` or ``,`` opens a key."""
    i = quote - 1
    while i >= 0 and data[i] in _SPACE:
        i -= 1
    return i >= 0 and data[i] in b"{,"


def _model_value_at(raw: bytes) -> int:
    """Where the value of the top-level ``model`` member starts in the client's bytes, or -1 when
    that cannot be told apart from other members named ``model``."""
    at = raw.find(b'"model"')
    if at >= 0 and raw.find(b'"model"', at + 7) < 0:  # the usual case: the name appears once
        member = _MEMBER.match(raw, at)
        return member.end() if member else -1
    # Several: tools may have a "model" parameter (Claude Code's Task tool does). Only one of
    # them may hold a string and be a key.
    spans = [m.end() for m in _STRING_MODEL.finditer(raw) if _opens_key(raw, m.start())]
    return spans[0] if len(spans) == 1 else -1


def with_model(source: Body | None, obj: dict[str, Any], model: str) -> bytes:
    """The body with its top-level ``model`` replaced and every other byte as the client sent it.

    Spliced when the member is unambiguous: the only string-valued ``model`` member in the client's
    bytes and in the canonical encoding alike (so no escaped key hides the top-level one), written
    as orjson writes it. Otherwise, or without the client's bytes, the object is re-encoded: the same
    JSON, in different bytes.
    """
    if source is not None:
        raw, old = source.raw, orjson.dumps(obj["model"])
        start = _model_value_at(raw)
        # In the canonical bytes '"model":"' can only be a key with a string value.
        if start >= 0 and raw.startswith(old, start) and source.canonical.count(b'"model":"') == 1:
            return raw[:start] + orjson.dumps(model) + raw[start + len(old) :]
    return encode({**obj, "model": model})


def with_member(body: bytes, key: str, value: Any) -> bytes:
    """``body`` (a non-empty JSON object without ``key``) with ``"key": value`` added last."""
    end = body.rindex(b"}")
    return body[:end] + b"," + orjson.dumps(key) + b":" + orjson.dumps(value) + body[end:]


class MalformedEvent(ValueError):
    """A stream's event (an SSE event's data, an NDJSON line) that is not JSON. Clients parse
    every event, so a stream that holds one cannot go on (SECURITY.md B36)."""


def event_json(data: bytes) -> Any:
    """An event's data parsed; None for data that carries nothing (blank, or OpenAI's ``[DONE]``
    end marker); MalformedEvent for anything else that is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        if data.strip() in (b"", b"[DONE]"):
            return None
        raise MalformedEvent(f"a stream event of {len(data)} bytes is not JSON") from None


def as_object(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one: for reading upstream answers."""
    return value if isinstance(value, dict) else {}


def encode(obj: Any) -> bytes:
    return orjson.dumps(obj)


loads = orjson.loads
