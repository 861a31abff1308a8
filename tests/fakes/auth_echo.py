"""An auth server refusing a request by repeating it (SECURITY.md B44): its body and its
``Authorization`` header go back in every place an error body has text, in one of two shapes.

- ``oauth``: RFC 6749's ``{"error": "invalid_request", "error_description": …}`` with the request
  as a JSON field of its own too (a sound error code; the echo in the description).
- ``nested``: ChatGPT's and GitHub's ``{"error": {"code": …, "message": …}, "message": …,
  "error_details": {"message": …}}`` with the echo even where the code should be.

``also``: fields a refusal should not carry but this one does (a device code, say).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fakes.upstream import Recorded

SHAPES = ("oauth", "nested")
Echo = tuple[int, str]  # (status, shape)


def echoing_refusal(rec: Recorded, echo: Echo, also: dict[str, Any] | None = None) -> web.Response:
    status, shape = echo
    sent = f"{rec.headers.get('Authorization', '')} {rec.body.decode('utf-8', 'replace')}".strip()
    body: dict[str, Any]
    if shape == "oauth":
        body = {
            "error": "invalid_request",
            "error_description": f"cannot accept {sent}",
            "request": rec.json if rec.body[:1] == b"{" else sent,
        }
    else:
        body = {
            "error": {"code": sent, "type": "invalid_request_error", "message": f"cannot accept {sent}"},
            "message": f"cannot accept {sent}",
            "error_details": {"message": sent},
        }
    return web.json_response({**body, **(also or {})}, status=status)
