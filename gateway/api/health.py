"""``GET /health``: liveness only. No auth, no upstream call, no work.

``GET /health/ready``: whether a load balancer should send this gateway traffic: 200 while its
database and (in team mode) Redis answer, 503 when one does not, and 503 from the moment a stop
begins (``draining``) while the requests in flight finish."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from gateway.formats.common.jsonbody import encode
from gateway.version import __version__

_BODY = encode({"status": "ok", "version": __version__})
_JSON = {"Content-Type": "application/json"}
CHECK_TIMEOUT = 2.0  # seconds a dependency has to answer before it counts as down

Check = Callable[[], Awaitable[bool]]


async def health(request: web.BaseRequest) -> web.Response:
    return web.Response(body=_BODY, headers=_JSON)


class Readiness:
    """``checks``: by name (``database``, ``redis``), each answering whether it is reachable now."""

    def __init__(self, checks: Mapping[str, Check]) -> None:
        self._checks = dict(checks)
        self.draining = False

    async def ready(self, request: web.BaseRequest) -> web.Response:
        if self.draining:
            return web.Response(status=503, body=encode({"status": "draining"}), headers=_JSON)
        answers = await asyncio.gather(*(_answers(check) for check in self._checks.values()))
        failing = [name for name, ok in zip(self._checks, answers, strict=True) if not ok]
        if failing:
            return web.Response(status=503, body=encode({"status": "unready", "failing": failing}), headers=_JSON)
        return web.Response(body=encode({"status": "ready"}), headers=_JSON)


async def _answers(check: Check) -> bool:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception:  # whatever a dependency raises, it did not answer
        return False
