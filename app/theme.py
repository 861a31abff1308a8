"""Follow the system's light or dark scheme (Qt ≥ 6.5 tells it); a few styles of our own on top
for headings and figures, the same in both."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

STYLE = """
QLabel#heading { font-size: 18pt; font-weight: 600; padding: 2px 0 6px 0; }
QLabel#big { font-size: 14pt; font-weight: 600; }
QLabel#figure { font-size: 20pt; font-weight: 600; }
QLabel#meterTitle { font-weight: 600; }
QLabel#notice { background: #fff4d6; color: #5c4400; border: 1px solid #e0c36a; border-radius: 4px; padding: 6px; }
QListWidget#nav { font-size: 11pt; }
QListWidget#nav::item { padding: 6px 8px; }
"""

SCHEMES = {"system": Qt.ColorScheme.Unknown, "light": Qt.ColorScheme.Light, "dark": Qt.ColorScheme.Dark}


def apply_theme(app: QApplication, scheme: str = "system") -> None:
    """``scheme``: "system" (follow the desktop), "light" or "dark"."""
    app.setStyle("Fusion")  # the same widgets on every OS, and it follows the colour scheme
    app.styleHints().setColorScheme(SCHEMES.get(scheme, Qt.ColorScheme.Unknown))
    app.setStyleSheet(STYLE)
