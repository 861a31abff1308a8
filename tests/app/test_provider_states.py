"""One mapping from a provider's health to words and a colour: for the same status document, the
Providers page's card, the overview's problems and the tray's tooltip say the same thing."""

from __future__ import annotations

import pytest
from status_documents import key_status, provider_status, status_document

from app.tray import TrayState, tooltip
from app.viewmodels.health import health_of
from app.viewmodels.provider_state import FAILING, OK, RESTING, TONE_COLOURS
from app.viewmodels.providers import KEY_PAGES, address_words, card, cards, key_button_words, sort_pasted
from gateway import ProviderRow, ProviderStatus
from gateway.providers.catalog import load_catalog
from gateway.routing.health import Rest

REFUSED: Rest = {"reason": "credential_refused", "seconds_left": 600.0}
EMPTY: Rest = {"reason": "quota_exhausted", "seconds_left": 3 * 3600.0}
ERRORS: Rest = {"reason": "http_500", "seconds_left": 40.0}

CASES: list[tuple[ProviderStatus, str, str]] = [
    (provider_status("openai", "OpenAI", keys=[key_status("openai")], models=12), "Working — 12 models", OK),
    (
        provider_status("openai", "OpenAI", keys=[key_status("openai", benched=REFUSED)]),
        "Key refused by OpenAI",
        FAILING,
    ),
    (
        provider_status("openai", "OpenAI", keys=[key_status("openai")], list_failure="credential_refused"),
        "Key refused by OpenAI",
        FAILING,
    ),
    (
        provider_status("groq", "Groq", keys=[key_status("groq")], list_failure="unreachable", host="api.groq.com"),
        "Offline: can't reach api.groq.com",
        FAILING,
    ),
    (
        provider_status("groq", "Groq", breaker="open", keys=[key_status("groq")], seconds_to_probe=40),
        "Resting after errors — tries again in 40 s",
        RESTING,
    ),
    (
        provider_status("groq", "Groq", keys=[key_status("groq", benched=ERRORS)]),
        "Resting after errors — tries again in 40 s",
        RESTING,
    ),
    (
        provider_status("groq", "Groq", keys=[key_status("groq", benched=EMPTY)]),
        "Out of quota — back in 3 h 0 min",
        RESTING,
    ),
    (
        provider_status("groq", "Groq", keys=[key_status("groq#1", benched=REFUSED), key_status("groq#2")], models=1),
        "Working — 1 model; 1 of 2 keys resting",
        RESTING,
    ),
]


def row(status: ProviderStatus, *, configured: bool = True) -> ProviderRow:
    return {
        "id": status["id"],
        "name": status["name"],
        "local": False,
        "url_path": "",
        "configured": configured,
        "looked_for": False,
        "base_url": f"https://{status['host']}/v1",
        "keys": len(status["keys"]) if configured else 0,
        "source": "secret store" if configured else None,
        "keys_from": ["stored"] if configured else [],
        "custom": False,
        "models": [],
        "error": None,
    }


@pytest.mark.parametrize(("status", "words", "tone"), CASES)
def test_the_card_the_overview_and_the_tray_say_the_same(status: ProviderStatus, words: str, tone: str) -> None:
    shown = card(row(status), status)
    assert shown.state.words == words and shown.state.tone == tone
    assert shown.state.colour == TONE_COLOURS[tone]
    health = health_of(status_document(providers=[status]), running=True, paused=False)
    line = words if status["name"] in words else f"{status['name']} — {words}"
    if tone == OK:
        assert health.problems == () and health.summary == "Serving"
    else:
        assert health.problems == (line,) and health.summary == "Serving, 1 problem"  # the overview lists these
        assert f"• {line}" in tooltip(TrayState(health, "http://127.0.0.1:11488", None, False))


def test_a_provider_without_a_key_says_so_and_shows_where_to_get_one() -> None:
    status = provider_status("openai", "OpenAI")
    shown = card(row(status, configured=False), None)
    assert shown.state.words == "No key yet" and shown.key_page == "https://platform.openai.com/api-keys"
    assert shown.keys == "" and not shown.stored_key


def test_every_hosted_provider_in_the_catalog_says_where_to_get_a_key() -> None:
    hosted = {e.id for e in load_catalog().values() if not e.local}
    assert hosted - set(KEY_PAGES) == set() and all(page.startswith("https://") for page in KEY_PAGES.values())


def test_where_a_key_comes_from_is_said_right() -> None:
    status = provider_status("openai", "OpenAI", keys=[key_status("openai#1"), key_status("openai#2")])
    both: ProviderRow = {**row(status), "source": "config", "keys_from": ["environment", "stored"]}
    assert card(both, status).keys == "2 keys: set outside Switchboard (environment) and stored by Switchboard"
    stored: ProviderRow = {**row(status), "keys": 1, "source": "config"}  # an address in the settings, a stored key
    assert card(stored, status).keys == "Key: stored by Switchboard"


def test_the_key_button_and_the_address_say_what_is_there() -> None:
    status = provider_status("openai", "OpenAI")
    outside: ProviderRow = {**row(status), "keys_from": ["environment"]}
    both: ProviderRow = {**row(status), "keys_from": ["environment", "stored"]}
    said = [key_button_words(card(r, status)) for r in (row(status, configured=False), outside, both, row(status))]
    assert said == ["Add key…", "Add another key…", "Replace key…", "Replace key…"]
    assert address_words(card(row(status), status).address) == f"Address: {status['host']}"
    assert address_words("http://localhost:8080/v1") == "Address: this computer" and address_words("") == ""


def test_cards_in_use_come_first_and_local_servers_are_left_to_their_page() -> None:
    a, b = provider_status("openai", "OpenAI"), provider_status("groq", "Groq")
    local: ProviderRow = {**row(provider_status("ollama", "Ollama")), "local": True}
    mine: ProviderRow = {**row(provider_status("box", "Box")), "local": True, "custom": True}
    shown = cards([row(a, configured=False), row(b), local, mine], [b])
    assert [c.id for c in shown] == ["groq", "box", "openai"]


@pytest.mark.parametrize(
    ("pasted", "expected"),
    [
        (("sk-abc123", ""), ("sk-abc123", "")),
        (("https://llm.example.com/v1", "sk-abc123"), ("sk-abc123", "https://llm.example.com/v1")),
        (("sk-abc123 api.example.com/v1", ""), ("sk-abc123", "api.example.com/v1")),
        (("", "192.168.1.20:8000/v1 key.WithDotInIt"), ("key.WithDotInIt", "192.168.1.20:8000/v1")),
    ],
)
def test_a_key_and_an_address_are_told_apart_in_any_order(pasted: tuple[str, str], expected: tuple[str, str]) -> None:
    assert sort_pasted(*pasted) == expected
