"""Icons for the widgets: the packaged SVGs (loaded by wsdmon.models.icons, which models also use
for DecorationRole) and the application icon."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from wsdmon.models.icons import ICON_NAMES, icon, icon_path, svg_bytes

__all__ = ["ICON_NAMES", "app_icon", "icon", "icon_path", "svg_bytes"]


def app_icon() -> QIcon:
    """The application icon (resources/icons/wsdmon.svg), for windows, the tray and About."""
    return icon("wsdmon")
