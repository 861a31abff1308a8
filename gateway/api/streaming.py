"""Writing a relayed stream to the client, event by event, as it arrives.

Once the first byte is out there is no status code left to change: a failure becomes the
protocol's in-band error event. If the client goes away (aiohttp cancels the handler), the
upstream request is closed at once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from aiohttp import web

from gateway.errors import GatewayError
from gateway.stream_reply import Reply

log = logging.getLogger("gateway.api")

SSE = "text/event-stream; charset=utf-8"
NDJSON = "application/x-ndjson"


async def relay(
    request: web.BaseRequest,
    reply: Reply,
    request_id: str,
    stamp: Callable[[web.BaseRequest, web.StreamResponse], None],
    content_type: str = SSE,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    response = _EventStream(
        headers={"Content-Type": content_type, "Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})}
    )
    stamp(request, response)
    try:
        await response.prepare(request)
        async for data in reply:
            if reply.complete:  # the last bytes: the stream's end goes out with them, in one write
                await response.write_eof(data)
            else:
                await response.write(data)
    except GatewayError as err:
        log.warning("%s: stream broke off: %s", request_id, err.message)
        await _last_words(response, reply.failure(err))
    except ConnectionResetError:
        log.debug("%s: client went away mid-stream", request_id)
    except Exception:
        log.exception("%s: unexpected error mid-stream", request_id)
        await _last_words(response, reply.failure(GatewayError(f"internal error (request {request_id})")))
    finally:
        reply.close()
    return response


class _EventStream(web.StreamResponse):
    # The headers wait for the first event and go out in the same write (aiohttp's Response
    # does this for whole bodies); a stream is only prepared once its first event is in hand.
    _send_headers_immediately = False


async def _last_words(response: web.StreamResponse, data: bytes) -> None:
    with contextlib.suppress(ConnectionResetError):
        await response.write(data)
