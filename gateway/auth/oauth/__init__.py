"""Signing in to subscription providers: ChatGPT (OAuth code + PKCE, protocols.md §7) and
GitHub Copilot (device flow and token exchange, §8), and reading the logins other tools keep."""
