"""The Ollama API (protocols.md §4): checks, codec, streams, model documents."""
