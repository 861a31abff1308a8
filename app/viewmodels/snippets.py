"""Ready-to-copy settings that point each tool at the gateway, with the live address and, where
the gateway needs one, a client key: for the tools Switchboard cannot set up itself (the SDKs,
curl), and for doing by hand what "Set up" does. Cursor gets no snippet: it sends its requests
from its own servers, which cannot reach this computer, and the page says so instead."""

from __future__ import annotations

from dataclasses import dataclass

from gateway import ToolTarget, claude_code_environment

KEY_PLACEHOLDER = "<your client key>"
DEFAULT_URL = "http://127.0.0.1:11488"  # shown while the gateway is not running


@dataclass(frozen=True, slots=True)
class Snippet:
    tool: str
    where: str  # where it goes, in words
    text: str  # "" where there is nothing to copy (``where`` says why)


def snippets(url: str, key: str | None = None, model: str = "auto") -> list[Snippet]:
    """``key``: the client key to show (None when loopback callers need none)."""
    v1 = f"{url}/v1"
    token = key or "switchboard"  # SDKs insist on some key even where the gateway needs none
    shown = key or KEY_PLACEHOLDER
    header = f' \\\n  -H "Authorization: Bearer {shown}"' if key else ""
    return [
        Snippet(
            "VS Code Copilot Chat",
            "Chat view → model picker → Manage Models… → Ollama: give this URL (older versions: the setting below)",
            f'{url}\n\n"github.copilot.chat.byok.ollamaEndpoint": "{url}"',
        ),
        Snippet(
            "Claude Code",
            "Before starting Claude Code from a terminal, or in its settings file ~/.claude/settings.json under "
            '"env". Every model slot is set: without them Claude Code asks for Anthropic\'s own models.',
            "\n".join(
                f"export {name}={value}" for name, value in claude_code_environment(ToolTarget(url, key, model)).items()
            ),
        ),
        Snippet(
            "Codex CLI",
            "~/.codex/config.toml",
            f'model_provider = "switchboard"\nmodel = "{model}"\n\n[model_providers.switchboard]\n'
            f'name = "Switchboard"\nbase_url = "{v1}"\nwire_api = "responses"\n'
            + (f'experimental_bearer_token = "{key}"\n' if key else ""),
        ),
        Snippet(
            "Continue",
            "~/.continue/config.yaml, under models:",
            f"  - name: Switchboard\n    provider: openai\n    model: {model}\n    apiBase: {v1}\n    apiKey: {token}",
        ),
        Snippet(
            "OpenCode",
            "~/.config/opencode/opencode.json",
            "{\n"
            '  "provider": {\n'
            '    "switchboard": {\n'
            '      "npm": "@ai-sdk/openai-compatible",\n'
            '      "name": "Switchboard",\n'
            f'      "options": {{"baseURL": "{v1}", "apiKey": "{token}"}},\n'
            f'      "models": {{"{model}": {{"name": "{model}"}}}}\n'
            "    }\n"
            "  },\n"
            f'  "model": "switchboard/{model}"\n'
            "}",
        ),
        Snippet(
            "Cursor",
            "Cursor sends its requests to a custom address from Cursor's own servers, not from this computer, "
            "so they cannot reach Switchboard here. Cursor cannot use Switchboard.",
            "",
        ),
        Snippet(
            "OpenAI SDK (Python)",
            "In your code",
            f'from openai import OpenAI\n\nclient = OpenAI(base_url="{v1}", api_key="{token}")\n'
            f'reply = client.chat.completions.create(model="{model}", messages=[{{"role": "user", '
            f'"content": "Hello"}}])',
        ),
        Snippet(
            "Anthropic SDK (Python)",
            "In your code",
            f'import anthropic\n\nclient = anthropic.Anthropic(base_url="{url}", api_key="{token}")\n'
            f'reply = client.messages.create(model="{model}", max_tokens=1024, messages=[{{"role": "user", '
            f'"content": "Hello"}}])',
        ),
        Snippet(
            "curl",
            "In a terminal",
            f"curl {v1}/chat/completions{header} \\\n  -H 'Content-Type: application/json' \\\n"
            f'  -d \'{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello"}}]}}\'',
        ),
    ]
