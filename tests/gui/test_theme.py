"""Dark mode: failure colours come from the palette and keep WCAG contrast in light and dark mode;
the window follows the system colour scheme."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from wsdmon.models import Column, Role
from wsdmon.models.palette import MIN_CONTRAST, contrast_ratio, failure_colors, is_dark, over
from wsdmon.widgets.theme import ThemeFollower, dark_palette

from .make_screenshots import FAILED_TOKEN, build_demo


@pytest.fixture
def restore_palette(qapp):
    original = QPalette(qapp.palette())
    yield
    qapp.setPalette(original)


def _light_palette() -> QPalette:
    return QApplication.style().standardPalette()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_failed_rows_read_on_the_current_palette(qtbot, tmp_path, qapp, restore_palette, dark):
    demo = build_demo(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = demo.window
    qtbot.addWidget(window)
    window.show()
    qapp.setPalette(dark_palette() if dark else _light_palette())  # the window passes it on to the model
    palette = qapp.palette()
    assert is_dark(palette) is dark
    row = next(r for r in range(demo.jobs.rowCount()) if demo.jobs.record(r).status.job_token == FAILED_TOKEN)
    for column in (Column.STATE, Column.REASONS, Column.FILTERS):
        index = demo.jobs.index(row, column)
        assert index.data(Role.IS_FAILED) is True
        fg = index.data(Qt.ItemDataRole.ForegroundRole)
        bg = index.data(Qt.ItemDataRole.BackgroundRole)
        assert isinstance(fg, QColor)
        assert isinstance(bg, QColor)
        for ground in (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase):
            behind = over(bg, palette.color(ground))
            assert contrast_ratio(fg, behind) >= MIN_CONTRAST, (column, ground)
        # …and it is still red, not just the text colour
        assert fg.hslHueF() < 0.05 or fg.hslHueF() > 0.95
        assert fg.hslSaturationF() > 0.5
    ok_row = next(r for r in range(demo.jobs.rowCount()) if not demo.jobs.index(r, 0).data(Role.IS_FAILED))
    assert demo.jobs.index(ok_row, Column.STATE).data(Qt.ItemDataRole.ForegroundRole) is None  # palette text


def test_failure_colours_differ_between_light_and_dark():
    light_fg = failure_colors(_light_palette())[1]
    dark_fg = failure_colors(dark_palette())[1]
    assert light_fg.lightnessF() < 0.5 < dark_fg.lightnessF()


def test_theme_follows_the_colour_scheme(qapp, restore_palette):
    qapp.setPalette(_light_palette())
    follower = ThemeFollower(qapp)
    follower._on_color_scheme_changed(Qt.ColorScheme.Dark)
    assert is_dark(qapp.palette())
    follower._on_color_scheme_changed(Qt.ColorScheme.Light)
    assert not is_dark(qapp.palette())
