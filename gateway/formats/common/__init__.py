"""Helpers the wire formats share: JSON bodies, SSE and NDJSON framing, relay state, translated pieces."""
