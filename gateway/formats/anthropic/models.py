"""Anthropic's model list (protocols.md §3.1): what an Anthropic client sees at ``/v1/models``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.core.models import ModelEntry
from gateway.formats.common.jsonbody import encode


def _model(entry: ModelEntry) -> dict[str, Any]:
    created = datetime.fromtimestamp(entry.created, UTC).isoformat().replace("+00:00", "Z")
    return {"type": "model", "id": entry.id, "display_name": entry.id, "created_at": created}


def render_model_list(entries: Sequence[ModelEntry]) -> bytes:
    return encode(
        {
            "data": [_model(e) for e in entries],
            "has_more": False,
            "first_id": entries[0].id if entries else None,
            "last_id": entries[-1].id if entries else None,
        }
    )


def render_model(entry: ModelEntry) -> bytes:
    return encode(_model(entry))
