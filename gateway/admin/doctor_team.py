"""Check everything in team mode: the team's PostgreSQL (``[store] url``) and Redis (``[shared]
redis``), each asked now on a connection of the doctor's own, with the password the gateways use
(the environment's, else the secret store's), as a start would. Neither set, as on the desktop: no
finding speaks of them. The drivers are imported only when their setting is, as serving does."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass

from gateway.admin.doctor_findings import Finding, finding
from gateway.config import shared
from gateway.config.settings import Settings
from gateway.errors import ConfigError
from gateway.store.secrets import SecretStore

SLOW = 0.02  # seconds a Redis round trip may take before it is worth a note: a request under a limit waits for it
TEAM_EXTRA = "Install Switchboard with its team extra (pip install 'switchboard[team]')."
ON_THEIR_OWN = "Until then, each gateway counts the limits on its own: together they may admit more than a limit."


@dataclass(frozen=True, slots=True)
class TeamPlaces:
    """Where the team's state is (None: not in team mode for it) and where its passwords are read."""

    store: str | None
    redis: str | None
    secrets: SecretStore
    env: Mapping[str, str]

    @classmethod
    def of(cls, settings: Settings, secrets: SecretStore, env: Mapping[str, str]) -> TeamPlaces | None:
        if settings.store.url is None and settings.shared.redis is None:
            return None
        return cls(settings.store.url, settings.shared.redis, secrets, env)


async def team_findings(places: TeamPlaces | None) -> list[Finding]:
    checks: list[Awaitable[Finding]] = []
    if places is not None and places.store is not None:
        checks.append(store_finding(places.store, places))
    if places is not None and places.redis is not None:
        checks.append(redis_finding(places.redis, places))
    return list(await asyncio.gather(*checks))


async def store_finding(url: str, places: TeamPlaces) -> Finding:
    try:
        from gateway.store.postgres.checkup import check_store
        from gateway.store.postgres.store import PASSWORD_ENV, PASSWORD_SECRET, store_password
    except ImportError:
        words = "The settings name a team's database ([store] url), but its driver is not installed here."
        return finding("database", url, "broken", words, TEAM_EXTRA)
    password = await asyncio.to_thread(store_password, places.env, places.secrets)  # the keychain blocks
    found = await check_store(url, password)
    name = f"The team's database ({found.where})"
    if found.problem == "password":
        words = (
            f"{name} refuses the gateways' password: {_said(found.detail)}"
            if password
            else f"{name} asks for a password."
        )
        advice = f"Give the database user's password in {PASSWORD_ENV} (or the secret store's \"{PASSWORD_SECRET}\")."
        return finding("database", found.where, "broken", words, advice)
    if found.problem == "unreachable":
        words = f"{name} cannot be reached: {_said(found.detail)}"
        return finding("database", found.where, "broken", words, "Start it, or correct [store] url in the settings.")
    if found.problem == "refused":
        words = f"{name} refuses the connection: {_said(found.detail)}"
        return finding("database", found.where, "broken", words, "Check the database and user [store] url names.")
    if found.schema > found.expected:
        words = (
            f"{name} was set up by a newer Switchboard (schema step {found.schema}, this one knows "
            f"{found.expected}): a gateway of this version cannot start on it."
        )
        return finding("database", found.where, "broken", words, "Update Switchboard here to the team's version.")
    if found.schema < found.expected:
        words = f"{name} answers, its schema at step {found.schema} of {found.expected}."
        return finding("database", found.where, "note", words, "The next gateway to start brings it up to date.")
    words = f"{name} answers in {found.seconds * 1000:.0f} ms, its schema up to date (step {found.schema})."
    return finding("database", found.where, "ok", words)


async def redis_finding(url: str, places: TeamPlaces) -> Finding:
    from gateway.shared.checkup import check_redis

    env, secrets = places.env, places.secrets
    password = env.get(shared.PASSWORD_ENV) or await asyncio.to_thread(secrets.get, shared.PASSWORD_SECRET)
    try:
        found = await check_redis(url, password)
    except (ConfigError, ImportError):  # redis-py is not installed
        words = "The settings name a team's Redis ([shared] redis), but its client is not installed here."
        return finding("redis", url, "broken", words, TEAM_EXTRA)
    name = f"The team's Redis ({found.where})"
    if found.problem == "password":
        words = (
            f"{name} refuses the gateways' password: {_said(found.detail)}"
            if password
            else f"{name} asks for a password."
        )
        advice = f'Give its password in {shared.PASSWORD_ENV} (or the secret store\'s "{shared.PASSWORD_SECRET}").'
        return finding("redis", found.where, "broken", words, f"{advice} {ON_THEIR_OWN}")
    if found.problem == "unreachable":
        words = f"{name} cannot be reached: {_said(found.detail)}"
        advice = f"Start it, or correct [shared] redis in the settings. {ON_THEIR_OWN}"
        return finding("redis", found.where, "broken", words, advice)
    if found.problem == "refused":
        words = f"{name} answers but refuses the gateway: {_said(found.detail)}"
        return finding("redis", found.where, "broken", words, f"Check the user [shared] redis names. {ON_THEIR_OWN}")
    took = f"{found.round_trip * 1000:.1f} ms"
    if found.round_trip > SLOW:
        words = f"{name} answers, but slowly: {took} a round trip, which every request under a limit waits for."
        return finding("redis", found.where, "note", words, "Run Redis on the gateways' own network.")
    return finding("redis", found.where, "ok", f"{name} answers, with the gateways' password, in {took} a round trip.")


def _said(detail: str) -> str:
    """A server's or driver's words ending one sentence of ours (some end with a full stop, some not)."""
    return detail.rstrip(". ") + "."
