"""The raw message log dock: recent messages in and out, and the XML of the selected one."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QWidget,
)

from wsdmon.models import RawLogModel, Role, pretty_xml, role_data

from ._async import run_hook_result

__all__ = ["RawLogDock"]


class RawLogDock(QDockWidget):
    """Follows the newest message while scrolled to the bottom; shows XML fetched by journal id."""

    def __init__(
        self,
        model: RawLogModel,
        raw_xml_for: Callable[[int], str | None] | None = None,
        parent: QWidget | None = None,
        *,
        site_raw_xml_for: Callable[[str, int], object] | None = None,
        site_message_number: Callable[[str, int], int | None] | None = None,
    ) -> None:
        """`raw_xml_for`: a line's number → its XML; a shared store's message is known by (site,
        its id there): `site_message_number` gives its line's number, `site_raw_xml_for` its XML."""
        super().__init__(self.tr("Raw messages"), parent)
        self.setObjectName("raw-log-dock")
        self._model = model
        self._raw_xml_for = raw_xml_for
        self._site_raw_xml_for = site_raw_xml_for
        self._site_number = site_message_number
        self._wanted: int | None = None  # the message whose XML is being read (a shared store)
        self.view = QTableView(self)
        self.view.setObjectName("raw-log")
        self.view.setModel(model)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setWordWrap(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((80, 36, 150, 220, 60)):
            header.resizeSection(column, width)
        self.xml = QPlainTextEdit(self)
        self.xml.setReadOnly(True)
        self.xml.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.xml.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.xml.setPlaceholderText(self.tr("Select a message to see its XML."))
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("raw-log-splitter")
        splitter.addWidget(self.view)
        splitter.addWidget(self.xml)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.splitter = splitter
        self.setWidget(splitter)
        self._follow = True
        model.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
        model.rowsInserted.connect(self._on_rows_inserted)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)

    def show_message(self, journal_id: int) -> bool:
        """Open the log at one message (a Diagnose report's evidence link): select its row and show
        its XML. A message older than the rows kept is shown by its XML alone. Returns whether its
        row was found."""
        self.show()
        self.raise_()
        row = self._model.row_of(journal_id)
        if row is not None:
            self._follow = False  # stay at that message while others arrive
            index = self._model.index(row, 0)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
            return True
        self.view.selectionModel().clearCurrentIndex()
        self.view.clearSelection()
        text = self._raw_xml_for(journal_id) if self._raw_xml_for else None
        if inspect.isawaitable(text):  # read from a shared store
            run_hook_result(
                text, lambda got: self._show_xml(got, journal_id), lambda exc: self._show_xml(None)
            )
            return False
        self._show_xml(text, journal_id)
        return False

    def show_site_message(self, site: str, message_id: int) -> bool:
        """Open the log at one message of a shared store's site (a Diagnose report's evidence):
        its line when this window read it and still shows it, else its XML read from the store.
        Returns whether its line was found."""
        number = self._site_number(site, message_id) if self._site_number is not None else None
        if number is not None and self._model.row_of(number) is not None:
            return self.show_message(number)
        self.show()
        self.raise_()
        self.view.selectionModel().clearCurrentIndex()
        self.view.clearSelection()
        self._wanted = None
        gone = self.tr("Message #{0} of site {1} is no longer kept in the shared history.").format(
            message_id, site
        )
        text = self._site_raw_xml_for(site, message_id) if self._site_raw_xml_for is not None else None
        if inspect.isawaitable(text):
            self.xml.setPlainText("")
            run_hook_result(
                text, lambda got: self._show_xml(got, gone=gone), lambda exc: self._show_xml(None, gone=gone)
            )
        else:
            self._show_xml(text, gone=gone)
        return False

    def _show_xml(self, text: object, journal_id: int | None = None, *, gone: str = "") -> None:
        if isinstance(text, str) and text:
            self.xml.setPlainText(pretty_xml(text))
        elif gone:
            self.xml.setPlainText(gone)
        elif journal_id is not None:
            self.xml.setPlainText(
                self.tr("Message #{0} is no longer kept in the journal.").format(journal_id)
            )
        else:
            self.xml.setPlainText("")

    def _on_rows_about_to_be_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        bar = self.view.verticalScrollBar()
        self._follow = bar.value() >= bar.maximum() - 2

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._follow:
            self.view.scrollToBottom()

    def _on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        journal_id = role_data(current, Role.JOURNAL_ID)
        text = self._raw_xml_for(journal_id) if journal_id is not None and self._raw_xml_for else None
        if inspect.isawaitable(text):  # read from a shared store: shown when it comes, if still wanted
            self.xml.setPlainText("")
            self._wanted = journal_id
            run_hook_result(
                text,
                lambda got: self._show_xml(got) if self._wanted == journal_id else None,
                lambda exc: self._show_xml(None),
            )
            return
        self._wanted = None
        self._show_xml(text)
