"""The first painted frame of a window: app.py loads the journal, the engine, the network stack and
discovery after it (the window shows at once), and bench/bench_cold_start.py measures start-up to it.

A frame is painted when the window's first paint event has been handled and the backing store
flushed to the screen: the paint event marks it, and a zero timer started there fires after the
flush. With WSDMON_REPORT_FIRST_PAINT=1 in the environment the moment is also printed on stdout as
`first-paint <time.monotonic()>` (CLOCK_MONOTONIC on Linux: one clock for every process, so the
bench compares it with the time it started the process). The bench's bare-QMainWindow baseline
uses this same class. Imports only QtCore: it must cost the baseline nothing beyond it."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

__all__ = ["REPORT_ENV", "FirstPaint"]

REPORT_ENV = "WSDMON_REPORT_FIRST_PAINT"


class FirstPaint(QObject):
    """Watches `window` (a top-level QWidget) for its first paint; `painted` carries its
    time.monotonic(), once. `at` is None until then."""

    painted = Signal(float)

    def __init__(self, window: QObject) -> None:
        super().__init__(window)
        self.at: float | None = None
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and watched is self._window:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._done)  # after this paint's flush
        return False

    def _done(self) -> None:
        self.at = time.monotonic()
        if os.environ.get(REPORT_ENV) and sys.stdout is not None:  # None under pythonw
            sys.stdout.write(f"first-paint {self.at:.6f}\n")
            sys.stdout.flush()
        self.painted.emit(self.at)
