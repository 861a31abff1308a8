"""The status document and routing receipts as a person reads them in a terminal."""

from __future__ import annotations

from typing import Any

from gateway.store.secrets import described


def _held(hold: dict[str, Any]) -> str:
    return f"{hold['reason']} {hold['seconds_left']:.0f} s"


def render(status: dict[str, Any]) -> str:
    lines = []
    for provider in status["providers"]:
        breaker = provider["breaker"]
        state = breaker["state"]
        if "seconds_to_probe" in breaker:
            state += f" (probe in {breaker['seconds_to_probe']:.0f} s)"
        lines.append(f"{provider['id']}  rotation {provider['rotation']}  breaker {state}")
        for key in provider["keys"]:
            rate = "-" if key["success_rate"] is None else f"{key['success_rate']:.0%}"
            latency = "-" if key["latency_ms"] is None else f"{key['latency_ms']:.0f} ms"
            notes = []
            if key["benched"]:
                notes.append("benched: " + _held(key["benched"]))
            notes += [f"{model}: {_held(hold)}" for model, hold in key["cooldowns"].items()]
            if key["last_error"]:
                notes.append(f"last error {key['last_error']}")
            lines.append(
                f"  {key['label']:<16} {key['key'] or 'no key':<14} {key['health']:<12} "
                f"{key['attempts']:>6} tries  {rate:>5} ok  {latency:>8}  " + "; ".join(notes)
            )
    if status.get("aliases"):
        lines.append("aliases")
        lines += [f"  {name} = {' > '.join(chain)}" for name, chain in status["aliases"].items()]
    if (cache := status.get("cache")) is not None:
        lines.append(
            f"cache  {'on' if cache['enabled'] else 'off'}  {cache['entries']} answers, "
            f"{cache['bytes']} bytes  {cache['hits']} hits / {cache['misses']} misses"
        )
    usage, team = status["usage"], status.get("team")
    lines.append(
        f"{'this gateway ' if team else ''}served {usage['requests']} answers"
        f"{' since it started' if team else ''}: {usage['prompt_tokens']} prompt, "
        f"{usage['completion_tokens']} completion tokens"
    )
    if team is not None:
        lines += _team(team)
    if (access := status.get("access")) is not None:
        lines += _access(access, team)
    if status.get("accounts"):
        lines += _accounts(status["accounts"], status.get("quota", []))
    return "\n".join(lines)


def _accounts(accounts: list[dict[str, Any]], quota: list[dict[str, Any]]) -> list[str]:
    """Each subscription account with its state, risk label and quota windows."""
    lines = ["accounts"]
    for account in accounts:
        lines.append(
            f"  {account['label']:<30} {account['plan'] or '-':<10} {account['state']:<14} risk: {account['risk']}"
        )
        for window in quota:
            if window["label"] == account["label"]:
                used = "unlimited" if window["unlimited"] else f"{window['used_percent']:.0f}% used"
                resets = (
                    f", resets in {window['resets_in'] // 3600} h {window['resets_in'] % 3600 // 60} min"
                    if window["resets_in"] is not None
                    else ""
                )
                lines.append(f"    {window['window']:<22} {used}{resets}")
    lines.append(f"  ({accounts[0]['risk_note']})")
    return lines


def _team(team: dict[str, Any]) -> list[str]:
    """The team's database, read by this command: its ledger's totals over every gateway."""
    return [
        f"team   database {team['database']}; its ledger, every gateway's:",
        f"  last 24 hours  {_totals(team['day'])}",
        f"  in all         {_totals(team['all'])}",
    ]


def _totals(totals: dict[str, Any]) -> str:
    return (
        f"{totals['requests']:,} requests ({totals['successful']:,} successful), "
        f"{totals['total_tokens']:,} tokens, ${totals['cost']:,.2f}"
    )


def _access(access: dict[str, Any], team: dict[str, Any] | None = None) -> list[str]:
    secrets = access["secrets"]
    where = described(secrets["kind"], secrets["where"])
    lines = [
        f"keys   {'required from every caller' if access['require_keys'] else 'required beyond loopback'}; "
        f"secrets in {where}"
    ]
    keys = access["keys"]
    if team is not None:  # the team's keys, each with this gateway's counters where it has them
        counted = {key["id"]: key for key in keys}
        keys = [counted.get(key["id"], key) for key in team["keys"]]
        whose = "the team's (Redis)" if team["shared_limits"] else "this gateway's own"
        lines.append(f"  {len(keys)} in the team's database; the counts against their limits are {whose}")
    for key in keys:
        if key["revoked_at"]:
            continue
        usage = key.get("usage", {})
        counters = "  ".join(_counter(name, value) for name, value in usage.items() if _shown(name, value))
        lines.append(f"  {key['prefix']}…{key['last4']}  {key['tier']:<8} {key['label']:<20} {counters}")
    if access["audit"]["anchor_problem"]:
        lines.append(f"AUDIT LOG: {access['audit']['anchor_problem']} — run 'python -m gateway audit verify'")
    return lines


def _shown(name: str, value: dict[str, Any]) -> bool:
    """Every count limit is shown (∞ when none); a dollar budget only where the key has one."""
    return not name.startswith("dollars_") or value["limit"] is not None


def _counter(name: str, value: dict[str, Any]) -> str:
    """ "req/minute 3/60", "tok/day 812/∞", or a budget "$/day 1.53/5.00"."""
    if name.startswith("dollars_"):
        return f"$/{name.removeprefix('dollars_per_')} {value['used']:,.2f}/{value['limit']:,.2f}"
    short = name.replace("_per_", "/").replace("requests", "req").replace("tokens", "tok")
    return f"{short} {value['used']}/{value['limit'] if value['limit'] is not None else '∞'}"


def render_receipt(receipt: dict[str, Any]) -> str:
    lines = [f"model      {receipt['model']}"]
    if receipt["rule"] not in ("model", "auto"):  # a name served as asked needs no word on it
        lines.append(f"rule       {receipt['rule']} (asked for {receipt['requested']})")
    if (difficulty := receipt.get("difficulty")) is not None:
        scores = ", ".join(f"{name} {score:+g}" for name, score in difficulty["scores"].items()) or "no signal"
        lines.append(f"difficulty {difficulty['level']} of 5 ({scores})")
    lines.append(f"chosen     {receipt['chosen'] or 'nothing can serve it now'}")
    lines += [f"then       {route}" for route in receipt["alternatives"]]
    for rejected in receipt["rejected"]:
        left = f", {rejected['seconds_left']:.0f} s left" if "seconds_left" in rejected else ""
        lines.append(f"not        {rejected['route']}: {rejected['reason']}{left}")
    return "\n".join(lines)
