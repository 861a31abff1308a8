"""The test request of a tool that was set up, sent to the gateway as that tool would send it —
httpx in a coroutine on the Qt thread's loop (qasync's), like the app's other HTTP."""

from __future__ import annotations

import httpx

from app.viewmodels.tool_check import Probe, outcome

TIMEOUT = httpx.Timeout(120.0, connect=5.0)  # a local model's first answer can take a while


async def check(
    url: str, tool_id: str, probe: Probe, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[bool, str]:
    """Whether the tool's request was answered, and what to show."""
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
        try:
            reply = await client.post(f"{url.rstrip('/')}{probe.path}", headers=probe.headers, json=probe.body)
        except httpx.TimeoutException:
            return False, "Switchboard took too long to answer the test request."
        except httpx.HTTPError:
            return False, "Switchboard did not answer. Is it running?"
    try:
        body = reply.json()
    except ValueError:
        body = None
    return outcome(tool_id, reply.status_code, body)
