"""What the job table paints in each cell of a row, and its cells' tooltips.

A repaint asks some thousand cells for seven roles each (Qt 6's QStyledItemDelegate), so the model
builds a row's cells once per record (records are immutable) as plain dicts of int role → value,
and answers from them without any enum arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QFont

from wsdmon.core import JobKind, JobRecord

from . import format as fmt
from .device_key import job_device_key
from .icons import icon
from .job_columns import (
    FAILED_OUTCOMES,
    HEADER_TIPS,
    HEADERS,
    OUTCOME_ICONS,
    Column,
    Outcome,
    outcome,
    scalar_sort_value,
    sort_value,
)
from .job_text import (
    filters_tooltip,
    kind_text,
    kind_tooltip,
    reasons_tooltip,
    state_tooltip,
    summary_text,
    unknown_text,
    unknown_tooltip,
)
from .meanings import is_vendor, reason_label, state_kind
from .roles import Role

__all__ = ["ITEM_FLAGS", "NCOLS", "PAINT_ROLES", "TOOLTIP", "Previous", "build_cells", "cell_tooltip"]

NCOLS = len(Column)
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
FONT = int(Qt.ItemDataRole.FontRole)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
PAINT_ROLES = frozenset({DISPLAY, DECORATION, FONT, ALIGNMENT, BACKGROUND, FOREGROUND})
ITEM_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

_STATE = int(Column.STATE)
_FAILED_COLS = frozenset({int(Column.STATE), int(Column.REASONS), int(Column.FILTERS)})
_RIGHT_COLS = frozenset({int(Column.IMAGES), int(Column.DURATION)})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


_CREATED, _COMPLETED = int(Column.CREATED), int(Column.COMPLETED)


def _inputs(rec: JobRecord, kind: Outcome) -> tuple[Any, ...]:
    """Per column, what its cell is made of besides the device names and the palette (a look is
    dropped when those change) and whether the job failed (the tint)."""
    s = rec.status
    times = (s.job_created_time, s.job_completed_time)
    return (
        rec.key,  # Device
        rec.key,  # Token
        (s.job_state, rec.unknown_since, rec.kind, kind),  # State: text and icon
        (s.job_state_reasons, rec.kind),  # Reasons
        s.images_received,  # Images
        s.job_created_time,  # Created
        s.job_completed_time,  # Completed
        times,  # Duration
        (s.filter_statuses, rec.kind),  # Filters
        rec.kind,  # Kind
        rec.key,  # Site
    )


# The look of a row built before: (its record, its outcome, its cells).
Previous = tuple[JobRecord, Outcome, tuple[dict[int, Any], ...]]


def build_cells(
    rec: JobRecord,
    device_name: Callable[[str], str],
    colors: tuple[QColor, QColor],
    italic_font: Callable[[], QFont],
    previous: Previous | None = None,
) -> tuple[dict[int, Any], ...]:
    """Per column, the value of every role a delegate paints with (absent = None). `colors` are the
    failed-row tint and text colour of the current palette. `previous` is the same job's look built
    with the same device names and palette: the cells whose inputs did not change are taken from it
    (an update of a job in progress changes one or two cells; the device name lookup and the times'
    locale formatting are most of a row's cost). The cell dicts are shared between looks: never
    change one after it is built."""
    s = rec.status
    kind = outcome(rec)
    failed = kind in FAILED_OUTCOMES
    kept: list[bool] = [False] * NCOLS
    if previous is not None:
        before, kind_before, cells_before = previous
        if (kind_before in FAILED_OUTCOMES) == failed:
            kept = [a == b for a, b in zip(_inputs(before, kind_before), _inputs(rec, kind), strict=True)]
    created, completed = s.job_created_time, s.job_completed_time
    texts: dict[int, Callable[[], Any]] = {
        Column.DEVICE: lambda: device_name(job_device_key(rec.key)),
        Column.TOKEN: lambda: s.job_token,
        Column.STATE: lambda: (
            str(s.job_state) if rec.unknown_since is None else unknown_text(rec.unknown_since)
        ),
        Column.REASONS: lambda: ", ".join(map(reason_label, s.job_state_reasons)),
        Column.IMAGES: lambda: s.images_received,
        Column.CREATED: lambda: fmt.format_local(created, compact=True),
        Column.COMPLETED: lambda: fmt.format_local(completed, compact=True),
        Column.DURATION: lambda: fmt.format_duration(rec.duration_s),
        Column.FILTERS: lambda: (
            summary_text(s.filter_statuses, short=True) if rec.kind is JobKind.POST_SCAN else ""
        ),
        Column.KIND: lambda: kind_text(rec.kind, short=True),
        Column.SITE: lambda: rec.key.site,
    }
    tint, red = colors
    cells = []
    for col in range(NCOLS):
        if kept[col]:
            cells.append(cells_before[col])
            continue
        cell: dict[int, Any] = {DISPLAY: texts[col]()}
        if col == _STATE:
            # An unknown job (core.jobs rule 7) wears the lost job's question mark.
            unknown = rec.unknown_since is not None and not failed
            cell[DECORATION] = icon(OUTCOME_ICONS[Outcome.LOST if unknown else kind])
        if failed:
            cell[BACKGROUND] = tint
            if col in _FAILED_COLS:
                cell[FOREGROUND] = red
        if col in _RIGHT_COLS:
            cell[ALIGNMENT] = _RIGHT
        if col in (_CREATED, _COMPLETED):
            dt = created if col == _CREATED else completed
            if dt is not None and fmt.is_server_local(dt):
                cell[FONT] = italic_font()  # sent without an offset: "server local"
        cells.append(cell)
    return tuple(cells)


def cell_tooltip(rec: JobRecord, col: int, device_name: Callable[[str], str]) -> str | None:
    """A cell's tooltip: meanings of states and reasons, times in local time, UTC and as sent."""
    s = rec.status
    if col == Column.DEVICE:
        return f"{device_name(job_device_key(rec.key))}\n{rec.key.device}"
    if col == Column.TOKEN:
        return s.job_token
    if col == Column.STATE:
        if rec.unknown_since is not None:
            return unknown_tooltip(rec.unknown_since, s.job_state, rec.kind)
        return state_tooltip(s.job_state, rec.kind)
    if col == Column.REASONS:
        return reasons_tooltip(s.job_state_reasons, rec.kind) or None
    if col == Column.KIND:
        return kind_tooltip(rec.kind)
    if col in (Column.CREATED, Column.COMPLETED):
        dt = s.job_created_time if col == Column.CREATED else s.job_completed_time
        if dt is None:
            return None
        return "\n".join((fmt.format_local(dt), fmt.format_utc(dt), fmt.format_sent(dt)))
    if col == Column.FILTERS:
        return filters_tooltip(s.filter_statuses) if rec.kind is JobKind.POST_SCAN else None
    return None


def header_data(section: int, orientation: Qt.Orientation, role: int) -> Any:
    """The job table's column headers and their tooltips (both job models' headerData)."""
    if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
        return None
    if role == Qt.ItemDataRole.DisplayRole:
        return QCoreApplication.translate("JobTableModel", HEADERS[Column(section)])
    if role == Qt.ItemDataRole.ToolTipRole and section in HEADER_TIPS:
        return QCoreApplication.translate("JobTableModel", HEADER_TIPS[Column(section)])
    return None


def record_role(rec: JobRecord, col: int, role: int, device_name: Callable[[str], str]) -> Any:
    """The custom roles (models.roles.Role) that depend on the record alone, for both job models;
    None for a role the model answers itself (the record with its timeline, cancel, filter text)."""
    if role == Role.JOB_KEY:
        return rec.key
    if role == Role.STATE:
        return str(rec.status.job_state)
    if role == Role.IS_FAILED:
        return outcome(rec) in FAILED_OUTCOMES
    if role == Role.IS_ACTIVE:
        return rec.is_active
    if role == Role.DEVICE:
        return rec.key.device
    if role == Role.SORT:
        return scalar_sort_value(sort_value(rec, col, device_name))
    if role == Role.IS_VENDOR:
        return col == Column.STATE and is_vendor(state_kind(rec.kind), rec.status.job_state)
    if role == Role.UTC_TEXT and col in (Column.CREATED, Column.COMPLETED):
        s = rec.status
        return fmt.format_utc(s.job_created_time if col == Column.CREATED else s.job_completed_time)
    return None
