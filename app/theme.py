"""Follow the system's light or dark scheme (Qt ≥ 6.5 tells it), or the one chosen in Settings;
a few styles of our own on top for headings and figures, the same in both.

A chosen scheme also sets its palette outright: where the platform has no colour-scheme support
(X11 without a desktop portal, say) asking for one alone changes nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
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


DARK = {
    QPalette.ColorRole.Window: "#2b2d30",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.ToolTipBase: "#3c3f41",
    QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#3c3f41",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.Highlight: "#3d6bb3",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea3f5",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c",
}


def apply_theme(app: QApplication, scheme: str = "system") -> None:
    """``scheme``: "system" (follow the desktop), "light" or "dark"."""
    app.setStyle("Fusion")  # the same widgets on every OS, and it follows the colour scheme
    app.styleHints().setColorScheme(SCHEMES.get(scheme, Qt.ColorScheme.Unknown))
    palette = app.style().standardPalette()
    if scheme == "dark":
        for role, colour in DARK.items():
            palette.setColor(role, QColor(colour))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7a7a7a"))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7a7a7a"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE)
