"""Mask anything shaped like a credential before it leaves the process as text.

Upstream error bodies, exception messages from the HTTP client (they carry URLs) and log lines
all pass through ``redact``. Shapes covered: OpenAI/Anthropic/OpenRouter style ``sk-`` keys,
GitHub tokens, JWTs, Google ``AIza`` keys, ``Bearer``/``token`` values, an address's user and
password (``https://user:pass@host``), the tray app's own key, and the value of every
credential-bearing field (``refresh_token``, ``code_verifier``, ``client_secret``, …) in a URL
query, a form body or a JSON object, its quotes escaped or not, whatever the value looks like (an
auth server's error may echo the request it refused). The first four characters of a key are kept
so a person can tell keys apart.
"""

from __future__ import annotations

import re

MASK = "****"
# Fields whose value is a credential, in OAuth requests and answers and in provider APIs.
_FIELDS = (
    r"(?:access_token|refresh_token|id_token|device_code|code_verifier|code|client_secret|api[_-]?key"
    r"|token|password|secret)"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # field=... in URLs and form bodies (and Google's key=...)
    (re.compile(rf"(?i)\b((?:key|{_FIELDS})=)[^&\s\"'<>]+"), r"\1" + MASK),
    # "field": "..." in JSON (or a Python repr), also when that JSON sits escaped inside a string
    # (the value runs to its closing quote, the one it opened with, escaped or not)
    (re.compile(rf"""(?i)(\\?["']{_FIELDS}\\?["']\s*:\s*\\?(["']))(?:\\(?!\2).|(?!\2)[^\\\n])*"""), r"\1" + MASK),
    # a password (or a token) in an address: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@\"'<>]+@"), r"\1" + MASK + "@"),
    # Authorization schemes
    (re.compile(r"(?i)\b(Bearer|token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + MASK),
    # JWT-shaped
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "eyJ" + MASK),
    # GitHub tokens
    (re.compile(r"\b(gh[opusr]_|github_pat_)[A-Za-z0-9_]{8,}"), r"\1" + MASK),
    # sk-..., sk-ant-..., sk-proj-..., sk-or-v1-... ; keep the first 4 chars after the prefix
    (re.compile(r"\b(sk-(?:ant-|proj-|or-v1-|sb-)?[A-Za-z0-9]{0,4})[A-Za-z0-9_*.-]{8,}"), r"\1" + MASK),
    # Google API keys
    (re.compile(r"\b(AIza)[A-Za-z0-9_-]{20,}"), r"\1" + MASK),
    # Groq, xAI, NVIDIA, Hugging Face, Perplexity style prefixes; the tray app's own key (sb-app-)
    (re.compile(r"\b(gsk_|xai-|nvapi-|hf_|pplx-|sb-app-)[A-Za-z0-9_-]{8,}"), r"\1" + MASK),
)


def redact(text: str, *secrets: str) -> str:
    """Return ``text`` with credential shapes and every given secret masked."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_key(secret: str) -> str:
    """A label that identifies a key without revealing it: first 4 and last 4 characters."""
    if len(secret) <= 12:
        return MASK
    return f"{secret[:4]}{MASK}{secret[-4:]}"
