"""EngineStatus: the few engine figures the status bar shows, set by the bridge."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

__all__ = ["EngineStatus"]


class EngineStatus(QObject):
    """Events per second, rejected and dropped message counts, whether discovery is running, and
    why multicast discovery is unavailable (empty when it works or was not asked for)."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.events_per_s = 0.0
        self.rejected = 0
        self.dropped = 0
        self.discovering = False
        self.discovery_error = ""
        self.notify_url = ""

    def update(
        self,
        *,
        events_per_s: float | None = None,
        rejected: int | None = None,
        dropped: int | None = None,
        discovering: bool | None = None,
        discovery_error: str | None = None,
        notify_url: str | None = None,
    ) -> None:
        """Set any of the figures; emits `changed` once when something changed."""
        new = {
            "events_per_s": events_per_s,
            "rejected": rejected,
            "dropped": dropped,
            "discovering": discovering,
            "discovery_error": discovery_error,
            "notify_url": notify_url,
        }
        dirty = False
        for name, value in new.items():
            if value is not None and getattr(self, name) != value:
                setattr(self, name, value)
                dirty = True
        if dirty:
            self.changed.emit()
