"""Translation helpers for the models (widgets use self.tr()).

QT_TRANSLATE_NOOP is redefined with a str signature (PySide6 types it as returning object); the name
is kept so that pyside6-lupdate still collects the marked strings.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

__all__ = ["QT_TRANSLATE_NOOP", "translate"]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:
    """Mark `text` for translation in `context`; returns it unchanged."""
    del context
    return text


def translate(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)
