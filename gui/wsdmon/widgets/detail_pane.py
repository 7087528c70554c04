"""The selected job in full: one section per JobStatus sub-element, with meanings; then the timeline
and the raw XML of the selected timeline event; and "Cancel job" for active jobs on scan servers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsdmon.core import JobKind
from wsdmon.models import (
    FilterStatusModel,
    JobDetail,
    Meaning,
    Role,
    TimelineModel,
    TimeText,
    cancel_answer_text,
    job_detail,
    job_device_key,
    role_data,
)
from wsdmon.models import pretty_xml as _pretty_xml
from wsdmon.models._i18n import QT_TRANSLATE_NOOP

from ._async import run_hook_result
from .icons import icon

__all__ = ["SCAN_SECTIONS", "SECTIONS", "DetailPane"]

log = logging.getLogger(__name__)

# The seven JobStatus sub-elements (§2.2.4.21), in schema order, then the derived duration.
SECTIONS = (
    "JobToken",
    "JobState",
    "JobStateReasons",
    "FilterStatuses",
    "ImagesReceived",
    "JobCreatedTime",
    "JobCompletedTime",
    "Duration",
)
_CTX = "DetailPane"
_SECTION_TITLES = {
    "JobToken": QT_TRANSLATE_NOOP(_CTX, "JobToken"),
    "JobState": QT_TRANSLATE_NOOP(_CTX, "JobState"),
    "JobStateReasons": QT_TRANSLATE_NOOP(_CTX, "JobStateReasons"),
    "FilterStatuses": QT_TRANSLATE_NOOP(_CTX, "FilterStatuses"),
    "ImagesReceived": QT_TRANSLATE_NOOP(_CTX, "ImagesReceived"),
    "JobCreatedTime": QT_TRANSLATE_NOOP(_CTX, "JobCreatedTime"),
    "JobCompletedTime": QT_TRANSLATE_NOOP(_CTX, "JobCompletedTime"),
    "Duration": QT_TRANSLATE_NOOP(_CTX, "Duration"),
    # a scan job's (WS-Scan) names for the same fields, and its description
    "JobId": QT_TRANSLATE_NOOP(_CTX, "JobId"),
    "ScansCompleted": QT_TRANSLATE_NOOP(_CTX, "ScansCompleted"),
    "JobName": QT_TRANSLATE_NOOP(_CTX, "JobName"),
    "JobOriginatingUserName": QT_TRANSLATE_NOOP(_CTX, "JobOriginatingUserName"),
}
# A scan job's sections: WS-Scan's JobStatus elements (no FilterStatuses) and its JobEndState names.
SCAN_SECTIONS = (
    "JobId",
    "JobState",
    "JobStateReasons",
    "ScansCompleted",
    "JobCreatedTime",
    "JobCompletedTime",
    "Duration",
    "JobName",
    "JobOriginatingUserName",
)
# Shared fields shown under a scan job's names.
_SCAN_NAMES = {"JobToken": "JobId", "ImagesReceived": "ScansCompleted"}
_SHARED_NAMES = {v: k for k, v in _SCAN_NAMES.items()}


def _label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    # Selectable by keyboard too: Tab reaches each value, so it can be read out and copied.
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return label


class DetailPane(QWidget):
    """Shows one JobRecord (set by `show_record`); reads it only through wsdmon.models.
    `cancel_answered` carries a one-line outcome of "Cancel job…" for the status bar."""

    cancel_answered = Signal(str)

    def __init__(
        self,
        device_name: Callable[[str], str] | None = None,
        raw_xml_for: Callable[[int], str | None] | None = None,
        cancel_job: Callable[[Any], object] | None = None,
        confirm: Callable[[str, str], bool] | None = None,
        parent: QWidget | None = None,
        *,
        site_raw_xml_for: Callable[[str, int], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._device_name = device_name or (lambda endpoint: endpoint)
        self._raw_xml_for = raw_xml_for
        # A shared store's job: (site, message id) → its raw XML, read from the store (awaitable).
        self._site_raw_xml_for = site_raw_xml_for
        self._raw_wanted: tuple[str, int] | None = None
        self._cancel_job = cancel_job
        self._confirm = confirm or self._ask
        self._record: Any = None
        self._detail: JobDetail | None = None
        self._can_cancel = False
        self._cancel_target = ("", "")
        self._fit_timer = QTimer(self)  # owned: it dies with the pane, unlike QTimer.singleShot
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_tables)

        self.title = QLabel(self)
        self.title.setObjectName("title")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.title_icon = QLabel(self)

        body = QWidget(self)
        form = QFormLayout(body)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)  # values get the full width
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.values: dict[str, QLabel] = {}
        self._titles: dict[str, QLabel] = {}  # section labels renamed for scan jobs
        self._form = form

        self.token = QLineEdit(body)
        self.token.setObjectName("JobToken")
        self.token.setReadOnly(True)
        self.token.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        copy = QToolButton(body)
        copy.setText(self.tr("Copy"))
        copy.setToolTip(self.tr("Copy the JobToken to the clipboard"))
        copy.clicked.connect(self._on_copy_token_clicked)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(copy)
        self._titles["JobToken"] = self._name("JobToken")
        form.addRow(self._titles["JobToken"], token_row)

        self.filters = FilterStatusModel(self)
        self.filter_view = QTableView(body)
        self.filter_view.setObjectName("FilterStatuses")
        self.filter_view.setModel(self.filters)
        self.filter_view.verticalHeader().setVisible(False)
        self.filter_view.setWordWrap(True)
        self.filter_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.filter_view.setTabKeyNavigation(False)
        self.filter_view.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.filter_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        fh = self.filter_view.horizontalHeader()
        fh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        fh.setStretchLastSection(True)
        self.filter_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        for name in ("JobState", "JobStateReasons"):
            self.values[name] = _label(body, name)
            form.addRow(self._name(name), self.values[name])
        form.addRow(self._name("FilterStatuses"), self.filter_view)
        self.filter_summary = _label(body, "FilterSummary")
        form.addRow(self.filter_summary)
        # Short values: label beside value, so the seven sub-elements fit a 768 px high screen.
        facts = QFormLayout()
        facts.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        facts.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        facts.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        for name in (*SECTIONS[4:], "JobName", "JobOriginatingUserName"):
            self.values[name] = _label(body, name)
            self._titles[name] = self._name(name)
            facts.addRow(self._titles[name], self.values[name])
        self._facts = facts
        self.description = _label(body, "JobDescription")
        facts.addRow(self._label(self.tr("Job")), self.description)
        form.addRow(facts)

        self.cancel_button = QPushButton(icon("job-canceled"), self.tr("Cancel job…"), self)
        self.cancel_button.setObjectName("cancel-job")
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.cancel_answer = _label(self, "cancel-answer")

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        self.scroll_area = scroll

        self.timeline = TimelineModel(self)
        self.timeline_view = QTableView(self)
        self.timeline_view.setObjectName("timeline")
        self.timeline_view.setModel(self.timeline)
        self.timeline_view.verticalHeader().setVisible(False)
        self.timeline_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.timeline_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.timeline_view.setTabKeyNavigation(False)
        th = self.timeline_view.horizontalHeader()
        th.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        th.setStretchLastSection(True)
        self.timeline_view.setWordWrap(True)
        self.timeline_view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.timeline_view.selectionModel().currentRowChanged.connect(self._on_timeline_row_changed)

        self.raw_xml = QPlainTextEdit(self)
        self.raw_xml.setObjectName("raw-xml")
        self.raw_xml.setReadOnly(True)
        self.raw_xml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.raw_xml.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.raw_xml.setPlaceholderText(self.tr("Select an event in the timeline to see its raw XML."))
        copy_xml = QToolButton(self)
        copy_xml.setText(self.tr("Copy XML"))
        copy_xml.clicked.connect(self._on_copy_xml_clicked)

        timeline_page = QWidget(self)
        upper = QWidget(timeline_page)
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        self.timeline_intro = QLabel(upper)
        self.timeline_intro.setWordWrap(True)
        upper_layout.addWidget(self.timeline_intro)
        upper_layout.addWidget(self.timeline_view, 1)
        lower = QWidget(timeline_page)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        xml_bar = QHBoxLayout()
        xml_bar.addWidget(QLabel(self.tr("Raw XML of the selected event"), lower), 1)
        xml_bar.addWidget(copy_xml)
        lower_layout.addLayout(xml_bar)
        lower_layout.addWidget(self.raw_xml, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, timeline_page)
        self.splitter.setObjectName("detail-splitter")
        self.splitter.addWidget(upper)
        self.splitter.addWidget(lower)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([300, 400])
        page_layout = QVBoxLayout(timeline_page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        page_layout.addWidget(self.splitter)

        # Two tabs, each the pane's full height: at 1366x768 the seven sub-elements fit without
        # scrolling, and so do the timeline and a readable amount of XML.
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("detail-tabs")
        self.tabs.addTab(scroll, self.tr("Job status"))
        self.tabs.addTab(timeline_page, self.tr("Timeline && raw XML"))

        head = QHBoxLayout()
        head.addWidget(self.title_icon)
        head.addWidget(self.title, 1)
        head.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(head)
        layout.addWidget(self.cancel_answer)
        layout.addWidget(self.tabs, 1)
        self.cancel_answer.hide()
        self.show_record(None)

    # --- public ----------------------------------------------------------------------------------

    def show_record(self, record: Any, *, can_cancel: bool | None = None) -> None:
        """Show a JobRecord (or nothing); `can_cancel` comes from the table's CAN_CANCEL role."""
        if record is self._record and record is not None and can_cancel in (None, self._can_cancel):
            return  # nothing new (the table re-announces its current job after layout changes)
        same_job = record is not None and self._record is not None and record.key == self._record.key
        if not same_job:
            self._set_answer("")
        self._record = record
        if can_cancel is not None:
            self._can_cancel = can_cancel
        if record is None:
            self._detail = None
            self._can_cancel = False
            self._show_empty()
            return
        detail = job_detail(record, self._device_name(job_device_key(record.key)))
        self._detail = detail
        self._render(detail)
        self.timeline.set_timeline(record.timeline, record.timeline_dropped, record.kind)
        self._set_timeline_intro(record.timeline_dropped, len(record.timeline) - 1)
        if not same_job or not self.timeline_view.currentIndex().isValid():
            self.timeline_view.selectRow(self.timeline.rowCount() - 1)

    def show_index(self, index: QModelIndex) -> None:
        """Show the job at a (proxy or source) job-table index."""
        if not index.isValid():
            self.show_record(None)
            return
        can_cancel = bool(role_data(index, Role.CAN_CANCEL))
        self.show_record(role_data(index, Role.JOB_RECORD), can_cancel=can_cancel)

    def detail(self) -> JobDetail | None:
        return self._detail

    def section_title(self, name: str) -> str:
        """The title a section shows now (a scan job's names: JobId, ScansCompleted…)."""
        label = self._titles.get(_SHARED_NAMES.get(name, name))
        return label.text() if label is not None else ""

    def section_visible(self, name: str) -> bool:
        """Whether a section is shown for the current job (FilterStatuses: post-scan jobs only)."""
        if name == "FilterStatuses":
            return not self.filter_view.isHidden()
        name = _SHARED_NAMES.get(name, name)
        return name == "JobToken" or not self.values[name].isHidden()

    def section_text(self, name: str) -> str:
        """The text a section shows (for tests and accessibility checks)."""
        name = _SHARED_NAMES.get(name, name)
        if name == "JobToken":
            return self.token.text()
        if name == "FilterStatuses":
            rows = []
            for r in range(self.filters.rowCount()):
                cells = (str(role_data(self.filters.index(r, c))).replace("\u200b", "") for c in range(3))
                rows.append(" | ".join(cells))
            return "\n".join([*rows, self.filter_summary.text()])
        return self.values[name].text()

    # --- rendering -------------------------------------------------------------------------------

    def _name(self, element: str) -> QLabel:
        """The label of a section: the element's name (translators usually keep it as it is)."""
        return self._label(QCoreApplication.translate(_CTX, _SECTION_TITLES[element]))

    def _label(self, text: str) -> QLabel:
        label = QLabel(text, self)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        return label

    def _show_empty(self) -> None:
        self.title.setText(self.tr("No job selected"))
        self.title_icon.clear()
        self.token.clear()
        for label in self.values.values():
            label.clear()
        self.filters.set_filters(())
        self.filter_summary.clear()
        self.description.clear()
        self.timeline.set_timeline(())
        self._set_timeline_intro(0, 0)
        self.raw_xml.clear()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip(self.tr("Select an active job of a scan server"))

    def _set_timeline_intro(self, dropped: int, latest: int) -> None:
        if dropped:
            text = self.tr(
                "The first event of this job and its latest {0}: {1} events in between are left out "
                "here (the raw message log has them)"
            ).format(latest, dropped)
        else:
            text = self.tr("Every event of this job: when it arrived, what it changed")
        self.timeline_intro.setText(text)

    def _meaning(self, m: Meaning) -> str:
        value = self.tr("{0} (vendor extension)").format(m.value) if m.vendor else m.value
        return f"{value} — {m.text}"

    def _time(self, label: QLabel, t: TimeText | None, missing: str) -> None:
        label.setToolTip(self.tr("Sent as {0}").format(t.sent) if t is not None else "")
        if t is None:
            label.setText(missing)
        elif t.server_local:
            label.setText(self.tr("{0} server local\n(sent without a UTC offset)").format(t.sent))
        else:
            label.setText(self.tr("{0} local\n{1}").format(t.local, t.utc))

    def _set_kind(self, d: JobDetail) -> None:
        """A scan job's sections: WS-Scan's names, no filters, its JobName and user."""
        scan = d.kind is JobKind.SCAN
        for name in ("JobToken", "ImagesReceived"):
            shown = _SCAN_NAMES[name] if scan else name
            self._titles[name].setText(QCoreApplication.translate(_CTX, _SECTION_TITLES[shown]))
        self._form.setRowVisible(self.filter_view, not scan)
        self._form.setRowVisible(self.filter_summary, not scan)
        for name in ("JobName", "JobOriginatingUserName"):
            self._facts.setRowVisible(self.values[name], scan)
        self._facts.setRowVisible(self.description, not scan)
        self.token.setToolTip(d.element_meaning("JobId"))

    def _render(self, d: JobDetail) -> None:
        self._set_kind(d)
        if d.kind is JobKind.SCAN:
            self.title.setText(self.tr("Scan job on {0}").format(d.device_name))
        else:
            self.title.setText(self.tr("Job on {0}").format(d.device_name))
        self.title.setToolTip(d.key.device)
        self.title_icon.setPixmap(icon(d.outcome_icon).pixmap(22, 22))
        self.token.setText(d.token)
        self.token.setCursorPosition(0)
        state = self._meaning(d.state)
        if d.lost:
            state += "\n" + self.tr(
                "Lost: the server no longer reports this job, neither as active nor in its history "
                "(it may have restarted); this is the last state it sent"
            )
        self.values["JobState"].setText(state)
        reasons = "\n".join(self._meaning(m) for m in d.reasons)
        self.values["JobStateReasons"].setText(reasons or self.tr("(none sent)"))
        self.filters.set_filters(d.filters)
        self._fit_tables()
        # Explain what needs attention: every reason, and a state's meaning where no reason says more.
        lines = [d.filter_summary]
        for f in d.filters:
            if f.reasons:
                lines += [f"• {f.name}: " + self._meaning(r) for r in f.reasons]
            elif f.state.value != "CompletedSuccessfully":
                lines.append(f"• {f.name}: " + self._meaning(f.state))
        self.filter_summary.setText("\n".join(lines))
        images = str(d.images_received)
        meaning = d.element_meaning("ScansCompleted")
        self.values["ImagesReceived"].setText(f"{images} — {meaning}" if meaning else images)
        for name, value in (("JobName", d.job_name), ("JobOriginatingUserName", d.user_name)):
            meaning = d.element_meaning(name)  # "" for a post-scan job: the row is hidden then
            text = value or self.tr("(not sent yet: it comes with the job's end state)")
            self.values[name].setText(f"{text} — {meaning}" if meaning else "")
        self._time(self.values["JobCreatedTime"], d.created, self.tr("(not sent)"))
        running = self.tr("(not yet: the job is running)") if d.active else self.tr("(not sent)")
        self._time(self.values["JobCompletedTime"], d.completed, running)
        self.values["Duration"].setText(d.duration or self.tr("(needs both times)"))
        parts = [x for x in (d.psp_display_name, d.user_name) if x]
        self.description.setText("\n".join(parts) or self.tr("(no description)"))
        self.description.setToolTip(
            self.tr("PSP_DisplayName and JobOriginatingUserName\nfirst seen {0}, last update {1}").format(
                d.first_seen, d.last_update
            )
        )
        enabled = self._can_cancel and d.active and self._cancel_job is not None
        self.cancel_button.setEnabled(enabled)
        if enabled:
            tip = self.tr("Ask the scan server to cancel this job (CancelPostScanJob)")
        elif self._cancel_job is None and d.key.site:  # a shared store's view: no engine here
            tip = self.tr(
                "This job is watched by the collector of site {0}; cancel it there "
                "(this window only reads the shared history)"
            ).format(d.key.site)
        else:
            tip = self.tr("Only active jobs on scan servers can be canceled")
        self.cancel_button.setToolTip(tip)

    def _fit_tables(self) -> None:
        """Rows follow their wrapped text; the filter table is as tall as its rows (no inner scroll)."""
        view = self.filter_view
        height = view.horizontalHeader().height() + 2 * view.frameWidth()
        view.setFixedHeight(height + view.verticalHeader().length())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_timer.start()  # after the layouts have given the tables their widths

    # --- slots -----------------------------------------------------------------------------------

    def _on_copy_token_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.token.text())

    def _on_copy_xml_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.raw_xml.toPlainText())

    def _on_timeline_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            self.raw_xml.clear()
            return
        journal_id = role_data(current, Role.JOURNAL_ID)
        site = getattr(getattr(self._record, "key", None), "site", "")
        if journal_id is not None and site and self._site_raw_xml_for is not None:
            self._raw_wanted = wanted = (site, journal_id)
            self.raw_xml.setPlainText("")
            self.raw_xml.setPlaceholderText(self.tr("Reading the message from the shared store…"))
            self._run_raw(wanted)
            return
        text = None
        if journal_id is not None and self._raw_xml_for is not None:
            text = self._raw_xml_for(journal_id)
        self._show_raw(text)

    def _run_raw(self, wanted: tuple[str, int]) -> None:
        assert self._site_raw_xml_for is not None
        try:
            result = self._site_raw_xml_for(*wanted)
        except Exception as exc:  # what the user is told, in the XML box
            self._raw_failed(wanted, exc)
            return
        run_hook_result(
            result,
            lambda text: self._show_raw(text) if self._raw_wanted == wanted else None,
            lambda exc: self._raw_failed(wanted, exc),
        )

    def _raw_failed(self, wanted: tuple[str, int], exc: BaseException) -> None:
        log.warning("reading message %s of site %s failed: %s", wanted[1], wanted[0], exc)
        if self._raw_wanted == wanted:
            self.raw_xml.setPlainText("")
            self.raw_xml.setPlaceholderText(
                self.tr("The raw message could not be read from the shared store: {0}").format(
                    str(exc) or type(exc).__name__
                )
            )

    def _show_raw(self, text: object) -> None:
        if not isinstance(text, str):
            self.raw_xml.setPlainText("")
            self.raw_xml.setPlaceholderText(self.tr("The raw message is not available (not journaled)."))
            return
        self.raw_xml.setPlainText(_pretty_xml(text))

    def _ask(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_cancel_clicked(self) -> None:
        d = self._detail
        if d is None or self._cancel_job is None:
            return
        question = self.tr(
            "Ask {0} to cancel job {1}?\n\nRunning filters stop and unstarted ones are skipped; "
            "documents already delivered stay where they are."
        ).format(d.device_name, d.token)
        if not self._confirm(self.tr("Cancel job"), question):
            return
        key = d.key
        self._cancel_target = (d.device_name, d.token)
        self.cancel_button.setEnabled(False)
        self._set_answer(self.tr("Sending the cancel request…"))
        self.cancel_answered.emit(self.tr("Asking {0} to cancel job {1}…").format(d.device_name, d.token))
        try:
            result = self._cancel_job(key)
        except Exception as exc:  # any failure is the answer to show
            self._on_cancel_failed(key, exc)
            return
        run_hook_result(
            result,
            lambda answer: self._on_cancel_done(key, answer),
            lambda exc: self._on_cancel_failed(key, exc),
        )

    def _set_answer(self, text: str) -> None:
        self.cancel_answer.setText(text)
        self.cancel_answer.setVisible(bool(text))

    def _on_cancel_done(self, key: Any, answer: object) -> None:
        text = cancel_answer_text(answer) if answer is not None else self.tr("the request was sent")
        device, token = self._cancel_target
        self.cancel_answered.emit(self.tr("Cancel of job {0} on {1}: {2}").format(token, device, text))
        if self._detail is None or self._detail.key != key:
            return  # another job is shown now: the status bar has the answer
        self._set_answer(self.tr("Cancel requested: {0}").format(text))

    def _on_cancel_failed(self, key: Any, exc: BaseException) -> None:
        log.warning("cancel of %s failed: %r", key, exc)
        device, token = self._cancel_target
        text = self.tr("Cancel of job {0} on {1} failed: {2}").format(
            token, device, str(exc) or type(exc).__name__
        )
        self.cancel_answered.emit(text)
        if self._detail is None or self._detail.key != key:
            return
        self._set_answer(text)
        self.cancel_button.setEnabled(self._can_cancel and self._detail.active)
