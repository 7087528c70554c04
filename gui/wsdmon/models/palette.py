"""Failure colours derived from the current palette, so they read in light and dark mode alike.

The background of a failed row is the palette's Base tinted toward red; the text of its state,
reasons and filter cells is a red whose lightness is searched until it reaches WCAG's 4.5:1
contrast against that tinted background on both the plain and the alternate rows.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

__all__ = ["MIN_CONTRAST", "contrast_ratio", "failure_colors", "is_dark", "over"]

MIN_CONTRAST = 4.5  # WCAG 2.x AA for normal text
_HUE = 4 / 360  # a slightly warm red
_TINT_ALPHA_LIGHT = 28
_TINT_ALPHA_DARK = 56


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _luminance(color: QColor) -> float:
    return 0.2126 * _linear(color.redF()) + 0.7152 * _linear(color.greenF()) + 0.0722 * _linear(color.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def over(top: QColor, bottom: QColor) -> QColor:
    """`top` (with its alpha) painted over an opaque `bottom`."""
    a = top.alphaF()
    return QColor.fromRgbF(
        top.redF() * a + bottom.redF() * (1 - a),
        top.greenF() * a + bottom.greenF() * (1 - a),
        top.blueF() * a + bottom.blueF() * (1 - a),
    )


def is_dark(palette: QPalette) -> bool:
    """Dark mode: the view background is darker than its text."""
    return _luminance(palette.color(QPalette.ColorRole.Base)) < _luminance(
        palette.color(QPalette.ColorRole.Text)
    )


def failure_colors(palette: QPalette) -> tuple[QColor, QColor]:
    """(row background tint with alpha, text colour) for failed jobs in this palette."""
    dark = is_dark(palette)
    tint = QColor.fromHslF(_HUE, 0.85, 0.5)
    tint.setAlpha(_TINT_ALPHA_DARK if dark else _TINT_ALPHA_LIGHT)
    grounds = [
        over(tint, palette.color(QPalette.ColorRole.Base)),
        over(tint, palette.color(QPalette.ColorRole.AlternateBase)),
    ]
    # Walk the lightness away from the background until every ground reads at 4.5:1 or better.
    lightness = 0.62 if dark else 0.42
    step = 0.02 if dark else -0.02
    text = QColor.fromHslF(_HUE, 0.9, lightness)
    while 0.0 < lightness < 1.0 and min(contrast_ratio(text, g) for g in grounds) < MIN_CONTRAST:
        lightness += step
        text = QColor.fromHslF(_HUE, 0.9, min(max(lightness, 0.0), 1.0))
    return tint, text
