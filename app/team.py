"""A team's gateway the tools on this computer use instead of the local one: its address in the
settings file (``[app] team_gateway``), its client key in the secret store under ``TEAM_KEY``
(never the file, never shown back). The local gateway keeps running either way; only the tools'
set-ups (the Connect page) point elsewhere. "Check" asks the team's gateway whether it answers and
takes the key, through the app's own HTTP client, so the proxy and certificates of the Network
settings apply as for updates."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx

from app.update_http import network_client
from gateway import GatewaySetup, NetworkSettings

TEAM_KEY = "app.team_gateway.client_key"  # the secret store's entry
ADDRESS_HINT = "https://switchboard.example.com"


@dataclass(frozen=True, slots=True)
class Team:
    url: str  # the team gateway's root address, no trailing slash
    key: str | None  # its client key; None when none is kept


def read_team(setup: GatewaySetup) -> tuple[Team | None, NetworkSettings]:
    """Blocking: the team's gateway as saved (None: the tools use this computer's), and how the
    network is reached."""
    settings = setup.settings()
    url = settings.app.team_gateway.rstrip("/")
    return (Team(url, setup.secrets().get(TEAM_KEY)) if url else None), settings.network


def keep_key(setup: GatewaySetup, key: str | None) -> None:
    """Blocking: the team's client key into the secret store; None forgets it."""
    if key is None:
        setup.secrets().delete(TEAM_KEY)
    else:
        setup.secrets().set(TEAM_KEY, key)


def address_problem(url: str) -> str | None:
    """Why ``url`` cannot be a gateway's address, in words; None when it can."""
    parts = httpx.URL(url) if "://" in url else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        return f"Type the team gateway's whole address, for example {ADDRESS_HINT}."
    return None


def _unreachable(url: str, exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.TimeoutException):
        why = "it took too long to answer"
    elif isinstance(exc, httpx.ConnectError) and isinstance(exc.__context__, ssl.SSLError):
        why = "its certificate is not one this computer trusts (a company certificate can be added under Network)"
    elif isinstance(exc, httpx.ConnectError):
        why = "nothing answered there"
    elif isinstance(exc, httpx.ProxyError):
        why = "the proxy would not take the request there"
    else:
        why = "the connection broke off"
    return f"Switchboard could not reach the team's gateway at {url}: {why}."


async def check_team(
    team: Team, network: NetworkSettings | None, transport: httpx.AsyncBaseTransport | None = None
) -> tuple[bool, str]:
    """Whether the team's gateway answers and takes the key, and what to say."""
    url = team.url
    async with network_client(transport, network) as client:
        try:
            ready = await client.get(f"{url}/health/ready")
            headers = {"Authorization": f"Bearer {team.key}"} if team.key else {}
            models = await client.get(f"{url}/v1/models", headers=headers)
        except httpx.HTTPError as exc:
            return False, _unreachable(url, exc)
    if models.status_code in (401, 403):
        said = "refused the client key" if team.key else "asks for a client key, and none is saved"
        return False, f"The team's gateway at {url} answers, but it {said}."
    if not models.is_success:
        return False, f"Something answers at {url}, but not as a Switchboard gateway would."
    try:
        count = len(models.json()["data"])
    except (ValueError, KeyError, TypeError):
        return False, f"Something answers at {url}, but not as a Switchboard gateway would."
    if ready.status_code != 200:
        return False, f"The team's gateway at {url} takes the client key, but says it is not ready for requests."
    served = "one model" if count == 1 else f"{count} models"
    taken = "accepts the client key" if team.key else "needs no client key"
    return True, f"The team's gateway at {url} answers and {taken}; it serves {served}."
