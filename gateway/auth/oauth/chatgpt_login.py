"""One "Sign in with ChatGPT" attempt: PKCE, a one-time state, and the code that comes back
(to the loopback listener, or pasted by the user when both callback ports are busy)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit

from gateway.auth.oauth.http import machine_code
from gateway.auth.oauth.openai import CALLBACK_PORTS, OpenAIAuth, Tokens, redirect_uri
from gateway.auth.oauth.pkce import Pkce, new_state


class LoginRejected(Exception):
    """The callback cannot complete this sign-in (400): wrong or missing state, a replay, or the
    provider's own error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ChatGPTLogin:
    def __init__(self, auth: OpenAIAuth, port: int | None) -> None:
        """``port``: where the callback listener is; None when neither port was free (the user
        pastes the address the browser ends on)."""
        self._auth = auth
        self._pkce = Pkce.new()
        self._state = new_state()
        self.port = port
        self.redirect = redirect_uri(port or CALLBACK_PORTS[0])
        self.url = auth.authorize_url(self.redirect, self._pkce, self._state)
        self._used = False

    def code_from(self, params: Mapping[str, str]) -> str:
        """The authorization code of a callback's query; raises ``LoginRejected``. The state is
        checked first and works once: a replay or a forged callback exchanges nothing."""
        if self._used:
            raise LoginRejected("This sign-in has already been used; start a new one.")
        if not hmac.compare_digest(params.get("state", "").encode(), self._state.encode()):
            raise LoginRejected("The sign-in answer does not belong to this sign-in (state mismatch).")
        self._used = True
        if error := params.get("error"):  # only its code is repeated, never the rest of the address (S30)
            raise LoginRejected(f"ChatGPT refused the sign-in ({machine_code(error) or 'an unreadable error code'}).")
        code = params.get("code", "")
        if not code:
            raise LoginRejected("The sign-in answer carries no code.")
        return code

    def code_from_url(self, pasted: str) -> str:
        """The code of the address the browser ended on, pasted by the user."""
        return self.code_from(dict(parse_qsl(urlsplit(pasted.strip()).query)))

    async def finish(self, code: str) -> Tokens:
        return await self._auth.exchange_code(code, self.redirect, self._pkce)
