"""Provider API keys kept in the secret store (the keychain), for people who would rather not
keep them in environment variables. Each provider's keys are one entry (a pool, newline
separated); an index entry names the providers that have one, since keychains cannot list."""

from __future__ import annotations

import json

from gateway.store.secrets import SecretStore

INDEX = "provider-keys"


def _name(provider: str) -> str:
    return f"provider-key:{provider}"


def _index(store: SecretStore) -> list[str]:
    try:
        ids = json.loads(store.get(INDEX) or "[]")
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []


def entry_names(store: SecretStore) -> list[str]:
    """Every entry this module keeps in the store."""
    return [INDEX, *(_name(p) for p in _index(store))]


def stored_keys(store: SecretStore) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for provider in _index(store):
        value = store.get(_name(provider))
        if value:
            out[provider] = tuple(k for k in value.split("\n") if k)
    return out


def set_keys(store: SecretStore, provider: str, keys: tuple[str, ...]) -> None:
    store.set(_name(provider), "\n".join(keys))
    ids = _index(store)
    if provider not in ids:
        store.set(INDEX, json.dumps([*ids, provider]))


def remove_keys(store: SecretStore, provider: str) -> bool:
    ids = _index(store)
    store.delete(_name(provider))
    if provider not in ids:
        return False
    store.set(INDEX, json.dumps([i for i in ids if i != provider]))
    return True
