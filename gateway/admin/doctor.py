"""Check everything: the doctor behind ``switchboard-gateway doctor`` and the app's "Check everything"
button. Each check is one finding in plain words, with what would help: every provider asked for its
models now (the cheapest real call: it needs the key accepted), every model rule's routes listed by a
provider, every account's sign-in and quota, the port, where the secrets are kept, this
computer's clock beside a provider's (clock_skew) and, in team mode, the team's database and Redis
(doctor_team).
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from gateway.admin.clock_skew import MAX_SKEW, skew_of, skew_words
from gateway.admin.doctor_findings import Finding as Finding
from gateway.admin.doctor_findings import Verdict as Verdict
from gateway.admin.doctor_findings import broken as broken
from gateway.admin.doctor_findings import finding as _finding
from gateway.admin.doctor_team import TeamPlaces, team_findings
from gateway.admin.local_contexts import SMALL_CONTEXT, ModelContext, local_contexts
from gateway.admin.providers import Providers
from gateway.auth.account_book import AccountBook
from gateway.auth.accounts import Account
from gateway.errors import FixId, UpstreamStatus, UpstreamUnreachable
from gateway.pipeline.gateway import Gateway
from gateway.providers.quota import QuotaWindow
from gateway.providers.settings import SUBSCRIPTIONS
from gateway.routing.unserved import unlisted_routes


async def provider_findings(gateway: Gateway) -> list[Finding]:
    """Each provider's Test (its model list asked for now), all at once."""
    door = Providers(lambda: gateway)
    providers = [p for p in gateway.providers if p.id not in SUBSCRIPTIONS]
    tests = await asyncio.gather(*(door.test(p.id) for p in providers))
    out = []
    for provider, test in zip(providers, tests, strict=True):
        pid, local, models = provider.id, provider.settings.local, test["models"]
        name = provider.settings.name or pid  # as the app names it
        area = "local" if local else "provider"
        if test["ok"]:
            out.append(
                _finding(area, pid, "ok", f"{name} answers and lists {models} model{'' if models == 1 else 's'}.")
            )
        elif local and provider.settings.probe:  # looked for on its usual port: not running is no fault
            out.append(_finding(area, pid, "note", f"{name} is not running here, so its models are not offered."))
        elif test["reason"] == "credential_refused":
            words = f"{name} refuses its key."
            out.append(_finding(area, pid, "broken", words, "Store a new key for it.", "store_key", pid))
        else:
            why = test["error"] or "it did not answer"
            host = urlsplit(provider.settings.base_url).hostname or provider.settings.base_url
            advice = "Start it, or check its address." if local else "Check the internet connection, or its address."
            out.append(
                _finding(
                    area,
                    pid,
                    "broken",
                    f"{name} cannot be asked for its models: {why}",
                    advice,
                    None if local else "check_connection",
                    host,
                )
            )
    return out


async def clock_finding(gateway: Gateway, found: list[Finding]) -> Finding | None:
    """This computer's clock beside the first cloud provider's that answered (a local server keeps
    this computer's own time); None when none answered (their findings say why)."""
    providers = {p.id: p for p in gateway.providers}
    answered = [f["subject"] for f in found if f["area"] == "provider" and f["verdict"] == "ok"]
    if not answered:
        return None
    settings = providers[answered[0]].settings
    host = urlsplit(settings.base_url).hostname or settings.base_url
    skew = await skew_of(gateway.transport, gateway.clock, settings.id, settings.base_url)
    if skew is None:
        return _finding("clock", host, "note", f"This computer's clock could not be compared: {host} gave no time.")
    if abs(skew) <= MAX_SKEW:
        return _finding("clock", host, "ok", f"This computer's clock agrees with {host}'s.")
    words = (
        f"This computer's clock is {skew_words(skew)} of {host}'s: sign-ins and providers refuse requests "
        f"from a clock more than {round(MAX_SKEW / 60)} minutes off."
    )
    return _finding("clock", host, "broken", words, "Set the computer's clock to update automatically.")


async def context_findings(gateway: Gateway, found: list[Finding]) -> list[Finding]:
    """Each model of each local server that answered, with the context the server gives it."""
    answered = {f["subject"] for f in found if f["area"] == "local" and f["verdict"] == "ok"}
    servers = [p for p in gateway.providers if p.id in answered]
    listed = await asyncio.gather(*(local_contexts(gateway, p) for p in servers))
    return [
        _context_finding(p.settings.name or p.id, p.id, c) for p, cs in zip(servers, listed, strict=True) for c in cs
    ]


def _context_finding(name: str, pid: str, context: ModelContext) -> Finding:
    subject, model, tokens = f"{pid}/{context.model}", context.model, context.tokens
    if not tokens:
        return _finding("context", subject, "ok", f"{name} lists {model}, without saying how much context it holds.")
    if tokens >= SMALL_CONTEXT:
        return _finding("context", subject, "ok", f"{name} gives {model} a context of {tokens:,} tokens.")
    words = (
        f"{name} gives {model} a context of only {tokens:,} tokens: coding tools such as Claude Code and Codex "
        "need more (their instructions alone can fill it)."
    )
    return _finding("context", subject, "note", words, context.advice)


def rule_findings(gateway: Gateway) -> list[Finding]:
    """Model rules (aliases, globs, default) with routes no provider lists."""
    out = []
    index, ids = gateway.sync.index, {p.id for p in gateway.providers}
    for rule in gateway.router.rules.every:
        missing = unlisted_routes(rule.chain, index)
        routes = " or ".join(f'"{ref}"' for ref in missing)
        # A route to a provider with no list (down, not running) is not counted missing: said here as unknown.
        unasked = [r for r in rule.chain if r.partition("/")[0] in ids and not index.has_list(r.partition("/")[0])]
        if not missing and unasked:
            words = f'"{rule.key}" leads to {" or ".join(unasked)}, whose provider could not be asked for its list.'
            out.append(_finding("rule", rule.key, "note", words))
        elif not missing:
            out.append(_finding("rule", rule.key, "ok", f'"{rule.key}" leads to models a provider lists.'))
        elif len(missing) == len(rule.chain):
            words = f'"{rule.key}" leads nowhere: no provider lists {routes}.'
            out.append(_finding("rule", rule.key, "broken", words, "Name a model a provider lists in its rule."))
        else:
            words = f'"{rule.key}" has routes no provider lists ({routes}); its other routes serve it.'
            out.append(_finding("rule", rule.key, "note", words, "Name a model a provider lists in its rule."))
    return out


PROBLEMS = {"needs_sign_in": "its sign-in is no longer accepted", "no_access": "it has no access to the service"}


async def account_findings(book: AccountBook) -> list[Finding]:
    """Each subscription account: its sign-in accepted, and its usage read now (the plan's quota windows)."""
    return list(await asyncio.gather(*(account_finding(a) for a in book.accounts())))


async def account_finding(account: Account) -> Finding:
    label = account.label
    fix: FixId = "sign_in_chatgpt" if account.row.kind == "codex" else "sign_in_copilot"
    windows: tuple[QuotaWindow, ...] = ()
    try:
        access = await account.access()  # renewed now if it has lapsed
        windows, _plan = await account.credentials.quota()
        if not windows and account.problem() is None:
            # A revoked sign-in reads no quota either, though its token has not lapsed: renewing it tells.
            await account.renewed(access)
    except UpstreamUnreachable as exc:
        words = f"{label}'s sign-in could not be checked now: {exc}."
        return _finding("account", label, "note", words, "Check the internet connection, or try again later.")
    except UpstreamStatus:
        pass  # refused for good: the account says why (its problem), below
    problem = account.problem()
    if problem is not None:
        words = f"{label} cannot be used: {PROBLEMS.get(problem, problem)}."
        return _finding("account", label, "broken", words, "Sign in to it again.", fix, label)
    if windows:
        return _finding("account", label, "ok", f"{label} is signed in and its quota was read.")
    words = f"{label} is signed in, but its quota could not be read now."
    return _finding("account", label, "note", words, "Try again later, or sign in to it again.")


async def port_finding(host: str, port: int, serving: bool) -> Finding:
    """Whether something listens on the gateway's port: the gateway itself when it is serving."""
    subject = f"{host}:{port}"
    if serving:
        return _finding("port", subject, "ok", f"The gateway listens on port {port}.")
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 2.0)
    except (OSError, TimeoutError):
        words = f"Port {port} is free: the gateway is not running, and can listen there when it starts."
        return _finding("port", subject, "note", words)
    writer.close()
    words = f"Port {port} is taken: by the gateway if it is running, else by another program."
    return _finding("port", subject, "note", words, "If the gateway cannot start, choose another port.", "choose_port")


def secrets_finding(kind: str, where: str) -> Finding:
    """Where provider keys and sign-ins are kept, and whether anyone reading the disk could read them."""
    if kind == "keychain":
        return _finding("secrets", kind, "ok", "Keys and sign-ins are kept in the system keychain.")
    if kind == "encrypted file":
        return _finding("secrets", kind, "ok", f"Keys and sign-ins are kept in an encrypted file ({where}).")
    if kind == "memory":
        return _finding("secrets", kind, "note", "Keys and sign-ins are kept in memory only: they go at a restart.")
    words = f"Keys and sign-ins are kept in a file that is not encrypted ({where})."
    return _finding("secrets", kind, "note", words, "Give Switchboard a passphrase to encrypt it.")


async def check_everything(
    gateway: Gateway,
    book: AccountBook | None,
    secrets: tuple[str, str] | None,
    address: tuple[str, int],
    serving: bool,
    team: TeamPlaces | None = None,
) -> list[Finding]:
    """Every check, in one list: ``secrets`` is the store's (kind, where), ``address`` the port's,
    ``team`` the team's database and Redis (None: not in team mode)."""
    subscriptions = [p for p in gateway.providers if p.id in SUBSCRIPTIONS]
    # Every list now, for the rules: the providers' through their tests, the subscriptions' beside them.
    findings, _, shared = await asyncio.gather(
        provider_findings(gateway), gateway.sync.refresh(subscriptions), team_findings(team)
    )
    findings += shared
    findings += rule_findings(gateway)
    clock, contexts = await asyncio.gather(clock_finding(gateway, findings), context_findings(gateway, findings))
    findings += contexts
    if clock is not None:
        findings.append(clock)
    if book is not None:
        findings += await account_findings(book)
    findings.append(await port_finding(*address, serving))
    if secrets is not None:
        findings.append(secrets_finding(*secrets))
    return findings
