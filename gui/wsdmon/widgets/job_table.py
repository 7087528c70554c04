"""The jobs table with its search box, quick filters, device, site and kind filters and column chooser."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from wsdmon.core import JobKind
from wsdmon.models import (
    Column,
    DeviceTreeModel,
    JobFilterProxyModel,
    JobTableModel,
    QuickFilter,
    Role,
    role_data,
)
from wsdmon.models.format import format_local

from .job_delegate import JobCellDelegate
from .job_view import JobTableView

if TYPE_CHECKING:  # the store's paged table: imported by whoever builds one (cold start)
    from wsdmon.models.paged_jobs import PagedJobModel

__all__ = ["JobTableWidget"]

# Default widths come from sample texts in the current font (so they follow DPI and font size); the
# user's widths and hidden columns are remembered. Completed and Duration start hidden: at 1366 px
# the detail pane shows them, and the column chooser brings them back.
_SAMPLE_TIME = datetime(2026, 12, 28, 17, 29, 20)  # two-digit day and month, afternoon


def _samples() -> dict[Column, str]:
    """Sample texts per column, in the current locale (times follow its short format)."""
    time = format_local(_SAMPLE_TIME, compact=True)
    return {
        Column.DEVICE: "SCANSRV-BRA",
        Column.TOKEN: "0f3b5…f9e8d",
        Column.STATE: "Processing",
        Column.REASONS: "Completed with errors",  # short labels (models.meanings.reason_label)
        Column.IMAGES: "Image",
        Column.CREATED: time,
        Column.COMPLETED: time,
        Column.DURATION: "10 min 00 s",
        Column.FILTERS: "3/3 done, 1 failed, 2 canceled",
        Column.KIND: "Post-scan",
        Column.SITE: "floor-3-west",
    }


_EXTRA = {Column.STATE: 28}  # the state icon
_CELL_PADDING = 16
_DEVICE_COLUMN_MAX_EMS = 14  # the Device column grows to fit names up to about this many "M"s
SEARCH_MIN_CHARS = 20  # the search box never shrinks below this many average characters
COMBO_MIN_CHARS = 6  # nor the device and kind filters below this many
_DEFAULT_ORDER = (Column.DEVICE, Column.KIND, *(c for c in Column if c not in (Column.DEVICE, Column.KIND)))
# The Site column is a shared store's (JobKey.site): a single PC's window has one site, its own.
_HIDDEN_BY_DEFAULT = (Column.COMPLETED, Column.DURATION, Column.SITE)


class JobTableWidget(QWidget):
    """Renders the proxy; emits the selected job's record whenever it is selected or changes."""

    current_job_changed = Signal(object)  # JobRecord | None
    device_filter_changed = Signal(object)  # endpoint | None
    bundle_requested = Signal(list)  # list[JobKey]: "Save support bundle…" of the selected jobs

    def __init__(
        self,
        proxy: JobFilterProxyModel | PagedJobModel,
        devices: DeviceTreeModel | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._proxy = proxy
        self._devices = devices
        self._device_names: list[tuple[str, str]] | None = None
        self._shared = False  # a view of a shared store (set_sites): the Site column shows

        self.search = QLineEdit(self)
        self.search.setObjectName("job-search")
        self.search.setPlaceholderText(self.tr("Search token, state, reasons, device, filters…"))
        self.search.setClearButtonEnabled(True)
        # Readable at 1024 px: "Sear…" told nobody what to type.
        self.search.setMinimumWidth(self.fontMetrics().averageCharWidth() * SEARCH_MIN_CHARS)
        self.search.textChanged.connect(self._on_search_text_changed)
        clear = QAction(self.search)
        clear.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        clear.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear.triggered.connect(self.search.clear)  # Esc empties the search, as in every search box
        self.search.addAction(clear)

        self._quick = QButtonGroup(self)
        self._quick.setExclusive(True)
        labels = {
            QuickFilter.ALL: (self.tr("All"), self.tr("Every job")),
            QuickFilter.ACTIVE: (self.tr("Active"), self.tr("Jobs not finished yet")),
            QuickFilter.COMPLETED: (self.tr("Completed"), self.tr("Finished without failure (or canceled)")),
            QuickFilter.FAILED: (
                self.tr("Failed"),
                self.tr("Aborted, timed out, completed with errors, or a filter failed"),
            ),
        }
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 1)
        # How many jobs the filter matches ("125,409 jobs"; "More than 1,000 jobs" while a large
        # store still counts them): shown while the table is filtered or its count is not known yet.
        self.match_count = QLabel(self)
        self.match_count.setObjectName("job-match-count")
        self.match_count.hide()
        bar.addWidget(self.match_count)
        self.quick_buttons: dict[QuickFilter, QToolButton] = {}
        for i, (quick, (label, tip)) in enumerate(labels.items()):
            button = QToolButton(self)
            button.setText(label)
            button.setToolTip(tip)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setObjectName(f"quick-{quick.value}")
            button.setChecked(quick is QuickFilter.ALL)
            self._quick.addButton(button, i)
            self.quick_buttons[quick] = button
            bar.addWidget(button)
        self._quick.idClicked.connect(self._on_quick_id_clicked)

        self.device_combo = QComboBox(self)
        self.device_combo.setObjectName("device-filter")
        self.device_combo.setToolTip(self.tr("Only the jobs of one device"))
        # The filters may shrink (their lists still show whole names): at 1024 px the device list
        # and the detail pane need the room.
        self.device_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.device_combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        self.device_combo.currentIndexChanged.connect(self._on_device_combo_changed)
        bar.addWidget(self.device_combo)

        # A view of a shared store: the jobs of one site's collector (set_sites shows it).
        self.site_combo = QComboBox(self)
        self.site_combo.setObjectName("site-filter")
        self.site_combo.setToolTip(self.tr("Only the jobs seen by one site's collector"))
        self.site_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.site_combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        self.site_combo.addItem(self.tr("All sites"), None)
        self.site_combo.currentIndexChanged.connect(self._on_site_combo_changed)
        self.site_combo.hide()
        bar.addWidget(self.site_combo)

        # Scan jobs (WSD scanners) and post-scan jobs (scan servers) share the table.
        self.kind_combo = QComboBox(self)
        self.kind_combo.setObjectName("kind-filter")
        self.kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.kind_combo.setMinimumContentsLength(COMBO_MIN_CHARS)
        self.kind_combo.setToolTip(
            self.tr("Scan jobs of WSD scanners, post-scan jobs of scan servers, or both")
        )
        for text, kind in (
            (self.tr("All kinds"), None),
            (self.tr("Scan jobs"), JobKind.SCAN),
            (self.tr("Post-scan jobs"), JobKind.POST_SCAN),
        ):
            self.kind_combo.addItem(text, kind)
        self.kind_combo.currentIndexChanged.connect(self._on_kind_combo_changed)
        bar.addWidget(self.kind_combo)

        self.view = JobTableView(self)
        self.view.setObjectName("job-table")
        self.view.setModel(proxy)
        # Plain cells are painted from the model's cell cache (a window's jobs, or a shared store's pages).
        self._delegate = JobCellDelegate(proxy, self.view)
        self.view.setItemDelegate(self._delegate)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        # Tab leaves the table (to the detail pane) instead of walking its cells, which changed the
        # selected job at every press; the arrow keys move between jobs.
        self.view.setTabKeyNavigation(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # tokens: both ends matter
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        # Uniform row heights: at 100,000 rows the header must not measure rows on every relayout.
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.setSortingEnabled(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu_requested)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_context_menu_requested)
        self.reset_columns()
        self.view.sortByColumn(Column.CREATED, Qt.SortOrder.DescendingOrder)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row_changed)
        proxy.dataChanged.connect(self._on_data_changed)
        for signal in (proxy.modelReset, proxy.rowsInserted, proxy.rowsRemoved, proxy.layoutChanged):
            signal.connect(self._show_match_count)
        proxy.filter_changed.connect(self._show_match_count)
        matches_changed = getattr(proxy, "matches_changed", None)  # a paged table's exact count
        if matches_changed is not None:
            matches_changed.connect(self._show_match_count)
        proxy.modelReset.connect(self._emit_current)
        proxy.rowsRemoved.connect(self._emit_current)
        proxy.layoutChanged.connect(self._emit_current)

        # New jobs arriving above what the user is looking at must not push it down (a click then
        # lands on another job): while a job is selected, the pointer is over the table or it is
        # scrolled, the view keeps its rows still and this button counts what came in above.
        self.new_jobs = QToolButton(self)
        self.new_jobs.setObjectName("new-jobs")
        self.new_jobs.setAutoRaise(True)
        self.new_jobs.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.new_jobs.setArrowType(Qt.ArrowType.UpArrow)
        self.new_jobs.setToolTip(self.tr("Show the newest jobs (scroll to the top)"))
        self.new_jobs.clicked.connect(self._on_new_jobs_clicked)
        self.new_jobs.hide()
        self._new_above = 0
        self._hold: bool = False
        proxy.rowsAboutToBeInserted.connect(self._on_rows_about_to_be_inserted)
        proxy.rowsInserted.connect(self._on_rows_inserted)
        self.view.verticalScrollBar().valueChanged.connect(self._on_scrolled)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.new_jobs, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.view, 1)

        if devices is not None:
            devices.rowsInserted.connect(self._fill_devices)
            devices.rowsRemoved.connect(self._fill_devices)
            devices.dataChanged.connect(self._fill_devices)
            devices.modelReset.connect(self._fill_devices)
        self._fill_devices()

    # --- public ----------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_device_filter(self, endpoint: str | None) -> None:
        """Filter by device (from the combo or the device tree)."""
        i = self.device_combo.findData(endpoint) if endpoint is not None else 0
        if i < 0:
            i = 0
            endpoint = None
        self.device_combo.setCurrentIndex(i)
        self._proxy.set_device_filter(endpoint)

    def set_sites(self, sites: Sequence[str]) -> None:
        """The sites of a shared store: the site filter lists them, and it and the Site column show
        from the first call on (the column beside Device, unless the user placed it already)."""
        self._shared = True
        self._show_site_column()
        combo = self.site_combo
        known = [combo.itemData(i) for i in range(1, combo.count())]
        if known != list(sites):
            current = self._proxy.site_filter()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(self.tr("All sites"), None)
            for site in sites:
                combo.addItem(site, site)
            combo.setCurrentIndex(max(combo.findData(current), 0) if current is not None else 0)
            combo.blockSignals(False)
        combo.show()

    def _show_site_column(self) -> None:
        header = self.view.horizontalHeader()
        if header.isSectionHidden(Column.SITE):
            header.setSectionHidden(Column.SITE, False)
            header.moveSection(header.visualIndex(Column.SITE), header.visualIndex(Column.DEVICE) + 1)

    def set_site_filter(self, site: str | None) -> None:
        """Only the jobs of one site (None: every site)."""
        i = self.site_combo.findData(site) if site is not None else 0
        self.site_combo.setCurrentIndex(max(i, 0))
        self._proxy.set_site_filter(site if i > 0 else None)

    def set_quick_filter(self, quick: QuickFilter) -> None:
        self.quick_buttons[quick].setChecked(True)
        self._proxy.set_quick_filter(quick)

    def current_record(self) -> Any:
        index = self.view.currentIndex()
        return role_data(index, Role.JOB_RECORD)

    def current_key(self) -> Any:
        index = self.view.currentIndex()
        return role_data(index, Role.JOB_KEY)

    def select_key(self, key: object) -> bool:
        """Select the job with this JobKey; False when it is not in the (filtered) table."""
        row = self._proxy.row_of(key)
        if row is None:
            return False
        index = self._proxy.index(row, 0)
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.view.scrollTo(index)
        return True

    def selected_records(self) -> list[Any]:
        """The JobRecords of the selected rows (the current one when none is selected)."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        return [rec for r in rows if (rec := self._proxy.record(r)) is not None]

    def context_menu(self) -> QMenu:
        """The jobs' context menu (built on demand; tests trigger its actions directly)."""
        menu = QMenu(self)
        keys = [r.key for r in self.selected_records()]
        bundle = menu.addAction(self.tr("Save support bundle…"), lambda: self.bundle_requested.emit(keys))
        bundle.setObjectName("save-bundle")
        bundle.setToolTip(self.tr("A zip for a technician with these jobs, their device and its messages"))
        bundle.setEnabled(bool(keys) and not self._shared)
        if self._shared:  # made from one PC's journal: the collector's, not this view's
            bundle.setToolTip(
                self.tr("A support bundle is made on the PC of the site's collector: wsdmon bundle")
            )
            menu.setToolTipsVisible(True)
        return menu

    def _on_context_menu_requested(self, pos: QPoint) -> None:
        if self.view.indexAt(pos).isValid():
            self.context_menu().popup(self.view.viewport().mapToGlobal(pos))

    def visible_records(self, *, timeline: bool = True) -> Sequence[Any]:
        """JobRecords in the order and filter the table shows (for export), with their timelines
        when asked; a paged table's are streamed from the store as they are written
        (PagedJobModel.export_rows), not read row by row through the model."""
        export_rows = getattr(self._proxy, "export_rows", None)
        if export_rows is not None:
            rows: Sequence[Any] = export_rows(timeline=timeline)
            return rows
        return [role_data(self._proxy.index(r, 0), Role.JOB_RECORD) for r in range(self._proxy.rowCount())]

    def header_state(self) -> QByteArray:
        return self.view.horizontalHeader().saveState()

    def restore_header_state(self, state: QByteArray | bytes | None) -> bool:
        if not state:
            return False
        header = self.view.horizontalHeader()
        restored = header.restoreState(QByteArray(state))
        if not self._shared:  # a state saved before the Site column existed shows it: hide it again
            header.setSectionHidden(Column.SITE, True)
        return restored

    def reset_columns(self) -> None:
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        for column, sample in _samples().items():
            header.resizeSection(
                column, metrics.horizontalAdvance(sample) + _CELL_PADDING + _EXTRA.get(column, 0)
            )
            header.setSectionHidden(column, column in _HIDDEN_BY_DEFAULT)
        # The default order: what a column is (scan or post-scan job) right after where it ran; the
        # Kind column was added last, so its place is set by moving it, not by renumbering.
        for visual, column in enumerate(_DEFAULT_ORDER):
            header.moveSection(header.visualIndex(column), visual)
        if self._shared:  # a view of a shared store: its Site column stays
            self._show_site_column()
        if self._device_names:
            self._fit_device_column()

    # --- slots -----------------------------------------------------------------------------------

    def _show_match_count(self, *args: object) -> None:
        proxy = self._proxy
        matched = getattr(proxy, "matched", None)
        n, exact = matched() if matched is not None else (proxy.rowCount(), True)
        filtered = bool(
            proxy.search_text()
            or proxy.quick_filter() is not QuickFilter.ALL
            or proxy.device_filter() is not None
            or proxy.kind_filter() is not None
            or proxy.site_filter() is not None
        )
        label = self.match_count
        recent = getattr(proxy, "count_is_recent", None)
        if not exact and recent is not None and recent():  # live changes: counted a moment ago
            label.setText(self.tr("About {0} jobs").format(QLocale().toString(n)))
            label.setToolTip(self.tr("Counting the jobs that changed…"))
        elif not exact:
            label.setText(self.tr("More than {0} jobs").format(QLocale().toString(n)))
            label.setToolTip(self.tr("Counting every job that matches…"))
        else:
            label.setText(self.tr("1 job") if n == 1 else self.tr("{0} jobs").format(QLocale().toString(n)))
            label.setToolTip(self.tr("Jobs that match the search and filters"))
        label.setVisible(filtered or not exact)

    def _on_search_text_changed(self, text: str) -> None:
        self._proxy.set_search_text(text.strip())

    def _on_kind_combo_changed(self, index: int) -> None:
        kind = self.kind_combo.itemData(index)
        self._proxy.set_kind_filter(kind if isinstance(kind, JobKind) else None)

    def _on_quick_id_clicked(self, button_id: int) -> None:
        self._proxy.set_quick_filter(list(QuickFilter)[button_id])

    def _on_site_combo_changed(self, index: int) -> None:
        site = self.site_combo.itemData(index) if index > 0 else None
        self._proxy.set_site_filter(site if isinstance(site, str) else None)

    def _on_device_combo_changed(self, index: int) -> None:
        endpoint = self.device_combo.itemData(index) if index > 0 else None
        self._proxy.set_device_filter(endpoint)
        self.device_filter_changed.emit(endpoint)

    def _on_header_context_menu_requested(self, pos: QPoint) -> None:
        menu = QMenu(self)
        menu.setTitle(self.tr("Columns"))
        self.add_column_actions(menu)
        menu.popup(self.view.horizontalHeader().mapToGlobal(pos))

    def add_column_actions(self, menu: QMenu) -> None:
        """The column chooser: a checkable action per column, then "Reset columns" (the header's
        context menu, View ▸ Columns)."""
        header = self.view.horizontalHeader()
        visible = [c for c in Column if not header.isSectionHidden(c)]
        for column in Column:
            if column is Column.SITE and not self._shared:
                continue  # a single PC's window has one site: its own
            name = self._proxy.headerData(column, Qt.Orientation.Horizontal)
            action = QAction(str(name), menu)
            action.setCheckable(True)
            action.setChecked(column in visible)
            action.setEnabled(not (column in visible and len(visible) == 1))  # keep one column
            action.toggled.connect(lambda on, c=column: header.setSectionHidden(c, not on))
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.tr("Reset columns"), self.reset_columns)

    def column_choices(self) -> list[tuple[str, bool]]:
        """(header title, visible) per column, in column order (the Preferences dialog)."""
        header = self.view.horizontalHeader()
        return [
            (str(self._proxy.headerData(c, Qt.Orientation.Horizontal)), not header.isSectionHidden(c))
            for c in Column
        ]

    @staticmethod
    def default_column_visibility() -> list[bool]:
        return [c not in _HIDDEN_BY_DEFAULT for c in Column]

    def set_visible_columns(self, visible: list[bool]) -> None:
        """Show exactly the columns flagged (at least one stays visible)."""
        if not any(visible):
            return
        header = self.view.horizontalHeader()
        for column, on in zip(Column, visible, strict=False):
            header.setSectionHidden(column, not on)

    def _on_rows_about_to_be_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        view = self.view
        top = view.rowAt(0)  # the first row shown, -1 when none
        busy = view.currentIndex().isValid() or view.underMouse() or view.verticalScrollBar().value() > 0
        self._hold = busy and top >= 0 and first <= top

    def _on_rows_inserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not self._hold:
            return
        self._hold = False
        count = last - first + 1
        bar = self.view.verticalScrollBar()
        per_pixel = self.view.verticalScrollMode() is QAbstractItemView.ScrollMode.ScrollPerPixel
        step = count * self.view.verticalHeader().defaultSectionSize() if per_pixel else count
        # The view lays itself out later: widen the range now so that the new value is not clamped.
        bar.setMaximum(bar.maximum() + step)
        bar.setValue(bar.value() + step)
        self._new_above += count
        self.new_jobs.setText(
            self.tr("1 new job") if self._new_above == 1 else self.tr("{0} new jobs").format(self._new_above)
        )
        self.new_jobs.show()

    def _on_scrolled(self, value: int) -> None:
        if value == 0 and self._new_above:
            self._new_above = 0
            self.new_jobs.hide()

    def _on_new_jobs_clicked(self) -> None:
        self.view.scrollToTop()
        self._on_scrolled(0)

    def _on_current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        source = self._proxy.sourceModel() if isinstance(self._proxy, JobFilterProxyModel) else None
        if isinstance(source, JobTableModel):
            source.set_selected_key(role_data(current, Role.JOB_KEY))  # its moves keep the selection
        self._emit_current()

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, *roles: object) -> None:
        current = self.view.currentIndex()
        if current.isValid() and top_left.row() <= current.row() <= bottom_right.row():
            self._emit_current()

    def _emit_current(self, *args: object) -> None:
        self.current_job_changed.emit(self.current_record())

    def _fill_devices(self, *args: object) -> None:
        rows = self._devices.devices() if self._devices is not None else []
        names = [(row.display_name, row.key) for row in rows]
        if names == self._device_names:
            return  # a device's state or last event changed, not its name: nothing to redo
        self._device_names = names
        current = self._proxy.device_filter()
        combo = self.device_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(self.tr("All devices"), None)
        for name, endpoint in names:
            combo.addItem(name, endpoint)
        i = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(i, 0))
        combo.blockSignals(False)
        self._fit_device_column()

    def _fit_device_column(self) -> None:
        """Widen the Device column to the longest device name (up to a limit); never narrow it."""
        header = self.view.horizontalHeader()
        metrics = self.view.fontMetrics()
        widest = max((metrics.horizontalAdvance(name) for name, _ in self._device_names or ()), default=0)
        wanted = min(widest + _CELL_PADDING, metrics.horizontalAdvance("M") * _DEVICE_COLUMN_MAX_EMS)
        if wanted > header.sectionSize(Column.DEVICE):
            header.resizeSection(Column.DEVICE, wanted)
