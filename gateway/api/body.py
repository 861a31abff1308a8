"""Reading a request body: size-bounded, decompressed with a cap, strictly decoded."""

from __future__ import annotations

import logging
import sys
import zlib
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from aiohttp import web

from gateway.api.connections import BodyTimedOut
from gateway.errors import InvalidRequest, PayloadTooLarge, RequestTimeout
from gateway.formats.common.fields import model_name
from gateway.formats.common.jsonbody import Body, BodyError, decode_body, without_steering

if sys.version_info >= (3, 14):
    from compression.zstd import DecompressionParameter, ZstdDecompressor, ZstdError
else:
    from backports.zstd import DecompressionParameter, ZstdDecompressor, ZstdError

T = TypeVar("T")
log = logging.getLogger("gateway.api")
# The model a body names, once it reads as JSON: the ledger row of a request refused after that
# says which model the client asked for.
NAMED_MODEL = web.RequestKey("named_model", str)
_ZLIB_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,  # a gzip wrapper
    "deflate": 32 + zlib.MAX_WBITS,  # either a zlib or a gzip header, as clients disagree on it
}
# A zstd frame names the window its decoder allocates (up to 128 MiB by default, whatever the frame
# holds): allow what the body limit or zstd's standard levels (8 MiB at level 19) can need.
_ZSTD_WINDOW_LOG = 23


class _Decompressor(Protocol):
    """What zlib's and zstd's streaming decompressors share."""

    def decompress(self, data: bytes, max_length: int, /) -> bytes: ...

    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...


def _decompressor(encoding: str, limit: int) -> _Decompressor:
    if encoding == "zstd":
        window_log = max(_ZSTD_WINDOW_LOG, limit.bit_length())
        return ZstdDecompressor(options={DecompressionParameter.window_log_max: window_log})
    return zlib.decompressobj(_ZLIB_WBITS[encoding])


def _decompressed(raw: bytes, encoding: str, limit: int) -> bytes:
    """The body decompressed, stopping one byte past ``limit`` however much it would expand to."""
    decompressor = _decompressor(encoding, limit)
    try:
        out = decompressor.decompress(raw, limit + 1)
    except (zlib.error, ZstdError) as exc:
        raise InvalidRequest(f"request body is not valid {encoding} data ({exc})") from None
    if len(out) > limit:
        raise PayloadTooLarge(f"request body decompresses past the limit of {limit // 1024} KiB")
    if not decompressor.eof or decompressor.unused_data:
        raise InvalidRequest(f"request body is not one whole {encoding} stream (cut short, or with data after it)")
    return out


async def read_json(request: web.BaseRequest, limit: int) -> Body:
    """The body, which must be one JSON object, or InvalidRequest / PayloadTooLarge."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"request body is larger than the limit of {limit // 1024} KiB") from None
    except BodyTimedOut as exc:  # B28: a body sent too slowly
        raise RequestTimeout(str(exc)) from None
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("gzip", "deflate", "zstd"):
        raw = _decompressed(raw, encoding, limit)
    try:
        body = decode_body(raw)
    except BodyError as exc:
        raise InvalidRequest(exc.message, param=exc.param) from None
    _note_model(request, body.obj)
    return body


def _note_model(request: web.BaseRequest, obj: dict[str, Any]) -> None:
    """Keep the model the body names, if it is a well-formed name (a bad one is the client's to see
    in its error, not the ledger's to store)."""
    try:
        model_name(obj.get("model"), "model")
    except BodyError:
        return
    request[NAMED_MODEL] = obj["model"]


def checked(parse: Callable[..., T], body: Body) -> T:
    """Run a format's request parser (given the object and, as ``source``, the client's bytes),
    turning its complaint into a 400 naming the field. Members that would steer the upstream call
    are left out first, on every route, the passthrough included (SECURITY.md S23)."""
    body, steering = without_steering(body)
    if steering:
        log.info("left out of a request, never sent upstream: %s", ", ".join(steering))
    try:
        return parse(body.obj, source=body)
    except BodyError as exc:
        raise InvalidRequest(exc.message, param=exc.param) from None
