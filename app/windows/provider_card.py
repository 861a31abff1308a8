"""One provider on the Providers page: its name, its state in words and colour (the words the
overview and the tray use), where its key comes from, and the buttons that fit its state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMenu, QPushButton, QVBoxLayout

from app.viewmodels.providers import Card, address_words, key_button_words

Act = Callable[[Card], None]


@dataclass(frozen=True, slots=True)
class CardActions:
    paste_key: Act
    get_key: Act
    test: Act
    remove: Act  # a stored key, or a server added here
    address: Act
    models: Act
    connection: Act


class ProviderCard(QFrame):
    def __init__(self, actions: CardActions) -> None:
        super().__init__()
        self.setObjectName("card")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._card: Card | None = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.name = QLabel()
        self.name.setObjectName("cardTitle")
        bold = self.name.font()
        bold.setBold(True)
        self.name.setFont(bold)
        top.addWidget(self.name)
        top.addStretch(1)
        self.state = QLabel()  # a dot in the state's colour, and its words
        self.state.setObjectName("cardState")
        top.addWidget(self.state)
        layout.addLayout(top)
        self.detail = QLabel()  # where its key comes from, and its address
        self.detail.setWordWrap(True)
        layout.addWidget(self.detail)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, act in (
            ("Get a key", actions.get_key),
            ("Add key…", actions.paste_key),
            ("Test", actions.test),
            ("Remove…", actions.remove),
        ):
            button = QPushButton(text)
            button.clicked.connect(self._acting(act))
            buttons.addWidget(button)
            self.buttons[text] = button
        self.more = QPushButton("More")
        menu = QMenu(self.more)
        menu.addAction("Change its address…", lambda: self._act(actions.address))
        menu.addAction("Offer only some of its models…", lambda: self._act(actions.models))
        menu.addAction("Connection…", lambda: self._act(actions.connection))
        self.more.setMenu(menu)
        buttons.addWidget(self.more)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    @property
    def card(self) -> Card | None:
        return self._card

    def _acting(self, act: Act) -> Callable[[], None]:
        """The button's slot: ``act`` on the card shown (a slot of no arguments: Qt passes none)."""
        return lambda: self._act(act)

    def _act(self, act: Act) -> None:
        if self._card is not None:
            act(self._card)

    def show_card(self, card: Card) -> None:
        self._card = card
        self.name.setText(card.name)
        self.state.setText(f'<span style="color:{card.state.colour}">●</span> {card.state.words}')
        self.state.setToolTip(card.state.words)
        self.detail.setText(" · ".join(part for part in (card.keys, address_words(card.address)) if part))
        self.detail.setToolTip(card.address)  # the whole address, one hover away
        wanted = not card.configured or card.state.key_refused
        self.buttons["Get a key"].setVisible(card.key_page is not None and wanted)
        self.buttons["Add key…"].setText(key_button_words(card))
        self.buttons["Add key…"].setToolTip(
            "The key set outside Switchboard stays in use; a key added here is used as well."
            if card.outside_key and not card.stored_key
            else ""
        )
        self.buttons["Add key…"].setVisible(not card.custom)
        self.buttons["Test"].setVisible(card.configured)
        self.buttons["Remove…"].setVisible(card.stored_key or card.custom)
        self.more.setVisible(card.configured and not card.custom)
