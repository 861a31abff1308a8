"""The test request of a tool that was set up, sent to the gateway as that tool would send it. It
goes the way the app's own test chat goes (app/try_chat.py): the same client (straight to the
gateway, whatever proxy the environment names), the same address (a gateway listening on every
interface is called over loopback) and the same words when the gateway does not answer."""

from __future__ import annotations

import httpx

from app.try_chat import BROKE_OFF, NOT_RUNNING, Transport, own_address, try_client
from app.viewmodels.tool_check import Probe, outcome


async def check(url: str, tool_id: str, probe: Probe, transport: Transport = None) -> tuple[bool, str]:
    """Whether the tool's request was answered, and what to show."""
    async with try_client(transport) as client:
        try:
            reply = await client.post(f"{own_address(url)}{probe.path}", headers=probe.headers, json=probe.body)
        except httpx.ConnectError:
            return False, NOT_RUNNING
        except httpx.TimeoutException:
            return False, "Switchboard took too long to answer the test request."
        except httpx.HTTPError:
            return False, BROKE_OFF
    try:
        body = reply.json()
    except ValueError:
        body = None
    return outcome(tool_id, reply.status_code, body)
