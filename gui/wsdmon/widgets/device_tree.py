"""The device list: scan servers and scan devices with their subscription state and, at the end of
the name, their health (a shield icon: the worst verdict of the device's checks; its tooltip names the
worst finding), and a context menu (diagnose, refresh, resubscribe, trust an HTTPS certificate, open
the presentation page, copy the address, save a support bundle)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, QSize, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QHelpEvent, QIcon, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
    QTreeView,
    QWidget,
)

from wsdmon.core.selfcheck import Verdict
from wsdmon.models import (
    VERDICT_ICONS,
    DeviceColumn,
    DeviceKind,
    DeviceRow,
    DeviceTreeModel,
    Role,
    resubscribe_text,
    role_data,
)
from wsdmon.models.icons import icon

from ._async import run_hook_result

log = logging.getLogger(__name__)

__all__ = ["DeviceTreeView", "format_fingerprint"]


def format_fingerprint(sha256_hex: str) -> str:
    """AB:CD:… in two lines of 16 bytes, as devices and browsers show SHA-256 fingerprints."""
    pairs = [sha256_hex[i : i + 2].upper() for i in range(0, len(sha256_hex), 2)]
    return "\n".join(":".join(pairs[i : i + 16]) for i in range(0, len(pairs), 16))


HEALTH_ICON_PX = 16  # the health shield at the end of a device's name
# The list never gets narrower than this many average characters: a window made smaller (1366 →
# 1024 px) took the room of the job table's filters from it, down to "anne…" (issue 14).
MIN_CHARS = 22
HEALTH_GAP_PX = 3  # on either side of it


class HealthDelegate(QStyledItemDelegate):
    """Draws the name cell as usual, narrowed, and the device's health icon at its right end (the
    state icon and words stay where they were); over that icon the tooltip is the health line."""

    def _verdict(self, index: QModelIndex | QPersistentModelIndex) -> Verdict | None:
        value = role_data(index, Role.HEALTH) if index.column() == DeviceColumn.NAME else None
        return value if isinstance(value, Verdict) else None

    @staticmethod
    def icon_rect(cell: QRect) -> QRect:
        left = cell.right() - HEALTH_GAP_PX - HEALTH_ICON_PX + 1
        return QRect(left, cell.top() + (cell.height() - HEALTH_ICON_PX) // 2, HEALTH_ICON_PX, HEALTH_ICON_PX)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        verdict = self._verdict(index)
        if verdict is None:
            super().paint(painter, option, index)
            return
        strip = HEALTH_ICON_PX + 2 * HEALTH_GAP_PX
        text = QStyleOptionViewItem(option)
        text.rect = option.rect.adjusted(0, 0, -strip, 0)
        super().paint(painter, text, index)
        # The strip's background (selection, hover) as the style draws the rest of the cell.
        back = QStyleOptionViewItem(option)
        self.initStyleOption(back, index)
        back.rect = QRect(option.rect.right() - strip + 1, option.rect.top(), strip, option.rect.height())
        back.text, back.icon = "", QIcon()
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, back, painter, widget)
        icon(VERDICT_ICONS[verdict]).paint(painter, self.icon_rect(option.rect))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        if self._verdict(index) is not None:
            size.setWidth(size.width() + HEALTH_ICON_PX + 2 * HEALTH_GAP_PX)
        return size

    def helpEvent(  # noqa: N802 - Qt override
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if (
            event.type() == QEvent.Type.ToolTip
            and self._verdict(index) is not None
            and self.icon_rect(option.rect).contains(event.pos())
        ):
            QToolTip.showText(event.globalPos(), str(role_data(index, Role.HEALTH_TEXT) or ""), view)
            return True
        return super().helpEvent(event, view, option, index)


# What the collector that watches a shared store's device does (a view of the store cannot).
_COLLECTOR_ACTIONS = frozenset({"diagnose", "refresh", "resubscribe", "trust-certificate", "save-bundle"})


class DeviceTreeView(QTreeView):
    """Renders DeviceTreeModel; selecting a device emits its endpoint (None for a group / nothing).
    A view of a shared store (a model `by_site`) also says which site is selected: a site's node or
    one of its devices (None: nothing), so the job table's Site filter keeps in step."""

    device_selected = Signal(object)  # device key (models/device_key.py: the endpoint) | None
    site_selected = Signal(object)  # str | None: only for a model by site
    status_message = Signal(str)  # a line for the window's status bar (what an action did)
    bundle_requested = Signal(str)  # endpoint: "Save support bundle…" of that device
    diagnose_requested = Signal(str)  # device key (models.device_key): "Diagnose…" of that device

    def __init__(
        self,
        model: DeviceTreeModel,
        *,
        refresh: Callable[[str], object] | None = None,
        resubscribe: Callable[[str], object] | None = None,
        open_url: Callable[[str], object] | None = None,
        trust_certificate: Callable[[str, str], object] | None = None,
        confirm: Callable[[str, str], bool] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("device-tree")
        self._refresh = refresh
        self._resubscribe = resubscribe
        self._trust = trust_certificate
        self._confirm = confirm or self._ask
        self._open_url = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self.setModel(model)
        self.health_delegate = HealthDelegate(self)
        self.setItemDelegateForColumn(DeviceColumn.NAME, self.health_delegate)
        self.setUniformRowHeights(True)
        self.setIndentation(14)  # two levels only: narrow, so names fit a narrow pane
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * MIN_CHARS)
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
        header.setSectionResizeMode(DeviceColumn.STATE, QHeaderView.ResizeMode.ResizeToContents)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_context_menu_requested)
        self.expandAll()
        self._devices = model
        model.rowsInserted.connect(self._on_rows_inserted)
        model.rowsRemoved.connect(self._show_groups)
        self._show_groups()
        self.selectionModel().currentChanged.connect(self._on_current_changed)

    def selected_device(self) -> DeviceRow | None:
        row = role_data(self.currentIndex(), Role.DEVICE_ROW)
        return row if isinstance(row, DeviceRow) else None

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if parent.isValid():
            self.expand(parent)
        else:  # a site's node (a view of a shared store): open, as the groups are
            for row in range(first, last + 1):
                self.expand(self._devices.index(row, 0))
        self._show_groups()

    def _show_groups(self) -> None:
        # "Not reached" only while some entry is: it is no kind of device, and empty it is noise.
        group = self._devices.group_index(DeviceKind.NOT_REACHED)
        if group.isValid():
            self.setRowHidden(group.row(), group.parent(), self._devices.rowCount(group) == 0)

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        row = role_data(current, Role.DEVICE_ROW)
        self.device_selected.emit(row.key if isinstance(row, DeviceRow) else None)
        # Not for the first node made current, unselected, when the list gets the focus: opening
        # the shared window would filter its jobs to the first site.
        chosen = not current.isValid() or self.selectionModel().isSelected(current)
        if self._devices.by_site and chosen:
            site = role_data(current, Role.SITE)
            self.site_selected.emit(site if isinstance(site, str) and site else None)

    def selected_site(self) -> str | None:
        """The site of the node or device selected (a model by site; None: nothing selected)."""
        site = role_data(self.currentIndex(), Role.SITE) if self._devices.by_site else None
        return site if isinstance(site, str) and site else None

    def select_site(self, site: str | None) -> None:
        """Select a site's node (None: nothing), unless the selection is that site's already (its
        node or one of its devices): the job table's Site filter chose it."""
        if not self._devices.by_site or site == self.selected_site():
            return
        index = self._devices.site_index(site) if site is not None else QModelIndex()
        if index.isValid():
            self.setCurrentIndex(index)
        else:
            self.selectionModel().clearSelection()
            self.setCurrentIndex(QModelIndex())

    def _on_header_context_menu_requested(self, pos: QPoint) -> None:
        self.header_menu().popup(self.header().mapToGlobal(pos))

    def header_menu(self) -> QMenu:
        """The header's context menu: a checkable entry per column beside the name."""
        menu = QMenu(self)
        model = self.model()
        for column in DeviceColumn:
            if column == DeviceColumn.NAME:
                continue
            action = menu.addAction(str(model.headerData(column, Qt.Orientation.Horizontal)))
            action.setCheckable(True)
            action.setChecked(not self.isColumnHidden(column))
            action.toggled.connect(lambda on, c=column: self.setColumnHidden(c, not on))
        return menu

    def context_menu_for(self, row: DeviceRow) -> QMenu:
        """The device's context menu (built on demand; tests trigger its actions directly)."""
        menu = QMenu(self)
        diagnose = menu.addAction(self.tr("Diagnose…"), lambda: self.diagnose_requested.emit(row.key))
        diagnose.setObjectName("diagnose")
        diagnose.setToolTip(self.tr("What is wrong with this device: each check with its evidence"))
        menu.addSeparator()
        refresh = menu.addAction(self.tr("Refresh"), lambda: self.refresh(row))
        refresh.setObjectName("refresh")
        refresh.setEnabled(self._refresh is not None)
        refresh.setToolTip(self.tr("Read the device's metadata again"))
        again = menu.addAction(self.tr("Resubscribe"), lambda: self.resubscribe(row))
        again.setObjectName("resubscribe")
        again.setEnabled(self._resubscribe is not None)
        if row.untrusted_fingerprint:
            trust = menu.addAction(self.tr("Trust certificate…"), lambda: self.trust_certificate(row))
            trust.setObjectName("trust-certificate")
            trust.setEnabled(self._trust is not None)
            trust.setToolTip(
                self.tr("Accept the device's self-signed HTTPS certificate after checking its fingerprint")
            )
        menu.addSeparator()
        url = row.presentation_url
        open_page = menu.addAction(self.tr("Open presentation page"), lambda: self._open_url(url or ""))
        open_page.setEnabled(bool(url))
        copy = menu.addAction(
            self.tr("Copy address"), lambda: QGuiApplication.clipboard().setText(row.address or row.endpoint)
        )
        copy.setObjectName("copy-address")
        bundle = menu.addAction(
            self.tr("Save support bundle…"), lambda: self.bundle_requested.emit(row.endpoint)
        )
        bundle.setObjectName("save-bundle")
        if row.site:  # a shared store's device: its site's collector reads and subscribes to it
            # (Diagnose shows the report that collector stored)
            reason = self.tr(
                "The collector of site {0} watches this device; do this on that collector's PC"
            ).format(row.site)
            for action in menu.actions():
                if action.objectName() in (
                    "refresh",
                    "resubscribe",
                    "trust-certificate",
                    "save-bundle",
                ):
                    action.setEnabled(False)
                    action.setToolTip(reason)
            menu.setToolTipsVisible(True)
        return menu

    def refresh(self, row: DeviceRow) -> None:
        """Read the device's metadata again; the status bar says so, and when it is done."""
        if self._refresh is None:
            return
        name = row.display_name
        self.status_message.emit(self.tr("Reading {0} again…").format(name))

        def failed(exc: BaseException) -> None:
            log.warning("refresh of %s failed: %s", row.endpoint, exc)
            self.status_message.emit(self.tr("Reading {0} again failed (details in the log)").format(name))

        run_hook_result(
            self._refresh(row.endpoint),
            lambda result: self.status_message.emit(
                self.tr("{0} read again: its state is in the device list").format(name)
            ),
            failed,
        )

    def resubscribe(self, row: DeviceRow) -> None:
        """Ask for new subscriptions; the status bar says so at once, then what came of it."""
        if self._resubscribe is None:
            return
        name = row.display_name
        self.status_message.emit(self.tr("Resubscribing to {0}…").format(name))

        def failed(exc: BaseException) -> None:
            log.warning("resubscribe to %s failed: %s", row.endpoint, exc)
            self.status_message.emit(self.tr("Resubscribe to {0} failed (details in the log)").format(name))

        run_hook_result(
            self._resubscribe(row.endpoint),
            lambda result: self.status_message.emit(resubscribe_text(result, name)),
            failed,
        )

    def trust_certificate(self, row: DeviceRow) -> bool:
        """Show the certificate's fingerprint; if the user confirms, pin it and read the device again.
        Returns whether it was accepted."""
        fingerprint = row.untrusted_fingerprint
        if not fingerprint or self._trust is None:
            return False
        question = self.tr(
            "wsdmon could not verify the HTTPS certificate of {0} ({1}).\n\n"
            "SHA-256 fingerprint:\n{2}\n\n"
            "Compare it with the fingerprint the device shows (on its control panel or its web page). "
            "Only if they are the same: trust this certificate for this device from now on?"
        ).format(row.display_name, row.address or row.endpoint, format_fingerprint(fingerprint))
        if not self._confirm(self.tr("Trust certificate"), question):
            return False
        self._call2(self._trust, row.endpoint, fingerprint)
        return True

    def _ask(self, title: str, question: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _on_custom_context_menu_requested(self, pos: QPoint) -> None:
        row = role_data(self.indexAt(pos), Role.DEVICE_ROW)
        if isinstance(row, DeviceRow):
            self.context_menu_for(row).popup(self.viewport().mapToGlobal(pos))

    @staticmethod
    def _call2(hook: Callable[[str, str], object], endpoint: str, value: str) -> None:
        DeviceTreeView._run(hook(endpoint, value), endpoint)

    @staticmethod
    def _run(result: object, endpoint: str) -> None:
        # Hooks may be coroutines (the engine's refresh): run them on the loop, log a failure.
        run_hook_result(
            result,
            lambda answer: None,
            lambda exc: log.warning("device action on %s failed: %s", endpoint, exc),
        )
