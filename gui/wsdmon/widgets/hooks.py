"""WindowHooks: what the window asks of the rest of the application, passed in by app.py.

Every hook is optional (its action is disabled without it). A hook may return a plain value or an
awaitable (a coroutine on the qasync loop); widgets handle both and never import the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["WindowHooks"]


@dataclass(frozen=True)
class WindowHooks:
    # JobKey → the server's answer as text (or an awaitable of it); raising shows the error.
    cancel_job: Callable[[Any], object] | None = None
    # journal id → the raw XML of that message, or None when it is no longer kept.
    raw_xml_for: Callable[[int], str | None] | None = None
    # (path, "csv" | "json", JobRecords in the table's current order and filter) → the number of
    # jobs written (or an awaitable of it); raising shows the error.
    export: Callable[[str, str, Sequence[Any]], object] | None = None
    # (path, device endpoint or None for all devices, JobKeys: the jobs chosen, () = the device's
    # or all) → write the support bundle there (or an awaitable of it); the result has `devices`,
    # `jobs` and `messages` counts; raising shows the error.
    save_bundle: Callable[[str, str | None, Sequence[Any]], object] | None = None
    # device endpoint → its health report now (core DeviceHealth, or None when none is known), or an
    # awaitable of it: Diagnose… shows it (else the last report the bridge delivered).
    device_health: Callable[[str], object] | None = None
    # () → the network self-check's results (a list of core CheckResult, or an awaitable of it).
    run_selfcheck: Callable[[bool], object] | None = None  # arg: listen for multicast too
    # F5: probe for devices again.
    reprobe: Callable[[], object] | None = None
    # device endpoint → refresh its metadata / renew its subscription from scratch.
    refresh_device: Callable[[str], object] | None = None
    resubscribe_device: Callable[[str], object] | None = None
    # (device endpoint, SHA-256 hex) → pin that certificate for the device and read it again.
    trust_certificate: Callable[[str, str], object] | None = None
    # URL → open it (default: QDesktopServices.openUrl).
    open_url: Callable[[str], object] | None = None
    # A shared store's job: (site, message id) → that message's raw XML (or an awaitable of it).
    site_raw_xml_for: Callable[[str, int], object] | None = None
    # A shared store's message: (site, message id) → its line's number in the raw log (None: not
    # among the lines this window read).
    site_message_number: Callable[[str, int], int | None] | None = None
    # File ▸ Open shared history…: location → an awaitable that opens the shared view (raising
    # store.pg_view.SharedViewError with the reason when it cannot).
    open_shared: Callable[[str], object] | None = None
    # (title, question) → True to go ahead (default: a QMessageBox); tests answer it directly.
    confirm: Callable[[str, str], bool] | None = None
