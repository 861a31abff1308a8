"""Counting tokens offline, for ``count_tokens`` and for usage an upstream did not report.

The encodings are built from the rank files bundled in ``resources/tokenizers`` (never fetched),
with tiktoken's own split pattern and special tokens for them (tiktoken is pinned below 0.15;
``tests/gateway/test_tokens.py`` checks the ids equal tiktoken's). Counts for models that are not
OpenAI's are approximate, and anything counted here is flagged ``estimated``.

Loading an encoding takes about 0.2 s, so callers on the event loop use ``count_async``.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import threading
from pathlib import Path

import tiktoken
from tiktoken.load import load_tiktoken_bpe

from gateway.core.chat import ChatRequest, ImagePart, Reasoning, TextPart, ToolCall, ToolResult

_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|"""
    r"""\s*[\r\n]|\s+(?!\S)|\s"""
)

# name -> (sha256 of the rank file, split pattern, special tokens)
_ENCODINGS = {
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PATTERN,
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PATTERN,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}
_CL100K_MODELS = ("gpt-4-", "gpt-4:", "gpt-3.5", "text-embedding-3", "text-embedding-ada")

# Fixed costs, as OpenAI's cookbook counts chat: per message, and to prime the reply.
PER_MESSAGE = 3
PER_REPLY = 3
PER_IMAGE = 1_000  # roughly what a 1-megapixel image costs Claude and GPT-4o


def resources_dir() -> Path:
    """Bundled data: SWITCHBOARD_RESOURCES, the frozen app's own folder, or the source tree's."""
    override = os.environ.get("SWITCHBOARD_RESOURCES")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


_LOADING = threading.Lock()


def encoding(name: str) -> tiktoken.Encoding:
    """``name``'s encoding, loaded once: the first counts of a burst, each in a thread of its own, wait for
    the one that loads it rather than each loading it too (about a second of CPU each, holding the GIL, which
    starved the event loop: eight at once held answers up for seconds)."""
    with _LOADING:
        return _loaded(name)


@functools.cache
def _loaded(name: str) -> tiktoken.Encoding:
    sha256, pattern, special = _ENCODINGS[name]
    ranks = load_tiktoken_bpe(str(resources_dir() / "tokenizers" / f"{name}.tiktoken"), expected_hash=sha256)
    return tiktoken.Encoding(name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special)


def encoding_for(model: str) -> str:
    bare = model.rsplit("/", 1)[-1].lower()
    if bare == "gpt-4" or bare.startswith(_CL100K_MODELS):
        return "cl100k_base"
    return "o200k_base"


def count_text(text: str, model: str) -> int:
    return len(encoding(encoding_for(model)).encode(text, disallowed_special=()))


def count_request(request: ChatRequest) -> int:
    """The prompt tokens of a request: its texts, tool calls and results, tool schemas."""
    pieces = [p.text for p in request.system]
    images = 0
    for message in request.messages:
        for part in message.parts:
            if isinstance(part, TextPart | Reasoning):
                pieces.append(part.text)
            elif isinstance(part, ToolCall):
                pieces += [part.name, part.arguments]
            elif isinstance(part, ToolResult):
                pieces += [p.text for p in part.content if isinstance(p, TextPart)]
                images += sum(isinstance(p, ImagePart) for p in part.content)
            elif isinstance(part, ImagePart):
                images += 1
    for tool in request.tools:
        pieces += [tool.name, tool.description, repr(tool.parameters)]
    text_tokens = count_text("\n".join(pieces), request.model) if pieces else 0
    return text_tokens + PER_MESSAGE * (len(request.messages) + bool(request.system)) + PER_REPLY + PER_IMAGE * images


async def count_async(request: ChatRequest) -> int:
    """``count_request`` off the event loop (loading and encoding are CPU work)."""
    return await asyncio.to_thread(count_request, request)


async def count_text_async(text: str, model: str) -> int:
    """``count_text`` off the event loop; no text is no tokens (and loads no encoding)."""
    return await asyncio.to_thread(count_text, text, model) if text else 0
