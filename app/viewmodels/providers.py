"""The Providers page as a person thinks of it: a card per provider with its state in words, where
its key comes from, and where to get one; and what was pasted, sorted into a key and an address
whatever the order. Pure: no Qt, no gateway calls."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.viewmodels.provider_state import OFF, ProviderState, provider_state
from gateway import ProviderRow, ProviderStatus

# Where a person gets an API key, by catalog id: the page that makes one, after signing in.
KEY_PAGES = {
    "openai": "https://platform.openai.com/api-keys",
    "anthropic": "https://console.anthropic.com/settings/keys",
    "openrouter": "https://openrouter.ai/keys",
    "gemini": "https://aistudio.google.com/apikey",
    "groq": "https://console.groq.com/keys",
    "mistral": "https://console.mistral.ai/api-keys",
    "codestral": "https://console.mistral.ai/codestral",
    "deepseek": "https://platform.deepseek.com/api_keys",
    "cerebras": "https://cloud.cerebras.ai/platform",
    "sambanova": "https://cloud.sambanova.ai/apis",
    "together": "https://api.together.ai/settings/api-keys",
    "fireworks": "https://fireworks.ai/account/api-keys",
    "xai": "https://console.x.ai/",
    "github_models": "https://github.com/settings/personal-access-tokens",
    "nvidia": "https://build.nvidia.com/",
    "huggingface": "https://huggingface.co/settings/tokens",
    "moonshot": "https://platform.moonshot.ai/console/api-keys",
    "kimi_code": "https://www.kimi.com/code/console",
    "minimax": "https://platform.minimax.io/user-center/basic-information/interface-key",
    "xiaomi": "https://platform.xiaomimimo.com/",
    "bedrock": "https://console.aws.amazon.com/bedrock/home#/api-keys",
    "zai": "https://z.ai/manage-apikey/apikey-list",
    "qwen": "https://modelstudio.console.alibabacloud.com/?tab=playground#/api-key",
    "cohere": "https://dashboard.cohere.com/api-keys",
    "perplexity": "https://www.perplexity.ai/account/api/keys",
    "deepinfra": "https://deepinfra.com/dash/api_keys",
}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
NO_KEY = ProviderState("No key yet", OFF)
CHECKING = ProviderState("Checking…", OFF)  # a key just given, before the next status says how it went

_ADDRESS = re.compile(
    r"^(https?://\S+|(localhost|\d{1,3}(\.\d{1,3}){3}|[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,12})(:\d{1,5})?(/\S*)?)$"
)


@dataclass(frozen=True, slots=True)
class Card:
    id: str
    name: str
    state: ProviderState
    keys: str  # where its key comes from, in words; "" when it has none
    address: str
    key_page: str | None  # where to get a key
    configured: bool
    stored_key: bool  # a key kept here, which can be removed
    outside_key: bool  # a key set outside Switchboard (the environment), which stays in use whatever is added
    custom: bool  # a server added here, which can be removed


def keys_words(row: ProviderRow) -> str:
    """Where the provider's keys come from, said right: a stored key is stored, whatever else
    the settings file says about the provider."""
    count = row["keys"]
    if not row["configured"]:
        return ""
    if count == 0:
        return "Needs no key"
    noun = "Key" if count == 1 else f"{count} keys"
    places = {"environment": "set outside Switchboard (environment)", "stored": "stored by Switchboard"}
    found = [places[p] for p in row["keys_from"] if p in places]
    return f"{noun}: {' and '.join(found)}" if found else noun


def card(row: ProviderRow, status: ProviderStatus | None) -> Card:
    """A provider's card, its state from the status document (the words the overview and the tray use)."""
    if not row["configured"]:
        state = NO_KEY
    elif status is None:
        state = CHECKING
    else:
        state = provider_state(status)
    return Card(
        id=row["id"],
        name=row["name"],
        state=state,
        keys=keys_words(row),
        address=row["base_url"],
        key_page=KEY_PAGES.get(row["id"]),
        configured=row["configured"],
        stored_key="stored" in row["keys_from"],
        outside_key="environment" in row["keys_from"],
        custom=row["custom"],
    )


def cards(rows: list[ProviderRow], statuses: list[ProviderStatus]) -> list[Card]:
    """The page's cards: the hosted providers and the servers added here (local servers found on
    this computer have a page of their own), those in use first, each group in catalog order."""
    by_id = {s["id"]: s for s in statuses}
    shown = [card(r, by_id.get(r["id"])) for r in rows if r["custom"] or not r["local"]]
    return sorted(shown, key=lambda c: not c.configured)


def sort_pasted(*texts: str) -> tuple[str, str]:
    """(key, address) from what was pasted into either field, in any order, or both in one."""
    key, address = "", ""
    for word in " ".join(texts).split():
        if _ADDRESS.match(word) and not address:
            address = word
        elif not key:
            key = word
    return key, address


def host_of(address: str) -> str:
    """The host an address names, written with its scheme or without."""
    return urlsplit(address if "://" in address else f"https://{address}").hostname or ""


def address_words(address: str) -> str:
    """Where a provider answers, as a person reads it: the host, not the whole address."""
    if not address:
        return ""
    host = host_of(address)
    return "Address: this computer" if host in LOOPBACK else f"Address: {host or address}"


def key_button_words(c: Card) -> str:
    """The key button's words: a stored key is replaced; one set outside Switchboard is not (it stays
    in use), so a key given here is another one."""
    if c.stored_key:
        return "Replace key…"
    return "Add another key…" if c.outside_key else "Add key…"


def removal_words(c: Card) -> tuple[str, str]:
    """(question, what stops working) for removing a provider's stored key or a server."""
    if c.custom:
        return f"Remove the server {c.name}?", "Its models stop being offered, and tools using them get an error."
    return (
        f"Remove the key for {c.name}?",
        f"{c.name}'s models stop being offered (unless a key is also set outside Switchboard), "
        "and tools using them get an error.",
    )
