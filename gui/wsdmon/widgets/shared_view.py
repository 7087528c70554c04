"""The window on a shared PostgreSQL store (issue 14, item 3): its words, what it cannot do and why,
and File ▸ Open shared history….

A shared view reads what the sites' collectors stored (SELECT only): there is no engine in it, so
whatever asks a device or the local network (re-probe, refresh, resubscribe, trust, the
self-check, the notify port and interfaces of Preferences, a support bundle of the local journal)
is disabled with its reason, never an error. Diagnose… shows the health report each device's site
collector judged and stored. Locations are shown masked (store.locations.redact_dsn);
a password typed in the dialog is never shown back, logged or saved.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QObject, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLayout,
    QLineEdit,
    QMainWindow,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from wsdmon.core.sites import CollectorState, SiteCollector
from wsdmon.models.format import format_when
from wsdmon.store.locations import has_password, is_postgres, redact_dsn
from wsdmon.store.pg_view import ViewProblem

from ._async import run_hook_result

__all__ = ["OpenSharedDialog", "SharedTexts", "SharedWindowDecor"]

log = logging.getLogger(__name__)

# QSettings key of the last location opened (only when it holds no password).
LAST_LOCATION_KEY = "shared/last_location"


class SharedTexts(QObject):
    """The words of a shared view (a QObject for self.tr(), one lupdate context)."""

    def problem_title(self) -> str:
        return self.tr("Cannot open the shared history")

    def problem(self, problem: ViewProblem, location: str, detail: str) -> str:
        texts = {
            ViewProblem.UNREACHABLE: self.tr(
                "The database server of {0} cannot be reached ({1}).\n\nCheck the host name and port, "
                "that the server runs and that a firewall lets this PC through (port 5432 by default)."
            ),
            ViewProblem.LOGIN_REFUSED: self.tr(
                "The database server of {0} refused the login ({1}).\n\nCheck the user name and the "
                "password in ~/.pgpass (on Windows %APPDATA%\\postgresql\\pgpass.conf) or in your "
                "service file; ask the database administrator for a viewer login."
            ),
            ViewProblem.NO_DATABASE: self.tr(
                "The server of {0} has no such database ({1}).\n\nCheck the database name: it is the one "
                "the collectors write to (wsdmon collect --store …)."
            ),
            ViewProblem.NOT_A_STORE: self.tr(
                "{0} is not a wsdmon history: it has no wsdmon tables ({1}).\n\nCheck the database name; "
                "the tables appear when the first collector (wsdmon collect --store …) starts."
            ),
            ViewProblem.NO_RIGHT: self.tr(
                "The login may not read the wsdmon tables of {0} ({1}).\n\nAsk the database administrator "
                "to make it a member of the viewer role (python -m wsdmon.store.pg_schema prints it)."
            ),
            ViewProblem.BAD_LOCATION: self.tr(
                "{0} is not a PostgreSQL location wsdmon understands ({1}).\n\nGive a URL such as "
                "postgresql://viewer@db.example.org/wsdmon or a service name: service=wsdmon"
            ),
        }
        text = texts.get(problem, self.tr("The shared history {0} cannot be read: {1}"))
        return text.format(location, detail)

    def title(self, location: str, sites: int) -> str:
        return self.tr("wsdmon — shared history of %n site(s) — {0}", "", sites).format(location)

    def status(self, location: str, sites: int) -> str:
        return self.tr("Shared view of {0}: %n site(s)", "", sites).format(location)

    def away(self, sites: Sequence[str]) -> str:
        """The status bar's note of the sites whose collector is not heard from (in name order)."""
        return self.tr("Collector not heard from: {0}").format(", ".join(sites))

    def collector(self, site: str, collector: SiteCollector) -> str:
        """One site's collector that went silent or stopped, for the status bar and its tooltip."""
        when = format_when(collector.at)
        if collector.state is CollectorState.STOPPED:
            return self.tr("The collector of site {0} stopped at {1}").format(site, when)
        return self.tr("The collector of site {0} has been silent since {1}").format(site, when)

    def lost(self, detail: str) -> str:
        return self.tr(
            "Connection to the shared history lost ({0}): showing what was read; reconnecting…"
        ).format(detail)

    def back(self) -> str:
        return self.tr("Connection to the shared history is back: following every site live again")

    def engine_only(self) -> str:
        return self.tr(
            "This window only reads the shared history: the collectors of the sites find, read and "
            "subscribe to the devices (wsdmon collect on each site's PC)"
        )

    def bundle_reason(self) -> str:
        return self.tr(
            "A support bundle is made from a journal on one PC: run `wsdmon bundle` on the PC of the "
            "site's collector"
        )

    def preferences_reason(self) -> str:
        return self.tr(
            "Preferences set up this PC's own monitor (interfaces, notify port, retention); this window "
            "only reads the shared history"
        )


class SharedWindowDecor:
    """Makes a MainWindow a shared view: title and status bar name the (masked) location and the
    number of sites; the Site column and filter show; engine commands are disabled with a reason."""

    def __init__(self, window: QMainWindow, location: str) -> None:
        self.window = window
        self.location = redact_dsn(location)
        self.texts = SharedTexts(window)
        self.sites: list[str] = []
        self.away: dict[str, SiteCollector] = {}  # sites whose collector is silent or stopped
        self.connected = True  # following the store (False: the status bar says the connection is lost)
        self.state = QLabel(window)
        self.state.setObjectName("status-shared")
        window.statusBar().addPermanentWidget(self.state)
        labels = getattr(window, "status_labels", {})
        for name in ("rate", "rejected"):  # the notification sink's: there is none here
            if name in labels:
                labels[name].hide()
        self._disable()
        self.set_sites([])  # the Site column and filter show
        self._site_filter_above_the_devices()
        self._keep_site_in_step()

    def _site_filter_above_the_devices(self) -> None:
        """The Site filter goes above the device list, grouped by site as it is: the left pane says
        where (site, device), the job table's bar what (search, state, device, kind). In that bar it
        made the job table 100 px wider than a single PC's, so at 1024 px the device list was
        squeezed to a dozen characters."""
        tree = getattr(self.window, "device_tree", None)
        job_table = getattr(self.window, "job_table", None)
        splitter = getattr(self.window, "splitter", None)
        if tree is None or job_table is None or splitter is None:
            return
        combo = job_table.site_combo
        # The keyboard meets them in the order they will stand: the Site filter, then the devices.
        order = [w for w in _tab_chain(self.window) if w is not combo]
        order.insert(order.index(tree) if tree in order else 0, combo)
        bar = _layout_holding(job_table.layout(), combo)
        if bar is not None:
            bar.removeWidget(combo)
        pane = QWidget(self.window)  # Qt's to delete with the window (the splitter takes it)
        pane.setObjectName("devices-pane")
        self.devices_pane = pane
        splitter.replaceWidget(splitter.indexOf(tree), pane)  # the sizes and saved state stay
        column = QVBoxLayout(pane)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(combo)
        column.addWidget(tree, 1)
        tree.show()  # taken out of the splitter, it was hidden
        for first, second in itertools.pairwise(order):  # moved widgets join the chain at its end
            QWidget.setTabOrder(first, second)

    def _keep_site_in_step(self) -> None:
        """The device tree's sites and the job table's Site filter show one choice: a site's node
        (or one of its devices) picked in the tree filters the jobs to that site; a site picked in
        the filter selects its node (All sites: none)."""
        tree = getattr(self.window, "device_tree", None)
        job_table = getattr(self.window, "job_table", None)
        if tree is None or job_table is None:
            return
        tree.site_selected.connect(job_table.set_site_filter)
        combo = job_table.site_combo

        def picked(index: int) -> None:
            site = combo.itemData(index) if index > 0 else None
            tree.select_site(site if isinstance(site, str) else None)

        combo.currentIndexChanged.connect(picked)

    def _disable(self) -> None:
        texts, w = self.texts, self.window
        reasons: list[tuple[str, str]] = [
            ("reprobe_action", texts.engine_only()),
            ("bundle_action", texts.bundle_reason()),
            ("preferences_action", texts.preferences_reason()),
        ]
        diagnosis = getattr(w, "diagnosis", None)
        for name, reason in reasons:
            _off(getattr(w, name, None), reason)
        if diagnosis is not None:  # Diagnose… stays: it shows the report the site's collector stored
            _off(diagnosis.selfcheck_action, texts.engine_only())
        for top in w.menuBar().actions():
            menu = top.menu()
            if isinstance(menu, QMenu):
                menu.setToolTipsVisible(True)  # the reasons show where the entries are

    def _say_state(self) -> None:
        """The status bar's words: where, how many sites, and whose collector is not heard from."""
        text = self.texts.status(self.location, len(self.sites))
        if self.away:  # first: a narrow window cuts the label's end, and the title has the location
            text = f"{self.texts.away(sorted(self.away))} · {text}"
        self.state.setText(text)
        lines = [self.texts.collector(site, c) for site, c in sorted(self.away.items())]
        self.state.setToolTip("\n".join(lines))

    def set_collectors(self, collectors: Mapping[str, SiteCollector]) -> None:
        """Each site's collector as last judged: those silent or stopped are named in the status
        bar; one that just went so is also said for a while."""
        away = {site: c for site, c in collectors.items() if c.state is not CollectorState.LIVE}
        news = [s for s, c in sorted(away.items()) if s not in self.away or self.away[s].state is not c.state]
        self.away = away
        if self.connected:
            self._say_state()
        if news:
            said = "; ".join(self.texts.collector(site, away[site]) for site in news)
            self.window.statusBar().showMessage(said, 15_000)

    def set_sites(self, sites: Sequence[str]) -> None:
        self.sites = list(sites)
        self.window.setWindowTitle(self.texts.title(self.location, len(self.sites)))
        if self.connected:
            self._say_state()
        job_table = getattr(self.window, "job_table", None)
        if job_table is not None:
            job_table.set_sites(self.sites)

    def connection_changed(self, detail: str | None) -> None:
        """The following was interrupted (`detail`: why, already masked) or is live again (None)."""
        bar = self.window.statusBar()
        self.connected = detail is None
        if detail is None:
            self._say_state()
            bar.showMessage(self.texts.back(), 15_000)
        else:
            text = self.texts.lost(detail)
            self.state.setText(text)
            self.state.setToolTip(text)
            bar.showMessage(text)


def _tab_chain(window: QWidget) -> list[QWidget]:
    """The widgets Tab goes through in `window`, in order."""
    chain: list[QWidget] = []
    widget = window.nextInFocusChain()
    while widget is not None and widget is not window and widget not in chain:
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            chain.append(widget)
        widget = widget.nextInFocusChain()
    return chain


def _layout_holding(layout: QLayout | None, widget: QWidget) -> QLayout | None:
    """The layout (`layout` or one nested in it) that holds `widget` directly."""
    if layout is None:
        return None
    if layout.indexOf(widget) >= 0:
        return layout
    for i in range(layout.count()):
        item = layout.itemAt(i)
        found = _layout_holding(item.layout() if item is not None else None, widget)
        if found is not None:
            return found
    return None


def _off(action: QAction | None, reason: str) -> None:
    if action is None:
        return
    action.setEnabled(False)
    action.setToolTip(reason)
    action.setStatusTip(reason)

    # Keep it disabled when its owner would enable it again (e.g. a device selected).
    def keep_off() -> None:
        if action.isEnabled():
            action.setEnabled(False)

    action.changed.connect(keep_off)


class OpenSharedDialog(QDialog):
    """File ▸ Open shared history…: asks for a PostgreSQL location and opens it with `open_shared`
    (location → awaitable; raises SharedViewError with the reason). Stays open, saying why, when the
    location cannot be shown; closes when the shared view is open."""

    def __init__(
        self, open_shared: Callable[[str], object], settings: QSettings | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("open-shared-dialog")
        self.setWindowTitle(self.tr("Open shared history"))
        self._open_shared = open_shared
        self._settings = settings
        self.texts = SharedTexts(self)
        intro = QLabel(
            self.tr(
                "The history the collectors of every site write to one PostgreSQL database. Give its "
                "location: a URL (postgresql://viewer@db.example.org/wsdmon) or a service name "
                "(service=wsdmon).\n\nKeep the password out of it: put it in ~/.pgpass (on Windows "
                "%APPDATA%\\postgresql\\pgpass.conf) or in a service file. A password typed here is "
                "used once and never saved."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.location = QLineEdit(self)
        self.location.setObjectName("shared-location")
        self.location.setPlaceholderText(self.tr("postgresql://viewer@db.example.org/wsdmon"))
        self.location.setClearButtonEnabled(True)
        last = settings.value(LAST_LOCATION_KEY, "", str) if settings is not None else ""
        if isinstance(last, str) and last and not has_password(last):
            self.location.setText(last)
        self.answer = QLabel(self)
        self.answer.setObjectName("shared-answer")
        self.answer.setWordWrap(True)
        self.answer.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.open_location)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.location)
        layout.addWidget(self.answer)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def _say(self, text: str) -> None:
        self.answer.setText(text)
        self.answer.setVisible(bool(text))

    def open_location(self) -> None:
        """Open: check the text, then open it (the dialog waits, saying so)."""
        text = self.location.text().strip()
        if not text or not is_postgres(text):
            self._say(
                self.tr(
                    "Give a PostgreSQL location: postgresql://host/database, or a service name: service=NAME"
                )
            )
            return
        shown = redact_dsn(text)
        self._say(self.tr("Opening {0}…").format(shown))
        self.buttons.setEnabled(False)
        try:
            result = self._open_shared(text)
        except Exception as exc:  # said in the dialog
            self._failed(shown, exc)
            return
        run_hook_result(result, lambda _: self._opened(text), lambda exc: self._failed(shown, exc))

    def _opened(self, text: str) -> None:
        if self._settings is not None and not has_password(text):
            self._settings.setValue(LAST_LOCATION_KEY, text)
        self.buttons.setEnabled(True)
        self.accept()

    def _failed(self, shown: str, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        problem = getattr(exc, "problem", ViewProblem.OTHER)
        detail = getattr(exc, "detail", "") or str(exc) or type(exc).__name__
        log.warning("cannot open the shared history %s: %s", shown, detail)
        self._say(self.texts.problem(problem, shown, detail))
