"""A sign-in in progress: GitHub's device code, shown large with copy and open-browser buttons and
a live countdown; or ChatGPT's sign-in page, with its link to copy and a field for the address the
browser ended on when no local port could catch it. It follows the flow until it is done or failed:
one coroutine on the Qt thread's loop, cancelled when the dialog closes; another notices when the
sign-in page's server cannot be reached (offline), and when it can again."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.colours import BAD
from app.tasks import spawn
from app.viewmodels.durations import span
from app.windows.page import Context
from app.words import said_of
from gateway import AccountPublic, Control, FlowDoc

POLL_S = 1.0
ONLINE_CHECK_S = 5.0  # how often the sign-in page's server is asked whether it can be reached
PROBE_TIMEOUT_S = 5.0


async def reachable(url: str) -> bool:
    """Whether the server of ``url`` answers at all (any answer, even an error page, is online)."""
    parts = urlsplit(url)
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT_S) as client:
            await client.head(f"{parts.scheme}://{parts.netloc}/")
    except httpx.TransportError:
        return False
    return True


class SignInDialog(QDialog):
    def __init__(self, context: Context, flow: FlowDoc, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.flow = flow
        self.result_account: AccountPublic | None = None
        copilot = flow["kind"] == "copilot"
        self.setWindowTitle("Sign in with GitHub Copilot" if copilot else "Sign in with ChatGPT")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        self.paste: QLineEdit | None = None
        if copilot:
            self._left = float(flow.get("expires_in") or 900)
            layout.addWidget(QLabel(f"Open {flow['verification_uri']} and enter this code:"))
            self.code = QLabel(flow["user_code"])
            font = QFont(self.code.font())
            font.setPointSize(28)
            font.setBold(True)
            font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 4)
            self.code.setFont(font)
            self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(self.code)
            row = QHBoxLayout()
            copy = QPushButton("Copy code")
            copy.clicked.connect(lambda: self.context.copy(flow["user_code"]))
            row.addWidget(copy)
            browse = QPushButton("Open github.com")
            browse.clicked.connect(lambda: self.context.open_url(flow["verification_uri"]))
            row.addWidget(browse)
            layout.addLayout(row)
        else:
            self._left = 300.0
            layout.addWidget(QLabel("Sign in to ChatGPT in your browser; Switchboard is told when you are done."))
            row = QHBoxLayout()
            browse = QPushButton("Open the sign-in page again")
            browse.clicked.connect(lambda: self.context.open_url(flow["authorize_url"]))
            row.addWidget(browse)
            copy = QPushButton("Copy link")
            copy.setToolTip("To open the sign-in page in another browser")
            copy.clicked.connect(lambda: self.context.copy(flow["authorize_url"]))
            row.addWidget(copy)
            layout.addLayout(row)
            if flow.get("paste_redirect"):
                layout.addWidget(QLabel("The usual local ports are busy: paste the address your browser ends on."))
                self.paste = QLineEdit()
                self.paste.setPlaceholderText("http://localhost:1455/auth/callback?code=…")
                send = QPushButton("Use this address")
                send.clicked.connect(self._send_redirect)
                layout.addWidget(self.paste)
                layout.addWidget(send)
        self.countdown = QLabel()
        layout.addWidget(self.countdown)
        self.status = QLabel("Waiting for you to finish in the browser…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout.addWidget(buttons)
        self._show_left()
        self._ended = False
        self.offline = False
        self._following = spawn(self._follow(), owner=self)
        page = flow["verification_uri"] if copilot else flow["authorize_url"]
        self._watching = spawn(self._watch_connection(page), owner=self)

    def _show_left(self) -> None:
        self.countdown.setText(
            f"The code expires in {span(self._left)}." if self._left > 0 else "The code has expired."
        )

    async def _follow(self) -> None:
        """Once a second until it is done or failed: the countdown, and the flow as the gateway has it."""
        flow_id = self.flow["flow"]
        while True:
            await asyncio.sleep(POLL_S)
            self._left -= POLL_S
            self._show_left()
            try:
                flow: FlowDoc | None = await self.context.tasks.ask(lambda control: _public(control, flow_id))
            except Exception as exc:
                self._failed(said_of(exc))
                return
            if flow is None:
                self._failed("This sign-in is no longer known to the gateway; start again.")
                return
            if flow["status"] == "done":
                self._ended = True
                self.result_account = account = flow.get("account")
                self.status.setText(f"Signed in: {account['label'] if account else 'the account'} is connected.")
                self.accept()
                return
            if flow["status"] == "failed":
                self._failed(flow.get("error") or "The sign-in failed.")
                return

    async def _watch_connection(self, page: str) -> None:
        """Say so while the sign-in page's server cannot be reached, and when it can again."""
        host = urlsplit(page).hostname or page
        while not self._ended:
            online = await reachable(page)
            if self._ended:
                return
            if not online and not self.offline:
                self.offline = True
                self._say(
                    f"This computer seems to be offline: {host} cannot be reached, so the sign-in cannot "
                    "go on. Check the internet connection; this goes on by itself once it is back.",
                    error=True,
                )
            elif online and self.offline:
                self.offline = False
                self._say("Back online: finish signing in in your browser (open the page again if it failed).")
            await asyncio.sleep(ONLINE_CHECK_S)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {BAD};" if error else "")

    def _failed(self, message: str) -> None:
        self._ended = True
        self._following.cancel()
        self._watching.cancel()
        self._say(message, error=True)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def _send_redirect(self) -> None:
        assert self.paste is not None
        url, flow_id = self.paste.text().strip(), self.flow["flow"]

        def paste(control: Control) -> None:
            found = control.flow(flow_id)
            if found is None:
                raise LookupError("This sign-in is no longer known to the gateway; start again.")
            control.paste_redirect(found, url)

        self.context.tasks.run(paste, lambda _: self.status.setText("Finishing the sign-in…"), self._failed, owner=self)

    def done(self, code: int) -> None:  # closed in any way: stop following the flow
        self._ended = True
        self._following.cancel()
        self._watching.cancel()
        super().done(code)


def _public(control: Control, flow_id: str) -> FlowDoc | None:
    found = control.flow(flow_id)
    return None if found is None else found.public()
