"""Display helpers shared by the models: times (local, UTC, "server local"), durations, filter names.

JobCreatedTime / JobCompletedTime are xs:dateTime and a server SHOULD send its local time (§2.2.4.1),
so a value may carry an offset or not. With an offset it is shown in the viewer's local time and in
UTC; without one it is shown as sent and labelled "server local" (it cannot be converted).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QTime

from wsdmon.core import dialect_name

__all__ = [
    "dialect_name",
    "format_duration",
    "format_local",
    "format_utc",
    "is_server_local",
    "timestamp",
]

_CTX = "format"
_FMT = "%Y-%m-%d %H:%M:%S"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CTX, text)


def is_server_local(dt: datetime) -> bool:
    """An offset-less xs:dateTime: the server's local time, zone unknown."""
    return dt.tzinfo is None


@cache
def _locale_formats() -> tuple[QLocale, str, str]:
    """The viewer's locale, its short date format and its short time format with seconds (a monitor
    needs them: "17:29" would make two events of one minute look simultaneous)."""
    locale = QLocale()
    if locale.language() is QLocale.Language.C:  # no locale set (LANG=C): ISO 8601, unambiguous
        return locale, "yyyy-MM-dd", "HH:mm:ss"
    time_format = locale.timeFormat(QLocale.FormatType.ShortFormat)
    if "ss" not in time_format:
        time_format = time_format.replace("mm", "mm:ss", 1)
    return locale, locale.dateFormat(QLocale.FormatType.ShortFormat), time_format


def _compact(dt: datetime) -> str:
    """The locale's short date and time ("12/5/26 5:29:20 PM", "05.12.26 17:29:20"): a bare
    "12-05" is read as 12 May or 5 December depending on who reads it."""
    locale, date_format, time_format = _locale_formats()
    date = locale.toString(QDate(dt.year, dt.month, dt.day), date_format)
    time = locale.toString(QTime(dt.hour, dt.minute, dt.second), time_format)
    return f"{date} {time}"


def format_local(
    dt: datetime | None, *, with_date: bool = True, mark_server_local: bool = True, compact: bool = False
) -> str:
    """The viewer's local time; offset-less values as sent, marked "(server local)". `compact` uses
    the locale's short date and time (the table's time columns; the tooltip has the full ISO value)."""
    if dt is None:
        return ""
    if compact and with_date:
        return _compact(dt if is_server_local(dt) else dt.astimezone())
    fmt = _FMT if with_date else "%H:%M:%S"
    if is_server_local(dt):
        text = dt.strftime(fmt)
        if not mark_server_local:
            return text
        return _tr("{0} (server local)").format(text)
    return dt.astimezone().strftime(fmt)


def format_when(dt: datetime, now: datetime | None = None) -> str:
    """When something happened (a collector's last word), as format_local: the time of day if it
    was today where the viewer is (`now`: this moment), else with its date. Both dates are the
    viewer's local ones, as the time shown is: shortly after local midnight east of UTC, a time of
    yesterday shares today's UTC date."""
    today = (now or datetime.now(UTC)).astimezone().date()
    return format_local(dt, with_date=dt.astimezone().date() != today)


def format_utc(dt: datetime | None) -> str:
    """The UTC value ("2026-11-23 17:14:05 UTC"), or a note that it is unknown for server-local values."""
    if dt is None:
        return ""
    if is_server_local(dt):
        return _tr("UTC unknown: the server sent local time without an offset")
    return dt.astimezone(UTC).strftime(_FMT) + " UTC"


def format_sent(dt: datetime | None) -> str:
    """The value as the server sent it (ISO 8601 with its offset, if any)."""
    return "" if dt is None else dt.isoformat()


def timestamp(dt: datetime | None) -> float:
    """Sort key: seconds since the epoch (offset-less values read as local time); -inf if absent."""
    if dt is None:
        return -math.inf
    return dt.timestamp()


def format_duration(seconds: float | None) -> str:
    """ "0.8 s", "36 s", "2 min 05 s", "1 h 02 min"; "" when unknown."""
    if seconds is None:
        return ""
    if seconds < 0:
        return _tr("{0} s (clock skew)").format(round(seconds))
    if seconds < 10:
        return _tr("{0:.1f} s").format(seconds)
    total = round(seconds)
    if total < 60:
        return _tr("{0} s").format(total)
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return _tr("{0} min {1:02d} s").format(minutes, secs)
    hours, minutes = divmod(minutes, 60)
    return _tr("{0} h {1:02d} min").format(hours, minutes)
