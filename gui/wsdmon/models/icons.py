"""SVG icons shipped inside the package (wsdmon/resources/icons), loaded once and cached.

Models use them for DecorationRole; widgets reach them through wsdmon.widgets.icons. The SVG masters
live in the repository's resources/icons and are copied here verbatim (a test keeps them equal).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QSize
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICON_NAMES", "icon", "icon_path", "svg_bytes"]

ICON_NAMES = (
    "wsdmon",
    "job-active",
    "job-canceled",
    "job-completed",
    "job-failed",
    "job-timedout",
    "job-vendor",
    "job-lost",
    "subscribed",
    "subscribing",
    "unsubscribed",
    "error",
    "condition-warning",  # a scanner's condition that needs attention (Warning)
    "condition-critical",  # a scanner stopped by a condition (Critical: jam, cover open…)
    "health-ok",  # a device's or the network's checks: all ok (a shield: not a device state)
    "health-warning",
    "health-problem",
    "health-unknown",  # not known (yet): the evidence does not tell
)
_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)


def svg_bytes(name: str) -> bytes:
    """The SVG source of one packaged icon."""
    if name not in ICON_NAMES:
        raise KeyError(name)
    return (resources.files("wsdmon") / "resources" / "icons" / f"{name}.svg").read_bytes()


def icon_path(name: str) -> str:
    """Filesystem path of a packaged icon (the package is installed unzipped)."""
    return str(resources.files("wsdmon") / "resources" / "icons" / f"{name}.svg")


@cache
def icon(name: str) -> QIcon:
    """A QIcon rendered from the packaged SVG at the usual sizes (no icon-engine plugin needed)."""
    renderer = QSvgRenderer(QByteArray(svg_bytes(name)))
    result = QIcon()
    for size in _SIZES if name == "wsdmon" else _SIZES[:5]:
        image = QImage(QSize(size, size), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        result.addPixmap(QPixmap.fromImage(image))
    return result
