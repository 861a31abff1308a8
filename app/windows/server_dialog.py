"""Add a server of one's own — any OpenAI-compatible, Anthropic-compatible or Ollama server, on
this computer, the network or the internet: a name, its address, a key if it takes one, and which
protocol it speaks; tested before it is saved."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from app.viewmodels.providers import host_of
from app.windows.tested_dialog import TestedDialog, Trial, field_row
from gateway import SERVER_KINDS, ServerDefinition

PROTOCOLS = {
    "openai-compatible": "OpenAI-compatible (vLLM, LM Studio, llama.cpp, LiteLLM, most others)",
    "anthropic": "Anthropic-compatible (Messages API)",
    "ollama": "Ollama",
}


class ServerDialog(TestedDialog[ServerDefinition]):
    def __init__(
        self, trial: Trial[ServerDefinition], save: Callable[[ServerDefinition], None], parent: QWidget
    ) -> None:
        super().__init__(
            "Add a server",
            "Any server that speaks the OpenAI, Anthropic or Ollama protocol: its models are offered "
            "next to the others once it answers.",
            trial,
            save,
            parent,
        )
        self.server_name = QLineEdit()
        self.server_name.setPlaceholderText("what to call it, e.g. Office GPU box")
        field_row(self.form, "&Name", self.server_name)
        self.address = QLineEdit()
        self.address.setPlaceholderText("e.g. http://192.168.1.20:8000/v1")
        field_row(self.form, "&Address", self.address)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("only if it asks for one")
        field_row(self.form, "&Key", self.key)
        self.protocol = QComboBox()
        for kind in SERVER_KINDS:
            self.protocol.addItem(PROTOCOLS.get(kind, kind), kind)
        field_row(self.form, "&Speaks", self.protocol)

    def values(self) -> ServerDefinition | None:
        for field, missing in ((self.server_name, "Give the server a name."), (self.address, "Give its address.")):
            if not field.text().strip():
                self.say(missing, error=True)
                field.setFocus()
                return None
        return {
            "name": self.server_name.text().strip(),
            "base_url": self.address.text().strip(),
            "kind": str(self.protocol.currentData()),
            "key": self.key.text().strip(),
        }

    def name(self) -> str:
        return self.server_name.text().strip() or "The server"

    def where(self) -> str:
        return host_of(self.address.text().strip())
