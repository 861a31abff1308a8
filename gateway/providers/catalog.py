"""The catalog of known upstreams, read from ``catalog.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from gateway.core.protocols import ProtocolId

AUTH_STYLES = ("bearer", "api-key", "x-api-key", "none")
# Each kind of adapter, and the wire protocols it can speak (its first is its default).
KIND_PROTOCOLS: dict[str, tuple[ProtocolId, ...]] = {
    "openai-compatible": ("openai-chat", "openai-responses"),
    "anthropic": ("anthropic",),
    "ollama": ("ollama", "openai-chat", "openai-responses", "anthropic"),
}
KINDS = tuple(KIND_PROTOCOLS)


def check_protocols(kind: str, protocols: tuple[str, ...]) -> str | None:
    """What is wrong with a provider's list of protocols, if anything."""
    allowed = KIND_PROTOCOLS[kind]
    if not protocols or len(set(protocols)) != len(protocols) or not set(protocols) <= set(allowed):
        return f"a list of distinct protocols from {', '.join(allowed)} (kind {kind!r})"
    return None


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    id: str
    name: str
    base_url: str | None
    key_env: tuple[str, ...]
    base_url_env: tuple[str, ...] = ()  # read after <ID>_BASE_URL, as the key_env after <ID>_API_KEY
    kind: str = "openai-compatible"
    auth: str = "bearer"
    local: bool = False
    url_env: str | None = None
    url_path: str = "/v1"
    default_url: str | None = None
    stream_usage: bool = True
    models_url: str | None = None
    model_prefix: str = ""
    models: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    protocols: tuple[str, ...] = ()  # () for the kind's default
    reasoning_history: bool = False
    flat_fee: bool = False  # paid for by a plan's fee (a coding plan), not per token

    @property
    def env_prefix(self) -> str:
        return self.id.upper()


_FIELDS = {
    "name",
    "base_url",
    "key_env",
    "base_url_env",
    "kind",
    "auth",
    "local",
    "url_env",
    "url_path",
    "default_url",
    "stream_usage",
    "models_url",
    "model_prefix",
    "models",
    "headers",
    "protocols",
    "reasoning_history",
    "flat_fee",
}


def _entry(provider_id: str, row: dict[str, Any]) -> CatalogEntry:
    unknown = set(row) - _FIELDS
    if unknown:
        raise ValueError(f"catalog row {provider_id!r} has unknown fields {sorted(unknown)}")
    if row.get("auth", "bearer") not in AUTH_STYLES:
        raise ValueError(f"catalog row {provider_id!r}: auth must be one of {AUTH_STYLES}")
    if row.get("kind", "openai-compatible") not in KINDS:
        raise ValueError(f"catalog row {provider_id!r}: kind must be one of {KINDS}")
    protocols = tuple(row.get("protocols", ()))
    if protocols and (problem := check_protocols(row.get("kind", "openai-compatible"), protocols)):
        raise ValueError(f"catalog row {provider_id!r}: protocols must be {problem}")
    if not row.get("base_url") and not row.get("url_env"):
        raise ValueError(f"catalog row {provider_id!r} needs base_url or url_env")
    prefix = provider_id.upper()
    return CatalogEntry(
        id=provider_id,
        name=row["name"],
        base_url=row.get("base_url"),
        key_env=(f"{prefix}_API_KEY", *row.get("key_env", ())),
        base_url_env=tuple(row.get("base_url_env", ())),
        kind=row.get("kind", "openai-compatible"),
        auth=row.get("auth", "bearer"),
        local=row.get("local", False),
        url_env=row.get("url_env"),
        url_path=row.get("url_path", "/v1"),
        default_url=row.get("default_url"),
        stream_usage=row.get("stream_usage", True),
        models_url=row.get("models_url"),
        model_prefix=row.get("model_prefix", ""),
        models=tuple(row.get("models", ())),
        headers=tuple(row.get("headers", {}).items()),
        protocols=protocols,
        reasoning_history=row.get("reasoning_history", False),
        flat_fee=row.get("flat_fee", False),
    )


@cache
def load_catalog() -> dict[str, CatalogEntry]:
    text = resources.files(__package__).joinpath("catalog.toml").read_text(encoding="utf-8")
    return {pid: _entry(pid, row) for pid, row in tomllib.loads(text).items()}
