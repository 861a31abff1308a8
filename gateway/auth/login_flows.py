"""Sign-in flows in progress: "Sign in with ChatGPT" (a one-time loopback callback listener)
and "Sign in with GitHub Copilot" (the device flow), each ending in a connected account.

The ChatGPT callback listener (SECURITY.md S36) binds 127.0.0.1 only, on 1455 or else 1457 (the
ports the client's redirect allow-list has); answers only ``/auth/callback`` with a loopback
``Host``; exchanges a code only for the state it issued, once; escapes what it shows; and closes
after the sign-in or ``LISTEN_FOR`` seconds. When both ports are busy there is no listener and
the user pastes the address the browser ended on (``redirect``).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from aiohttp import web

from gateway.auth.account_book import AccountBook
from gateway.auth.oauth.chatgpt_login import ChatGPTLogin, LoginRejected
from gateway.auth.oauth.device_flow import DeviceFlowFailed, wait_for_token
from gateway.auth.oauth.github import CopilotRefused, DeviceCode
from gateway.auth.oauth.http import AuthUnreachable
from gateway.auth.oauth.openai import CALLBACK_PATH, CALLBACK_PORTS, RefreshRefused
from gateway.clock import Clock
from gateway.errors import GatewayError, InvalidRequest
from gateway.store.accounts import AccountPublic

log = logging.getLogger("gateway.accounts")

LISTEN_FOR = 300.0  # seconds a sign-in waits for its callback or code
KEEP_FINISHED = 50  # finished flows remembered for their status
_PAGE = (
    "<!doctype html><meta charset=utf-8><title>Switchboard</title><body "
    "style='font-family:sans-serif'><h2>{}</h2><p>{}</p>"
)


class FlowDetails(TypedDict, total=False):
    """What the person needs to finish a sign-in."""

    authorize_url: str  # ChatGPT: the page to open
    callback_port: int | None  # ChatGPT: where its browser comes back (None: no port was free)
    paste_redirect: bool  # ChatGPT: no listener could be opened, so the address is pasted
    verification_uri: str  # Copilot: where to type the code
    expires_in: int  # Copilot: seconds the code lasts
    interval: int  # Copilot: seconds between polls


class FlowDoc(FlowDetails):
    flow: str
    kind: str
    status: str  # pending | done | failed
    account: NotRequired[AccountPublic]
    error: NotRequired[str]
    user_code: NotRequired[str]  # only in process, for the person at the machine (S36)


@dataclass
class Flow:
    id: str
    kind: str  # "codex" or "copilot"
    status: str = "pending"  # pending | done | failed
    account: AccountPublic | None = None
    error: str = ""
    details: FlowDetails = field(default_factory=FlowDetails)  # what the user needs: the URL, the time left
    user_code: str = ""  # GitHub's device code for the person to type: never in public() (S36)
    task: asyncio.Task[None] | None = None
    login: ChatGPTLogin | None = None
    code: asyncio.Future[str] | None = None

    def public(self) -> FlowDoc:
        """What the admin routes answer. A Copilot sign-in's user code is not in it: it is shown
        only to the person at the machine, by the app or the terminal (SECURITY.md S36)."""
        out = cast(FlowDoc, {"flow": self.id, "kind": self.kind, "status": self.status, **self.details})
        if self.account is not None:
            out["account"] = self.account
        if self.error:
            out["error"] = self.error
        return out

    def for_person(self) -> FlowDoc:
        """``public()`` with the user code: for the app's sign-in dialog, in process."""
        out = self.public()
        if self.user_code:
            out["user_code"] = self.user_code
        return out


class CallbackListener:
    """The one-time loopback listener of a ChatGPT sign-in."""

    def __init__(self, on_params: Callable[[dict[str, str]], Awaitable[tuple[int, str, str]]]) -> None:
        self._on_params = on_params
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self, ports: tuple[int, ...] = CALLBACK_PORTS) -> int | None:
        """Listen on the first free port; None when every one is taken."""
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get(CALLBACK_PATH, self._callback)
        for port in ports:
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            try:
                await web.TCPSite(runner, "127.0.0.1", port).start()
            except OSError:
                await runner.cleanup()
                continue
            self._runner, self.port = runner, port
            return port
        return None

    async def _callback(self, request: web.Request) -> web.Response:
        host = request.headers.get("Host", "")
        if host not in (f"localhost:{self.port}", f"127.0.0.1:{self.port}"):
            return web.Response(status=400, text="wrong host")  # a rebound name, not the browser's redirect
        status, title, message = await self._on_params(dict(request.query))
        return web.Response(
            status=status, text=_PAGE.format(html.escape(title), html.escape(message)), content_type="text/html"
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class LoginFlows:
    def __init__(
        self,
        book: AccountBook,
        clock: Clock,
        *,
        env: Mapping[str, str],
        home: Path,
        open_browser: Callable[[str], object] | None = None,
    ) -> None:
        """``env`` and ``home``: where other tools' logins are looked for (imports)."""
        self.book = book
        self.env = env
        self.home = home
        self._clock = clock
        self._open_browser = open_browser
        self._flows: dict[str, Flow] = {}

    def get(self, flow_id: str) -> Flow | None:
        return self._flows.get(flow_id)

    def _new(self, kind: str) -> Flow:
        finished = [f for f in self._flows.values() if f.status != "pending"]
        for old in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._flows[old.id]
        flow = Flow(secrets.token_urlsafe(12), kind)
        self._flows[flow.id] = flow
        return flow

    # --- ChatGPT ---------------------------------------------------------------------------

    async def start_chatgpt(self, actor: str, ports: tuple[int, ...] = CALLBACK_PORTS) -> Flow:
        flow = self._new("codex")
        flow.code = asyncio.get_running_loop().create_future()
        code = flow.code

        async def on_params(params: dict[str, str]) -> tuple[int, str, str]:
            assert flow.login is not None
            try:
                value = flow.login.code_from(params)
            except LoginRejected as exc:
                return 400, "Sign-in not completed", exc.message
            if not code.done():
                code.set_result(value)
            return 200, "Signed in", "You can close this tab and return to Switchboard."

        listener = CallbackListener(on_params)
        port = await listener.start(ports)
        flow.login = ChatGPTLogin(self.book.openai, port)
        flow.details = {"authorize_url": flow.login.url, "callback_port": port, "paste_redirect": port is None}
        if port is None:
            log.warning(
                "ChatGPT sign-in: ports %s are busy; paste the address the browser ends on", ", ".join(map(str, ports))
            )
        flow.task = asyncio.create_task(self._finish_chatgpt(flow, listener, actor), name=f"login-{flow.id}")
        self._browse(flow.login.url)
        return flow

    def paste_redirect(self, flow: Flow, url: str) -> None:
        """The address the browser ended on, pasted by the user (raises InvalidRequest)."""
        if flow.login is None or flow.code is None or flow.status != "pending":
            raise InvalidRequest("this sign-in is not waiting for an address", param="flow")
        try:
            value = flow.login.code_from_url(url)
        except LoginRejected as exc:
            raise InvalidRequest(exc.message, param="url") from None
        if not flow.code.done():
            flow.code.set_result(value)

    async def _finish_chatgpt(self, flow: Flow, listener: CallbackListener, actor: str) -> None:
        assert flow.login is not None and flow.code is not None
        try:
            code = await asyncio.wait_for(flow.code, LISTEN_FOR)
            await listener.close()  # one callback only
            tokens = await flow.login.finish(code)
            row = await self.book.connect_codex(tokens, "login", actor)
            flow.account, flow.status = row.public(), "done"
        except TimeoutError:
            flow.status, flow.error = "failed", "The sign-in was not completed within 5 minutes; start again."
        except (RefreshRefused, AuthUnreachable, GatewayError) as exc:
            flow.status, flow.error = "failed", getattr(exc, "message", str(exc))
        finally:
            await listener.close()

    # --- GitHub Copilot --------------------------------------------------------------------

    async def start_copilot(self, actor: str) -> Flow:
        flow = self._new("copilot")
        try:
            device = await self.book.github.device_code()
        except (CopilotRefused, AuthUnreachable) as exc:
            del self._flows[flow.id]
            raise InvalidRequest(getattr(exc, "message", str(exc))) from None
        flow.user_code = device.user_code
        flow.details = {
            "verification_uri": device.verification_uri,
            "expires_in": device.expires_in,
            "interval": device.interval,
        }
        flow.task = asyncio.create_task(self._finish_copilot(flow, device, actor), name=f"login-{flow.id}")
        self._browse(device.verification_uri)
        return flow

    async def _finish_copilot(self, flow: Flow, device: DeviceCode, actor: str) -> None:
        try:
            token = await wait_for_token(self.book.github, device, self._clock)
            row = await self.book.connect_copilot(token, "login", actor)
            flow.account, flow.status = row.public(), "done"
        except DeviceFlowFailed as exc:
            flow.status, flow.error = "failed", exc.message
        except (AuthUnreachable, GatewayError) as exc:
            flow.status, flow.error = "failed", getattr(exc, "message", str(exc))

    def _browse(self, url: str) -> None:
        if self._open_browser is not None:
            with contextlib.suppress(Exception):  # no browser here (a server): the URL is shown instead
                self._open_browser(url)

    async def close(self) -> None:
        for flow in self._flows.values():
            if flow.task is not None and not flow.task.done():
                flow.task.cancel()
                with contextlib.suppress(BaseException):
                    await flow.task
