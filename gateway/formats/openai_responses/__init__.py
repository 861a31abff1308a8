"""The OpenAI Responses API (protocols.md §2): checks, codec, streams."""
