"""What a gateway runs with: the settings types, frozen once loaded (``loading.py`` reads them from
``config.toml`` and the environment). Nothing here reads a file: tests and callers build them
directly, with the defaults below standing for a file that says nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gateway.config.shared import SharedSettings
from gateway.config.store import StoreSettings
from gateway.providers.settings import ProviderSettings, SubscriptionSettings
from gateway.transport.proxies import EnvironmentProxies, ProxySetting

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11488
LOG_LEVELS = ("debug", "info", "warning", "error")  # [server].log_level's choices
THEMES = ("system", "light", "dark")  # [app].theme's


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    allowed_hosts: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = 10 * 1024 * 1024
    shutdown_grace: float = 10.0
    drain: float = 0.0  # seconds a stop keeps serving with /health/ready at 503, so a load balancer sees it
    header_timeout: float = 15.0  # seconds for a request's head, from connecting or the last answer
    body_timeout: float = 60.0  # seconds for a request's body, from its head
    max_connections: int = 1024
    max_connections_per_peer: int = 64  # from one address beyond loopback
    stream_keep_alive: float = 15.0  # seconds of silence on a stream before its protocol's keep-alive goes out
    model_refresh: float = 600.0
    model_list_ttl: float = 86400.0  # a list not confirmed for this long is no longer used
    require_keys: bool = False  # loopback callers need a client key too (beyond loopback they always do)
    metrics_auth: bool = False  # /metrics needs admin credentials
    ledger: bool = True  # keep a usage row per request (off: counts and limits only, nothing on disk)
    log_level: str = "info"  # unless --log-level says otherwise


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    """How long routes rest after failing, and when a provider's breaker opens."""

    cooldown: float = 10.0  # after a 429 that does not say how long
    exhausted: float = 3600.0  # after an exhausted quota that does not say when it resets
    credential: float = 3600.0  # after a refused credential, before it is tried again
    breaker_failures: int = 3
    breaker_cooloff: float = 30.0
    breaker_max_cooloff: float = 600.0


@dataclass(frozen=True, slots=True)
class ModelOverride:
    """What the config says of one model, over the bundled facts (``[models."provider/model"]``)."""

    context: int | None = None
    output: int | None = None
    rating: int | None = None
    cost: tuple[float, float] | None = None
    capabilities: tuple[str, ...] | None = None
    reasons: bool | None = None


@dataclass(frozen=True, slots=True)
class CacheSettings:
    enabled: bool = False
    ttl: float = 300.0
    max_entries: int = 1000
    max_bytes: int = 64 * 1024 * 1024
    sampled: bool = False  # also reuse answers of requests that sample (temperature > 0 or unset)


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    policy: HealthPolicy = HealthPolicy()
    models: tuple[tuple[str, ModelOverride], ...] = ()  # "provider/model" -> override
    deadline: float = 1800.0  # seconds for a whole request, every attempt and the stream included
    affinity: float = 3600.0  # seconds a conversation keeps its key after its last request
    cache: CacheSettings = CacheSettings()
    aliases: tuple[tuple[str, tuple[str, ...]], ...] = ()  # name or glob -> "provider/model" chain, in order
    enforce_model: str | None = None  # the alias or model that serves every request, whatever it names


@dataclass(frozen=True, slots=True)
class AppSettings:
    """What only the tray app reads (``[app]``); kept in the same file so there is one to back up."""

    theme: str = "system"  # "system" (follow the desktop), "light" or "dark"
    check_updates: bool = True  # the app asks the release feed for a newer release, daily
    update_feed: str = ""  # the release feed's address ("": the project's GitHub releases)
    update_key: str = ""  # base64 Ed25519 public key releases are signed with ("": the one built in)
    team_gateway: str = ""  # a team's gateway the tools are set up to use ("": this computer's)


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    """How upstreams are reached (``[network]``, and each provider's ``proxy``). A proxy's password
    is here only in memory: the file keeps the address without it."""

    proxy: ProxySetting | None = None  # None: the environment's proxies, if any
    ca_file: Path | None = None  # a PEM bundle of extra roots to trust (a company's inspecting proxy)
    provider_proxies: tuple[tuple[str, ProxySetting], ...] = ()  # provider (or sign-in server) id -> its own
    environment: EnvironmentProxies = EnvironmentProxies()  # HTTPS_PROXY & co. (unread when ``proxy`` is set)
    account_proxies: tuple[tuple[str, ProxySetting], ...] = ()  # a signed-in account's label -> its own


@dataclass(frozen=True, slots=True)
class Settings:
    server: ServerSettings
    providers: tuple[ProviderSettings, ...]
    routing: RoutingSettings = RoutingSettings()
    config_file: Path | None = None  # the file that was read, if any
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    app: AppSettings = AppSettings()
    network: NetworkSettings = NetworkSettings()
    shared: SharedSettings = SharedSettings()
    store: StoreSettings = StoreSettings()
