"""Anthropic Messages: request checks, the canonical codec, streams and errors."""
