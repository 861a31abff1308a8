"""Polling GitHub's device flow to its end (protocols.md §8.1; SECURITY.md S36): no faster
than the interval GitHub gives, five seconds slower on every ``slow_down``, and a clear stop on
``expired_token``, ``access_denied`` or any other refusal."""

from __future__ import annotations

import logging

from gateway.auth.oauth.github import DeviceCode, GitHubAuth
from gateway.auth.oauth.http import AuthUnreachable
from gateway.clock import Clock

log = logging.getLogger("gateway.auth")

SLOW_DOWN_STEP = 5

_STOPS = {
    "expired_token": "The code expired before it was entered on GitHub; start the sign-in again.",
    "access_denied": "The sign-in was cancelled on GitHub.",
    "device_flow_disabled": "Device sign-in is switched off for this GitHub app.",
    "incorrect_device_code": "GitHub does not know this sign-in code; start again.",
}


class DeviceFlowFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def wait_for_token(github: GitHubAuth, device: DeviceCode, clock: Clock) -> str:
    """The GitHub token once the user has entered the code; raises ``DeviceFlowFailed``."""
    interval = device.interval
    deadline = clock.monotonic() + device.expires_in
    while True:
        await clock.sleep(interval)
        if clock.monotonic() >= deadline:
            raise DeviceFlowFailed("expired_token", _STOPS["expired_token"])
        try:
            poll = await github.poll(device)
        except AuthUnreachable as exc:
            log.info("GitHub sign-in: cannot reach GitHub (%s); trying again", exc)
            continue
        if poll.token:
            return poll.token
        if poll.error == "authorization_pending":
            continue
        if poll.error == "slow_down":
            interval = max(poll.interval or 0, interval + SLOW_DOWN_STEP)
            continue
        message = _STOPS.get(poll.error) or f"GitHub refused the sign-in ({poll.error})."
        raise DeviceFlowFailed(poll.error, message)
