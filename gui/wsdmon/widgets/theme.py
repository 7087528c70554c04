"""Light and dark mode: the window follows the system's colour scheme (Qt 6.5+).

Most platforms hand Qt a dark palette when the system is dark. Where they do not (Windows' native
"windowsvista" style has none; some Linux desktops report the scheme without a palette) the window
switches to Fusion with `dark_palette()`, and back when the system turns light. Our own colours
(failed rows) are derived from whatever palette is current (wsdmon.models.palette).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from wsdmon.models.palette import is_dark

__all__ = ["ThemeFollower", "dark_palette"]

log = logging.getLogger(__name__)

_NO_DARK_STYLES = frozenset({"windowsvista", "windows"})


def dark_palette() -> QPalette:
    """A dark palette for Fusion (the colours of Qt's own dark Fusion, close to Breeze Dark)."""
    p = QPalette()
    R = QPalette.ColorRole  # noqa: N806 - reads like the enum it abbreviates
    window, base, alt, text = (
        QColor(45, 45, 48),
        QColor(30, 30, 32),
        QColor(40, 40, 43),
        QColor(232, 232, 232),
    )
    for role, color in (
        (R.Window, window),
        (R.WindowText, text),
        (R.Base, base),
        (R.AlternateBase, alt),
        (R.ToolTipBase, QColor(60, 60, 64)),
        (R.ToolTipText, text),
        (R.PlaceholderText, QColor(150, 150, 150)),
        (R.Text, text),
        (R.Button, QColor(53, 53, 56)),
        (R.ButtonText, text),
        (R.BrightText, QColor(255, 90, 90)),
        (R.Light, QColor(75, 75, 80)),
        (R.Midlight, QColor(62, 62, 66)),
        (R.Mid, QColor(40, 40, 42)),
        (R.Dark, QColor(25, 25, 27)),
        (R.Shadow, QColor(0, 0, 0)),
        (R.Highlight, QColor(42, 130, 218)),
        (R.HighlightedText, QColor(255, 255, 255)),
        (R.Link, QColor(110, 170, 255)),
        (R.LinkVisited, QColor(180, 140, 255)),
    ):
        p.setColor(role, color)
    for role in (R.Text, R.WindowText, R.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(128, 128, 128))
    return p


class ThemeFollower:
    """Keeps the application's palette in step with the system colour scheme."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._own_palette = False
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(self._on_color_scheme_changed)
        self._on_color_scheme_changed(hints.colorScheme())

    def _on_color_scheme_changed(self, scheme: Qt.ColorScheme) -> None:
        app = self._app
        if scheme == Qt.ColorScheme.Dark:
            if app.style().name().lower() in _NO_DARK_STYLES:
                app.setStyle("Fusion")
            if not is_dark(app.palette()):
                log.info("the system is dark but its palette is not: using wsdmon's dark palette")
                app.setPalette(dark_palette())
                self._own_palette = True
        elif self._own_palette:
            app.setPalette(app.style().standardPalette())
            self._own_palette = False
