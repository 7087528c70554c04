"""Every string a person reads goes through tr() (STYLE.md): a source scan for literals handed to
Qt text setters without tr(), and a run of the whole window under a translator that marks every
translated string, in which every text a person reads must carry the mark."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QTabWidget,
    QWidget,
)

from wsdmon.widgets import PreferencesDialog
from wsdmon.widgets.preferences import InterfaceChoice, Preferences

from .make_screenshots import FAILED_TOKEN, build_demo

ROOT = Path(__file__).resolve().parents[2]
WIDGETS = ROOT / "gui" / "wsdmon" / "widgets"
MARK_OPEN, MARK_CLOSE = "‹", "›"

# Qt calls whose string arguments a person reads.
TEXT_SETTERS = {
    "setText",
    "setToolTip",
    "setStatusTip",
    "setWhatsThis",
    "setPlaceholderText",
    "setWindowTitle",
    "setTitle",
    "setSpecialValueText",
    "setSuffix",
    "setPrefix",
    "addAction",
    "addMenu",
    "addTab",
    "setTabText",
    "showMessage",
    "about",
    "question",
    "warning",
    "information",
    "critical",
}
LOGGERS = {"log", "logger", "logging"}
TEXT_WIDGETS = {
    "QLabel",
    "QAction",
    "QPushButton",
    "QToolButton",
    "QCheckBox",
    "QGroupBox",
    "QMenu",
    "QDockWidget",
}


def _is_text(node: ast.AST) -> bool:
    """A literal a person would read: a str constant or f-string with letters in it."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[A-Za-z]{2}", node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_text(v) for v in node.values)
    return False


def _untranslated(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in TEXT_SETTERS and name not in TEXT_WIDGETS:
            continue
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in LOGGERS:
            continue  # log messages are for developers
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if _is_text(arg):
                found.append(f"{path.name}:{node.lineno}: {name}({ast.unparse(arg)})")
    return found


def test_no_text_literal_reaches_qt_without_tr():
    problems = [p for path in sorted(WIDGETS.glob("*.py")) for p in _untranslated(path)]
    assert not problems, "wrap these in self.tr():\n" + "\n".join(problems)


def test_the_scan_catches_a_literal(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('label.setText("Hello")\nQAction(self.tr("Fine"), self)\nb = QPushButton("Go", self)\n')
    assert [p.split(": ", 1)[1] for p in _untranslated(sample)] == ["setText('Hello')", "QPushButton('Go')"]


class MarkingTranslator(QTranslator):
    """Translates everything to ‹source›, so untranslated texts stand out."""

    def translate(self, context, source, disambiguation=None, n=-1):
        return f"{MARK_OPEN}{source}{MARK_CLOSE}"

    def isEmpty(self):
        return False


@pytest.fixture
def marking(qapp):
    translator = MarkingTranslator()
    qapp.installTranslator(translator)
    yield translator
    qapp.removeTranslator(translator)


# Widgets that show data (device names, tokens, values the device sent), not our words.
DATA_OBJECTS = {
    "JobState",
    "JobStateReasons",
    "FilterSummary",
    "ImagesReceived",
    "JobCreatedTime",
    "JobCompletedTime",
    "Duration",
    "JobDescription",
    "JobToken",
    "raw-xml",
}


DATA_TOOLTIPS = {"title"}  # the detail pane's title: its tooltip is the device's endpoint


def _readable_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) for every string the widget tree shows a person, except data."""
    texts: list[tuple[str, str]] = []

    def add(where: str, text: str) -> None:
        if re.search(r"[A-Za-z]{2}", text or ""):
            texts.append((where, text))

    for w in [root, *root.findChildren(QWidget)]:
        name = w.objectName()
        if name in DATA_OBJECTS or (w.parent() is not None and w.parent().objectName() in DATA_OBJECTS):
            continue
        where = f"{type(w).__name__}#{name}"
        if w.isWindow():
            add(where + " title", w.windowTitle())
        if name not in DATA_TOOLTIPS:
            add(where + " tooltip", w.toolTip())
        if isinstance(w, (QLabel, QAbstractButton)):
            add(where, w.text())
        elif isinstance(w, QGroupBox):
            add(where, w.title())
        elif isinstance(w, (QLineEdit, QPlainTextEdit)):
            add(where + " placeholder", w.placeholderText())
        elif isinstance(w, QTabWidget):
            for i in range(w.count()):
                add(f"{where} tab {i}", w.tabText(i))
        elif isinstance(w, QMenu):
            add(where, w.title())
        elif isinstance(w, QDockWidget):
            add(where, w.windowTitle())
        elif isinstance(w, QComboBox) and w.count():
            add(where + " item 0", w.itemText(0))  # the rest are device names
        for action in w.actions():
            add(f"{where} action", action.text())
            add(
                f"{where} action tip",
                action.toolTip() if action.toolTip() != action.text().replace("&", "") else "",
            )
    return texts


def _untranslated_texts(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: {text!r}" for where, text in texts if MARK_OPEN not in text]


def test_every_visible_text_of_the_window_is_translated(qtbot, tmp_path, marking):
    demo = build_demo(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = demo.window
    qtbot.addWidget(window)
    window.show()
    key = next(r.key for r in demo.records if r.key.job_token == FAILED_TOKEN)
    assert window.job_table.select_key(key)
    window._update_status()
    window._status.update(discovery_error="port 3702 is in use")
    window._update_status()
    for menu in window.menuBar().findChildren(QMenu):
        menu.aboutToShow.emit()  # menus filled on demand (View ▸ Columns)
    texts = _readable_texts(window)
    assert len(texts) > 40
    # headers of the models
    for model in (window.proxy, demo.devices):
        for section in range(model.columnCount()):
            texts.append(("header", str(model.headerData(section, Qt.Orientation.Horizontal))))
    assert not _untranslated_texts(texts), "\n".join(_untranslated_texts(texts))
    assert MARK_OPEN in window.about_text()
    QCoreApplication.processEvents()


def test_every_text_of_the_preferences_dialog_is_translated(qtbot, marking):
    dialog = PreferencesDialog(
        Preferences(),
        interfaces=[InterfaceChoice("eth0", "eth0 — 192.0.2.7")],
        columns=[("Device", True)],
        tray_available=False,
        overridden={"interfaces", "notify_port"},
    )
    qtbot.addWidget(dialog)
    texts = [t for t in _readable_texts(dialog) if "192.0.2.7" not in t[1] and t[1] != "Device"]
    assert len(texts) > 10
    assert not _untranslated_texts(texts), "\n".join(_untranslated_texts(texts))


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: a dialog raised
def test_every_text_of_the_diagnose_and_selfcheck_reports_is_translated(qtbot, tmp_path, marking):
    from wsdmon.core.selfcheck import CheckId, CheckResult, Finding, Verdict

    from .health_samples import sample_health

    demo = build_demo(
        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
        run_selfcheck=lambda _listen: [
            CheckResult(CheckId.NOTIFY_PORT, Verdict.PROBLEM, Finding.PORT_HELD, target="TCP 5357")
        ],
    )
    window = demo.window
    qtbot.addWidget(window)
    reports = list(sample_health().values())
    demo.devices.set_health(reports)
    window.diagnosis.check_at_start()
    texts = _readable_texts(window)
    for health in reports:
        dialog = window.diagnosis.diagnose(health.endpoint)
        texts += _readable_texts(dialog)
        # Every line of the report with words in it: a check, its verdict, a sentence, an evidence
        # line ("Code: …", "The device said: …"), what to do next.
        texts += [("report", line) for line in dialog.report.toPlainText().splitlines()]
        dialog.close()
    check = window.diagnosis.open_selfcheck()
    assert check is not None
    texts += _readable_texts(check) + [
        ("self-check", line) for line in check.report.toPlainText().splitlines()
    ]
    texts = [t for t in texts if re.search(r"[A-Za-z]{2}", t[1])]
    assert sum(1 for where, _ in texts if where == "report") > 100
    assert not _untranslated_texts(texts), "\n".join(_untranslated_texts(texts))
    check.close()
