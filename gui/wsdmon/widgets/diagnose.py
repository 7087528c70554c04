"""The Diagnose report of one device and the network self-check, as non-modal dialogs: one line per
check with its verdict icon, the check's name, a plain sentence, the evidence (a message's journal id
links to the raw log) and what to do next. Copy report puts the same as plain text on the clipboard.

The words come from models/ (health_text, selfcheck_text); the values from the hooks app.py gives
(core.health / core.selfcheck): no engine here."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from wsdmon.core.health import DeviceHealth
from wsdmon.core.selfcheck import CheckResult, Verdict
from wsdmon.models import (
    VERDICT_ICONS,
    check_name,
    health_advice,
    health_evidence,
    health_report_text,
    health_sentence,
    selfcheck_advice,
    selfcheck_evidence,
    selfcheck_name,
    selfcheck_report_text,
    selfcheck_sentence,
    verdict_text,
)
from wsdmon.models import format as fmt
from wsdmon.models.icons import icon

__all__ = ["DiagnoseDialog", "ReportDialog", "ReportLine", "SelfCheckDialog"]

JOURNAL_SCHEME = "journal"  # evidence links: journal:<id> selects that message in the raw log
REPORT_MIN_WIDTH_PX = 720  # fits a 1024×600 screen
REPORT_MIN_HEIGHT_PX = 380
REPORT_WIDTH_PX = 1040  # the first size: every check of a device in view at 1366×768
REPORT_HEIGHT_PX = 660


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One check as the dialog shows it (already worded)."""

    verdict: Verdict
    check: str
    sentence: str
    evidence: Sequence[str] = ()
    messages: Sequence[int] = ()  # journal ids: links to the raw log
    advice: str = ""


class ReportDialog(QDialog):
    """The shared frame: a heading, the report (a read-only browser: Tab walks its links, then the
    buttons), Copy report and Close; Esc closes. Subclasses add their buttons and fill the lines."""

    message_requested = Signal(int)  # journal id: show that message in the raw log

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.setMinimumSize(REPORT_MIN_WIDTH_PX, REPORT_MIN_HEIGHT_PX)
        screen = parent.screen() if parent is not None else QGuiApplication.primaryScreen()
        free = screen.availableGeometry().size()
        self.resize(
            max(REPORT_MIN_WIDTH_PX, min(REPORT_WIDTH_PX, free.width() * 9 // 10)),
            max(REPORT_MIN_HEIGHT_PX, min(REPORT_HEIGHT_PX, free.height() * 9 // 10)),
        )
        self.heading = QLabel(self)
        self.heading.setObjectName("report-heading")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)  # every caller escapes what it puts in
        self.report = QTextBrowser(self)
        self.report.setObjectName("report")
        self.report.setOpenLinks(False)
        self.report.anchorClicked.connect(self._on_anchor_clicked)
        for verdict, name in VERDICT_ICONS.items():
            self.report.document().addResource(
                QTextDocument.ResourceType.ImageResource,
                QUrl(f"icon:{verdict.value}"),
                icon(name).pixmap(16, 16).toImage(),
            )
        self.buttons = QDialogButtonBox(self)
        self.copy_button = QPushButton(self.tr("&Copy report"), self)
        self.copy_button.setObjectName("copy-report")
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_report)
        self.buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("close")
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.report, 1)
        layout.addWidget(self.buttons)
        self._text = ""

    def set_lines(self, heading: str, lines: Sequence[ReportLine], plain_text: str, empty: str = "") -> None:
        """Show `lines` (or `empty` when there are none); `plain_text` is what Copy report copies."""
        self.heading.setText(heading)
        self._text = plain_text
        self.copy_button.setEnabled(bool(lines))
        if not lines:
            self.report.setHtml(f"<p>{html.escape(empty)}</p>")
            return
        head = "".join(
            f"<th align='left'>{html.escape(h)}</th>"
            for h in (self.tr("Check"), self.tr("What was seen"), self.tr("What to do next"))
        )
        rows = "".join(self._row(line) for line in lines)
        self.report.setHtml(
            "<table width='100%' cellspacing='0' cellpadding='5' border='0'>"
            f"<tr><th></th>{head}</tr>{rows}</table>"
        )

    def _row(self, line: ReportLine) -> str:
        evidence = [html.escape(e) for e in line.evidence]
        if line.messages:
            links = ", ".join(f"<a href='{JOURNAL_SCHEME}:{i}'>#{i}</a>" for i in line.messages)
            evidence.append(self.tr("Messages: {0}").format(links))
        seen = f"{html.escape(line.sentence)}"
        if evidence:
            seen += "<br><small>" + "<br>".join(evidence) + "</small>"
        return (
            "<tr>"
            f"<td valign='top' width='20'><img src='icon:{line.verdict.value}' width='16' height='16'></td>"
            f"<td valign='top' width='18%'><b>{html.escape(line.check)}</b><br>"
            f"<small>{html.escape(verdict_text(line.verdict))}</small></td>"
            f"<td valign='top' width='46%'>{seen}</td>"
            f"<td valign='top'>{html.escape(line.advice) or '—'}</td>"
            "</tr>"
        )

    def report_text(self) -> str:
        return self._text

    def copy_report(self) -> None:
        """The report as plain text on the clipboard."""
        QGuiApplication.clipboard().setText(self._text)

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == JOURNAL_SCHEME and url.path().isdigit():
            self.message_requested.emit(int(url.path()))


class DiagnoseDialog(ReportDialog):
    """Diagnose… of one device: its health report, with Save support bundle… for that device. A
    device of a shared store (`site`) shows the report its site's collector last judged and stored;
    its bundle is made on that collector's PC."""

    bundle_requested = Signal(str)  # endpoint

    def __init__(self, endpoint: str, name: str, parent: QWidget | None = None, *, site: str = "") -> None:
        super().__init__(self.tr("Diagnose {0}").format(name), parent)
        self.setObjectName("diagnose-dialog")
        self.endpoint = endpoint
        self.name = name
        self.site = site
        self.bundle_button = QPushButton(self.tr("&Save support bundle…"), self)
        self.bundle_button.setObjectName("save-bundle")
        self.bundle_button.setAutoDefault(False)
        self.bundle_button.clicked.connect(lambda: self.bundle_requested.emit(self.endpoint))
        self.buttons.addButton(self.bundle_button, QDialogButtonBox.ButtonRole.ActionRole)
        if site:
            self.bundle_button.setEnabled(False)
            self.bundle_button.setToolTip(
                self.tr(
                    "The collector of site {0} keeps this device's messages: make the support bundle "
                    "on that collector's PC (wsdmon bundle)"
                ).format(site)
            )
        self.health: DeviceHealth | None = None
        self.set_health(None)

    def _who(self) -> str:
        """The heading's device: its name and endpoint (and its site, for a shared store's)."""
        if self.site:
            return self.tr("<b>{0}</b> ({1}) at site {2}").format(
                html.escape(self.name), html.escape(self.endpoint), html.escape(self.site)
            )
        return self.tr("<b>{0}</b> ({1})").format(html.escape(self.name), html.escape(self.endpoint))

    def set_health(self, health: DeviceHealth | None) -> None:
        """Show a report (None: none is known yet)."""
        self.health = health
        if health is None:
            empty = self.tr("No health report for this device yet: wsdmon checks it as its messages arrive.")
            if self.site:
                empty = self.tr(
                    "No health report from the collector of site {0} yet: it stores one once it has "
                    "judged the device (the collector of an older wsdmon stores none)."
                ).format(self.site)
            self.set_lines(self._who(), [], "", empty)
            return
        lines = [
            ReportLine(
                r.verdict,
                check_name(r.check),
                health_sentence(r),
                health_evidence(r),
                r.evidence.messages,
                health_advice(r),
            )
            for r in health.results
        ]
        verdict, at = html.escape(verdict_text(health.verdict)), html.escape(fmt.format_local(health.at))
        if self.site:  # the collector stores a report when a verdict or finding changes
            heading = self.tr(
                "{0}: {1}, as its site's collector has judged it since {2}<br><small>“This computer” "
                "in the report is that collector's PC.</small>"
            ).format(self._who(), verdict, at)
        else:
            heading = self.tr("{0}: {1}, checked {2}").format(self._who(), verdict, at)
        self.set_lines(heading, lines, health_report_text(health, self.name))


class SelfCheckDialog(ReportDialog):
    """Tools ▸ Network self-check…: the results, with Run again."""

    run_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Network self-check"), parent)
        self.setObjectName("selfcheck-dialog")
        self.again_button = QPushButton(self.tr("&Run again"), self)
        self.again_button.setObjectName("run-again")
        self.again_button.setAutoDefault(False)
        self.again_button.clicked.connect(self.run_requested.emit)
        self.buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.results: list[CheckResult] = []
        self.set_running()

    def set_running(self) -> None:
        self.again_button.setEnabled(False)
        self.set_lines(
            html.escape(self.tr("Checking this computer's network…")), [], "", self.tr("Checking…")
        )

    def set_failed(self, reason: str) -> None:
        self.again_button.setEnabled(True)
        self.set_lines(self.tr("The self-check could not run: {0}").format(html.escape(reason)), [], "", "")

    def set_results(self, results: Sequence[CheckResult]) -> None:
        self.results = list(results)
        self.again_button.setEnabled(True)
        lines = [
            ReportLine(
                r.verdict,
                selfcheck_name(r),
                selfcheck_sentence(r),
                selfcheck_evidence(r),
                (),
                selfcheck_advice(r),
            )
            for r in results
        ]
        worst = [r for r in results if r.verdict in (Verdict.PROBLEM, Verdict.WARNING)]
        heading = (
            self.tr("The network self-check found something to look at ({0} of {1} checks).").format(
                len(worst), len(results)
            )
            if worst
            else self.tr("Every check of this computer's network passed.")
        )
        self.set_lines(html.escape(heading), lines, selfcheck_report_text(self.results))
