"""Reading a request body: size-bounded, inflated with a cap, strictly decoded."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from gateway.errors import InvalidRequest, PayloadTooLarge
from gateway.formats.jsonbody import Body, BodyError, decode_body

T = TypeVar("T")


def _inflate(raw: bytes, encoding: str, limit: int) -> bytes:
    # wbits: 16+ for a gzip wrapper, +32 to accept either zlib or gzip headers for "deflate"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else 32 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise InvalidRequest(f"request body is not valid {encoding} data") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"request body inflates past the limit of {limit // 1024} KiB")
    return out


async def read_json(request: web.BaseRequest, limit: int) -> Body:
    """The body, which must be one JSON object, or InvalidRequest / PayloadTooLarge."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"request body is larger than the limit of {limit // 1024} KiB") from None
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("gzip", "deflate"):
        raw = _inflate(raw, encoding, limit)
    try:
        return decode_body(raw)
    except BodyError as exc:
        raise InvalidRequest(exc.message, param=exc.param) from None


def checked(parse: Callable[..., T], body: Body) -> T:
    """Run a format's request parser (given the object and, as ``source``, the client's bytes),
    turning its complaint into a 400 naming the field."""
    try:
        return parse(body.obj, source=body)
    except BodyError as exc:
        raise InvalidRequest(exc.message, param=exc.param) from None
