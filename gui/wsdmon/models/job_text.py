"""Texts of the job table's cells: the filter summary, tooltips, and the proxy's filter string."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from PySide6.QtCore import QCoreApplication

from wsdmon.core import CancelOutcome, CancelResult, Change, ChangeField, JobKind, JobRecord, filter_summary
from wsdmon.protocol.dsm import FilterState, FilterStatus

from ._i18n import QT_TRANSLATE_NOOP
from .device_key import job_device_key
from .format import dialect_name, format_local
from .meanings import Kind, explain, reason_kind, reason_label, state_kind

__all__ = [
    "FLAG_ACTIVE",
    "FLAG_COMPLETED",
    "FLAG_FAILED",
    "FLAG_PINNED",
    "KIND_FLAGS",
    "SEP",
    "cancel_answer_text",
    "change_text",
    "filter_text",
    "filters_tooltip",
    "kind_text",
    "kind_tooltip",
    "reasons_tooltip",
    "state_tooltip",
    "summary_text",
    "unknown_text",
    "unknown_tooltip",
]

_CTX = "JobTableModel"
SEP = "\x1e"  # separates the parts of the FILTER_TEXT role: flags, device endpoint, searchable text
FLAG_ACTIVE, FLAG_COMPLETED, FLAG_FAILED = "A", "C", "F"
FLAG_PINNED = "!"  # the selected job: it stays in view when it stops matching the quick filter
# The kind flag comes last among the flags: a scan job's, or a post-scan job's.
KIND_FLAGS = {JobKind.SCAN: "S", JobKind.POST_SCAN: "P"}
_KIND_NAMES = {
    JobKind.SCAN: QT_TRANSLATE_NOOP(_CTX, "Scan job"),
    JobKind.POST_SCAN: QT_TRANSLATE_NOOP(_CTX, "Post-scan job"),
}
_KIND_SHORT = {  # the table's Kind column: the tooltip says the rest
    JobKind.SCAN: QT_TRANSLATE_NOOP(_CTX, "Scan"),
    JobKind.POST_SCAN: QT_TRANSLATE_NOOP(_CTX, "Post-scan"),
}
_KIND_TIPS = {
    JobKind.SCAN: QT_TRANSLATE_NOOP(
        _CTX, "A scan job of a WSD scanner (WS-Scan): pages scanned at the device"
    ),
    JobKind.POST_SCAN: QT_TRANSLATE_NOOP(
        _CTX, "A post-scan job of a scan server (Distributed Scan Management): documents sent on by filters"
    ),
}


def kind_text(kind: JobKind, *, short: bool = False) -> str:
    """ "Scan job" / "Post-scan job" ("Scan" / "Post-scan" when `short`, for the table)."""
    return _tr((_KIND_SHORT if short else _KIND_NAMES)[kind])


def kind_tooltip(kind: JobKind) -> str:
    return _tr(_KIND_TIPS[kind])


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CTX, text)


def _vendor(value: str, vendor: bool) -> str:
    return _tr("{0} (vendor)").format(value) if vendor else value


def summary_text(filters: Iterable[FilterStatus], *, short: bool = False) -> str:
    """ "3/3 filters done, 1 failed, 2 canceled" (short, for the table's Filters column: "3/3 done,
    1 failed, 2 canceled"): a canceled filter is done but did not deliver, so it is named."""
    filters = tuple(filters)
    done, total, failed = filter_summary(filters)
    canceled = sum(1 for f in filters if f.state == FilterState.CANCELED)
    text = (_tr("{0}/{1} done") if short else _tr("{0}/{1} filters done")).format(done, total)
    if failed:
        text += _tr(", {0} failed").format(failed)
    if canceled:
        text += _tr(", {0} canceled").format(canceled)
    return text


def state_tooltip(state: str, kind: JobKind = JobKind.POST_SCAN) -> str:
    m = explain(state_kind(kind), state)
    return f"{_vendor(m.value, m.vendor)}: {m.text}"


def change_text(change: Change, kind: JobKind = JobKind.POST_SCAN) -> str:
    """One timeline line: what an observation changed (core.changes), in words; element names and
    values stay as the protocol names them (a scan job's ScansCompleted where a post-scan job has
    ImagesReceived)."""
    f, old, new = change.field, change.old, change.new
    arrow = _tr("{0} → {1}")
    if f is ChangeField.JOB_STATE:
        return "JobState: " + ((new or "") if old is None else arrow.format(old, new))
    if f is ChangeField.IMAGES_RECEIVED:
        images = "ScansCompleted: " if kind is JobKind.SCAN else "ImagesReceived: "
        return images + ((new or "") if old is None else arrow.format(old, new))
    if f is ChangeField.JOB_STATE_REASONS:
        return "JobStateReasons: " + (", ".join(change.details) or _tr("(none)"))
    if f is ChangeField.FILTER:
        state = (new or "") if old is None else arrow.format(old, new)
        why = f" ({', '.join(change.details)})" if change.details else ""
        return _tr("Filter {0}: {1}").format(dialect_name(change.subject or ""), state) + why
    if f is ChangeField.JOB_COMPLETED_TIME:
        return "JobCompletedTime: " + (new or "")
    if f is ChangeField.CONDITION_RAISED:
        component, severity = (*change.details, "", "")[:2]
        return _tr("The scanner reports {0} ({1}, {2}), condition {3}").format(
            new or "", severity, component, change.subject or ""
        )
    if f is ChangeField.CONDITION_CLEARED:
        return _tr("The scanner cleared condition {0} {1}").format(change.subject or "", new or "").strip()
    if f is ChangeField.NO_CHANGE:
        return _tr("no change")
    if f is ChangeField.STALE:
        return _tr("stale: older than what is shown")
    if f is ChangeField.CANCEL_REQUESTED:
        when = _parse_time(old)
        asked = (
            _tr("Cancel requested from wsdmon at {0}").format(format_local(when))
            if when is not None
            else _tr("Cancel requested from wsdmon")
        )
        return _tr("{0}; {1}").format(asked, _answer(new or "", change.details))
    if f is ChangeField.LOST:
        return _tr(
            "Lost: the server reports it neither as active (GetActiveJobs) nor in its history (GetJobHistory)"
        )
    return new or ""  # TEXT: a line stored by an older wsdmon, as it was written


def _parse_time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _answer(result: str, details: tuple[str, ...]) -> str:
    """What the server answered a cancel request (CancelResult value and its details)."""
    if result == CancelResult.ACCEPTED.value:
        return _tr("the server accepted it and is canceling the job")
    if result == CancelResult.REFUSED.value:
        code, reason = (*details, "", "")[:2]
        return _tr("the server refused it: {0}").format(": ".join(x for x in (code, reason) if x) or "?")
    if result == CancelResult.FAILED.value:
        return _tr("no answer from the server ({0})").format(details[0] if details else "?")
    if result == CancelResult.UNEXPECTED.value:
        return _tr("the server sent an unexpected answer ({0})").format(details[0] if details else "?")
    return _tr("not sent: wsdmon knows no scan service of this device to send it to")


def cancel_answer_text(outcome: CancelOutcome | object) -> str:
    """A cancel's outcome (the engine's CancelOutcome) for the status bar and the detail pane."""
    if not isinstance(outcome, CancelOutcome):
        return str(outcome)
    refused = outcome.result is CancelResult.REFUSED
    details: tuple[str, ...] = (outcome.code, outcome.reason) if refused else ()
    if outcome.result is CancelResult.FAILED and outcome.error is not None:
        details = (str(outcome.error),)
    elif outcome.result is CancelResult.UNEXPECTED:
        details = (outcome.code,)
    return _answer(outcome.result.value, details)


def unknown_text(since: datetime) -> str:
    """The state cell of a job whose fate is unknown (core.jobs rule 7): "unknown since 05-12 17:03"."""
    return _tr("unknown since {0}").format(format_local(since, compact=True))


def unknown_tooltip(since: datetime, state: str, kind: JobKind = JobKind.POST_SCAN) -> str:
    """Why a job is unknown, and the last state its device sent."""
    return _tr(
        "Unknown since {0}: wsdmon has not heard from the device since then (wsdmon was not running, "
        "or the device went offline), so what became of this job is not known. It is settled when "
        "the device answers again.\nLast state sent: {1}"
    ).format(format_local(since), state_tooltip(state, kind))


def reasons_tooltip(reasons: Iterable[str], kind: JobKind = JobKind.POST_SCAN) -> str:
    lines = []
    for reason in reasons:
        m = explain(reason_kind(kind), reason)
        lines.append(f"{_vendor(m.value, m.vendor)}: {m.text}")
    return "\n".join(lines)


def filters_tooltip(filters: Iterable[FilterStatus]) -> str:
    lines = []
    for f in filters:
        state = explain(Kind.FILTER_STATE, f.state)
        line = f"{dialect_name(f.dialect)}: {_vendor(state.value, state.vendor)}"
        reasons = [explain(Kind.FILTER_STATE_REASON, r) for r in f.reasons]
        if reasons:
            line += " (" + ", ".join(_vendor(r.value, r.vendor) for r in reasons) + ")"
        lines.append(line)
    return "\n".join(lines)


def filter_text(rec: JobRecord, device_name: str, failed: bool, *, pinned: bool = False) -> str:
    """What search and quick filters match: SEP flags SEP device key (device_key.py) SEP searchable
    words. A job that is still running is active, never failed yet (a failed filter of a running
    job shows in its row): the Failed filter lists finished jobs only."""
    s = rec.status
    if rec.is_active:
        flags = FLAG_ACTIVE
    else:
        flags = FLAG_FAILED if failed else (FLAG_COMPLETED if rec.is_terminal else "")
    if pinned:
        flags += FLAG_PINNED
    flags += KIND_FLAGS[rec.kind]  # last of the flags (job_filter relies on it)
    words = [
        device_name,
        rec.key.device,
        rec.key.site,
        s.job_token,
        str(s.job_state),
        *map(str, s.job_state_reasons),
    ]
    words += map(reason_label, s.job_state_reasons)  # what the Reasons column shows
    for f in s.filter_statuses:
        words += [f.dialect, str(f.state), *map(str, f.reasons)]
    words += [summary_text(s.filter_statuses)]
    words += [x for x in (rec.job_name, rec.psp_display_name, rec.job_originating_user_name) if x]
    return SEP + flags + SEP + job_device_key(rec.key) + SEP + " ".join(words)
