"""The fixes a failure carries (``gateway.errors.Fix``), as a terminal offers them: the command
or flag that does it. The app offers the same fixes as buttons (``app.words``)."""

from __future__ import annotations

from gateway.errors import Fix, FixId, fix_of

COMMANDS: dict[FixId, str] = {
    "choose_port": "Stop the other program or choose another port with --port.",
    "undo_change": "Put the previous settings back in the config file.",
    "add_client_key": "Create one with 'python -m gateway keys create --label NAME', or use --host 127.0.0.1.",
    "store_key": "Store one with 'python -m gateway providers set-key {subject}', or set it in the environment.",
    "check_connection": "Check the internet connection, or the address.",
    "trust_certificate": (
        "If your organisation inspects secure connections, name its root certificate (a PEM file) as ca_file "
        "in the [network] table of the config file."
    ),
    "sign_in_chatgpt": "Sign in with 'codex login', or use 'python -m gateway accounts login codex'.",
    "sign_in_copilot": (
        "Sign in with 'python -m gateway accounts login copilot' instead, or name another GitHub host with --host."
    ),
    "own_folder": "Or give this one its own folder with --home.",
    "unlock_secrets": (
        "Give the passphrase in SWITCHBOARD_SECRETS_PASSPHRASE_FILE (a file holding it) or "
        "SWITCHBOARD_SECRETS_PASSPHRASE."
    ),
    "set_aside_secrets": "Or rename that file (it is kept) and start again: new secrets are made.",
}


def command_for(fix: Fix) -> str:
    return COMMANDS[fix.id].format(subject=fix.subject)


def explained(exc: BaseException) -> str:
    """``exc`` for a terminal, on one line: its words, the command that fixes it, and its detail."""
    fix, detail = fix_of(exc)
    text = " ".join(part for part in (str(exc), command_for(fix) if fix is not None else "") if part)
    return f"{text} ({detail})" if detail else text
