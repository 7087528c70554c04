"""The device list: scan servers and scan devices with their subscription state, and a context menu."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPoint, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTreeView, QWidget

from wsdmon.models import DeviceColumn, DeviceRow, DeviceTreeModel, Role, role_data

__all__ = ["DeviceTreeView"]


class DeviceTreeView(QTreeView):
    """Renders DeviceTreeModel; selecting a device emits its endpoint (None for a group / nothing)."""

    device_selected = Signal(object)  # endpoint | None

    def __init__(
        self,
        model: DeviceTreeModel,
        *,
        refresh: Callable[[str], object] | None = None,
        resubscribe: Callable[[str], object] | None = None,
        open_url: Callable[[str], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("device-tree")
        self._refresh = refresh
        self._resubscribe = resubscribe
        self._open_url = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.setModel(model)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._on_custom_context_menu_requested)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(DeviceColumn.NAME, QHeaderView.ResizeMode.Stretch)
        for column in DeviceColumn:
            # Name and the state icon fit a narrow pane; the rest is in the tooltip, and the header's
            # context menu shows any column.
            self.setColumnHidden(column, column != DeviceColumn.NAME)
        header.setSectionResizeMode(DeviceColumn.LAST_EVENT, QHeaderView.ResizeMode.ResizeToContents)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_context_menu_requested)
        self.expandAll()
        model.rowsInserted.connect(self._on_rows_inserted)
        self.selectionModel().currentChanged.connect(self._on_current_changed)

    def selected_device(self) -> DeviceRow | None:
        row = role_data(self.currentIndex(), Role.DEVICE_ROW)
        return row if isinstance(row, DeviceRow) else None

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            self.expand(parent)

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = role_data(current, Role.DEVICE_ROW)
        self.device_selected.emit(row.endpoint if isinstance(row, DeviceRow) else None)

    def _on_header_context_menu_requested(self, pos: QPoint) -> None:
        menu = QMenu(self)
        model = self.model()
        for column in DeviceColumn:
            if column == DeviceColumn.NAME:
                continue
            action = menu.addAction(str(model.headerData(column, Qt.Orientation.Horizontal)))
            action.setCheckable(True)
            action.setChecked(not self.isColumnHidden(column))
            action.toggled.connect(lambda on, c=column: self.setColumnHidden(c, not on))
        menu.popup(self.header().mapToGlobal(pos))

    def context_menu_for(self, row: DeviceRow) -> QMenu:
        """The device's context menu (built on demand; tests trigger its actions directly)."""
        menu = QMenu(self)
        refresh = menu.addAction(self.tr("Refresh"), lambda: self._call(self._refresh, row.endpoint))
        refresh.setEnabled(self._refresh is not None)
        refresh.setToolTip(self.tr("Read the device's metadata again"))
        again = menu.addAction(self.tr("Resubscribe"), lambda: self._call(self._resubscribe, row.endpoint))
        again.setEnabled(self._resubscribe is not None)
        menu.addSeparator()
        url = row.presentation_url
        open_page = menu.addAction(self.tr("Open presentation page"), lambda: self._open_url(url or ""))
        open_page.setEnabled(bool(url))
        copy = menu.addAction(
            self.tr("Copy address"), lambda: QGuiApplication.clipboard().setText(row.address or row.endpoint)
        )
        copy.setObjectName("copy-address")
        return menu

    def _on_custom_context_menu_requested(self, pos: QPoint) -> None:
        row = role_data(self.indexAt(pos), Role.DEVICE_ROW)
        if isinstance(row, DeviceRow):
            self.context_menu_for(row).popup(self.viewport().mapToGlobal(pos))

    @staticmethod
    def _call(hook: Callable[[str], object] | None, endpoint: str) -> None:
        if hook is not None:
            hook(endpoint)
