"""Issue item 8: the window at 1366×768 and 1024×600 on a real X server (Xvfb): it fits the screen
with its status bar, the search box stays readable, enough job columns are in view, the
Preferences dialog fits and none of its notes is clipped, and reasons show short labels."""

from __future__ import annotations

import pytest

from .make_layout_screenshots import make_layout_screenshots


@pytest.mark.timeout(300)
def test_the_window_and_preferences_at_laptop_and_netbook_sizes(tmp_path):
    facts = {f["size"]: f for f in make_layout_screenshots(tmp_path)}
    assert set(facts) == {"1366x768", "1024x600"}
    for size, f in facts.items():
        assert f["window_fits"], f
        assert f["status_bar_visible"], f
        assert f["search_chars"] >= 20, f  # it was "Sear…" at 1024
        assert f["device_list_chars"] >= 22, f  # device names stay readable
        assert f["dialog_fits"], f
        assert f["clipped_notes"] == [], f
        assert f["reasons_cell"] == "Completed with errors", f  # not "…ompletedWithErrors"
        assert (tmp_path / f"window-{size}.png").stat().st_size > 10_000
        assert (tmp_path / f"preferences-{size}.png").stat().st_size > 5_000
    assert facts["1366x768"]["columns_in_view"] >= 6, facts
    assert facts["1024x600"]["columns_in_view"] >= 5, facts  # about 4 showed before
