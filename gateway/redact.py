"""Mask anything shaped like a credential before it leaves the process as text.

Upstream error bodies, exception messages from the HTTP client (they carry URLs) and log lines
all pass through ``redact``. Shapes covered: OpenAI/Anthropic/OpenRouter style ``sk-`` keys,
GitHub tokens, JWTs, Google ``AIza`` keys, ``Bearer``/``token`` values and credential-bearing
URL query parameters. The first four characters of a key are kept so a person can tell keys apart.
"""

from __future__ import annotations

import re

_MASK = "****"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=..., token=..., access_token=..., api_key=... in URLs and form bodies
    (
        re.compile(
            r"(?i)\b((?:api[_-]?key|key|token|access_token|refresh_token|client_secret|password)=)"
            r"[^&\s\"'<>]+"
        ),
        r"\1" + _MASK,
    ),
    # Authorization schemes
    (re.compile(r"(?i)\b(Bearer|token|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + _MASK),
    # JWT-shaped
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "eyJ" + _MASK),
    # GitHub tokens
    (re.compile(r"\b(gh[opusr]_|github_pat_)[A-Za-z0-9_]{8,}"), r"\1" + _MASK),
    # sk-..., sk-ant-..., sk-proj-..., sk-or-v1-... ; keep the first 4 chars after the prefix
    (re.compile(r"\b(sk-(?:ant-|proj-|or-v1-|sb-)?[A-Za-z0-9]{0,4})[A-Za-z0-9_*.-]{8,}"), r"\1" + _MASK),
    # Google API keys
    (re.compile(r"\b(AIza)[A-Za-z0-9_-]{20,}"), r"\1" + _MASK),
    # Groq, xAI, NVIDIA, Hugging Face, Perplexity style prefixes
    (re.compile(r"\b(gsk_|xai-|nvapi-|hf_|pplx-)[A-Za-z0-9_-]{8,}"), r"\1" + _MASK),
)


def redact(text: str, *secrets: str) -> str:
    """Return ``text`` with credential shapes and every given secret masked."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, _MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_key(secret: str) -> str:
    """A label that identifies a key without revealing it: first 4 and last 4 characters."""
    if len(secret) <= 12:
        return _MASK
    return f"{secret[:4]}{_MASK}{secret[-4:]}"
