"""A provider as configured: where it is, how to authenticate, what it can do."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gateway.transport import Timeouts

SUBSCRIPTIONS = ("codex", "copilot")  # providers served by signed-in accounts, not keys (auth/account_book.py)
ROTATIONS = ("round-robin", "sequential")  # how requests take a provider's keys (routing/pool.py)


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    id: str
    name: str
    base_url: str
    keys: tuple[str, ...] = field(repr=False)
    kind: str = "openai-compatible"  # the adapter: "openai-compatible", "anthropic", "ollama", "codex", "copilot"
    protocols: tuple[str, ...] = ()  # the wire protocols it speaks, first preferred; () = the kind's own
    auth: str = "bearer"
    local: bool = False
    probe: bool = False  # enabled only because its usual address might answer
    stream_usage: bool = True
    reasoning_history: bool = False  # earlier turns' thinking sent back as reasoning_content
    flat_fee: bool = False  # paid for by a plan's fee (a coding plan): its tokens cost nothing here
    models: tuple[str, ...] = ()
    models_url: str = ""
    model_prefix: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    timeouts: Timeouts = Timeouts()
    rotation: str = "round-robin"  # how requests take its keys: "round-robin" or "sequential"
    max_request_bytes: int = 0  # the largest request body it takes (0: no limit known)
    num_ctx: tuple[tuple[str, int], ...] = ()  # model -> the context window always asked of Ollama for it
    source: str = "config"  # "config", "environment" or "default"


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    """Where subscription accounts sign in and send their traffic (protocols.md §7, §8): the
    real services by default; a GitHub Enterprise host or a test's fakes by configuration."""

    codex_base_url: str = "https://chatgpt.com/backend-api/codex"
    openai_auth_url: str = "https://auth.openai.com"
    github_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    copilot_api_url: str = "https://api.githubcopilot.com"  # when a Copilot token names no address
    in_auto: bool = True  # whether ``auto`` may pick subscription models
    rotation: str = "round-robin"

    @property
    def github_host(self) -> str:
        """The host an editor's saved Copilot login is filed under for this GitHub (github.com,
        or a GitHub Enterprise server's name)."""
        return urlsplit(self.github_url).hostname or "github.com"

    @property
    def usage_url(self) -> str:
        """The ChatGPT usage endpoint: ``/wham/usage`` beside the Codex path, or
        ``{base}/api/codex/usage`` for a base without ``/backend-api``."""
        base = self.codex_base_url
        root, found, _ = base.partition("/backend-api")
        return f"{root}/backend-api/wham/usage" if found else f"{base}/api/codex/usage"
