"""Durations as a person reads them, for every page and the tray: the gateway's own words, so a
refusal's wait and a page's read alike."""

from __future__ import annotations

from gateway import span

__all__ = ["span"]
