"""Issue item 8: the window at 1366×768 and 1024×600 on a real X server (Xvfb): it fits the screen
with its status bar, the search box stays readable, enough job columns are in view, the
Preferences dialog fits and none of its notes is clipped, and reasons show short labels. Issue 14:
the same for the window on a shared store (three sites in PostgreSQL), and for both windows made
1366×768 and then the screen's size again, where the device list was squeezed to "anne…"."""

from __future__ import annotations

import pytest

from tests.pg import pg_cluster, pg_dsn

from .make_layout_screenshots import make_layout_screenshots
from .shared_sample import SITES, fill_shared_store

__all__ = ["pg_cluster", "pg_dsn"]  # the fixtures


@pytest.mark.timeout(300)
def test_the_window_and_preferences_at_laptop_and_netbook_sizes(tmp_path, pg_dsn):
    fill_shared_store(pg_dsn, tmp_path)
    facts = {f["size"]: f for f in make_layout_screenshots(tmp_path, pg_dsn)}
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
        # Made 1366×768 and then the screen's size again: still readable, still on the screen.
        assert f["window_fits_resized"], f
        assert f["device_list_chars_resized"] >= 22, f
        assert (tmp_path / f"window-{size}-resized.png").stat().st_size > 10_000
        shared = f["shared"]
        assert shared["window_fits"], shared
        assert shared["window_fits_resized"], shared
        assert shared["status_bar_visible"], shared
        assert shared["search_chars"] >= 20, shared
        assert shared["device_list_chars"] >= 22, shared
        assert shared["device_list_chars_resized"] >= 22, shared  # was 11 at 1024 ("anne…")
        assert shared["sites"] == [f"{site} ({len(SITES[site])})" for site in sorted(SITES)], shared
        for picture in (f"shared-window-{size}.png", f"shared-window-{size}-resized.png"):
            assert (tmp_path / picture).stat().st_size > 10_000
    assert facts["1366x768"]["columns_in_view"] >= 6, facts
    assert facts["1024x600"]["columns_in_view"] >= 5, facts  # about 4 showed before
