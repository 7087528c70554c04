"""DeviceTreeModel: scan servers and scan devices, grouped, each with its subscription state and, at a
glance beside its name, what it says of itself (device_state.py: a scanner's jam, open cover…, with
an icon; a stopped or busy state).

The bridge fills DeviceRow values (plain data, no net/ imports) and calls `upsert` / `remove`.
Tree shape, a single PC's window: three group nodes ("Scan servers", "Scan devices", and "Not
reached" for entries whose metadata could never be read, so whose role is unknown), devices below
them. A view of a shared store (`by_site`): a node per site ("branch (3)", its worst device's icon,
what that device has in its tooltip), its devices below it, scan servers first. A node's internalId
is 0 for a group and its group's fixed id for a device.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from wsdmon.core import DeviceError, OfflineReason, ScannerCondition
from wsdmon.core.health import DeviceHealth
from wsdmon.core.selfcheck import Verdict
from wsdmon.core.sites import CollectorState, SiteCollector

from . import format as fmt
from ._i18n import QT_TRANSLATE_NOOP
from .device_key import device_key
from .device_state import DeviceGlance, condition_text, device_glance, reason_text, state_text
from .device_text import device_error_text, offline_text
from .health_text import health_tooltip
from .icons import icon
from .roles import Role

__all__ = ["DeviceColumn", "DeviceKind", "DeviceRow", "DeviceTreeModel", "SubscriptionState"]

_CTX = "DeviceTreeModel"
_Index = QModelIndex | QPersistentModelIndex


class DeviceKind(Enum):
    SCAN_SERVER = "scan-server"  # a DSM scan repository (MS-BDSRR): it has post-scan jobs
    SCAN_DEVICE = "scan-device"  # a WSD scanner (WS-Scan)
    NOT_REACHED = "not-reached"  # its metadata could not be read yet: its role is unknown


class SubscriptionState(Enum):
    UNSUBSCRIBED = "unsubscribed"
    SUBSCRIBING = "subscribing"
    SUBSCRIBED = "subscribed"
    ERROR = "error"
    # A view of a shared store: the subscription is the collector's of the device's site, and the
    # store does not record its state (never shown as "Not subscribed", which would be untrue).
    AT_SITE = "at-site"


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device as the tree shows it. `endpoint` equals JobKey.device of its jobs; `site` their
    JobKey.site (the collector that watches it, "" for this PC's engine); `key` tells rows apart."""

    endpoint: str
    kind: DeviceKind
    name: str = ""
    model: str = ""
    manufacturer: str = ""
    address: str = ""  # transport address, e.g. http://192.0.2.10:5357/…
    presentation_url: str | None = None
    subscription: SubscriptionState = SubscriptionState.UNSUBSCRIBED
    subscription_detail: str = ""  # e.g. the fault text, or when the subscription expires
    last_event: datetime | None = None
    # SHA-256 (hex) of an HTTPS certificate the device presented and nobody has accepted yet
    untrusted_fingerprint: str | None = None
    # What the device last said of itself, as sent: ScannerState / RepositoryState ("" = not yet) and
    # its reasons, and a scanner's active conditions.
    state: str = ""
    state_reasons: tuple[str, ...] = ()
    conditions: tuple[ScannerCondition, ...] = ()
    error: DeviceError | None = None  # why its metadata could not be read (worded by the model)
    offline: OfflineReason | None = None  # why it is offline; None while online
    # Set by the model when another device has the same name (a device seen again under a new
    # identity, two MFPs left at their factory name): a short form of the endpoint that tells
    # them apart wherever a name is shown.
    twin_hint: str = ""
    site: str = ""
    state_at: datetime | None = None  # a shared store's device: when its collector said the above

    @property
    def key(self) -> str:
        """What the tree, the job table's filters and lookups know it by (device_key.py)."""
        return device_key(self.endpoint, self.site)

    @property
    def display_name(self) -> str:
        name = self.name or self.endpoint
        return f"{name} ({self.twin_hint})" if self.twin_hint else name

    @property
    def glance(self) -> DeviceGlance:
        """The few words and the icon beside its name (worded on each call: follows the language)."""
        return device_glance(self.state, self.state_reasons, self.conditions)


def _shared_names(rows: Iterable[DeviceRow]) -> set[str]:
    """The names more than one device (endpoint, or site and endpoint) goes by."""
    keys: dict[str, set[str]] = {}
    for r in rows:
        keys.setdefault(r.name or r.endpoint, set()).add(r.key)
    return {name for name, found in keys.items() if len(found) > 1}


def _hinted(row: DeviceRow, shared: set[str]) -> DeviceRow:
    """`row` with the twin hint its name needs among `shared` (the same row when it has it): a short
    form of the endpoint, after the site's name when a site's collector watches it."""
    hint = ""
    if (row.name or row.endpoint) in shared:
        hint = f"{row.site} · {_short_id(row.endpoint)}" if row.site else _short_id(row.endpoint)
    return row if row.twin_hint == hint else dataclasses.replace(row, twin_hint=hint)


def _short_id(endpoint: str) -> str:
    """ "urn:uuid:5f0c2a4e-8d1b-…" → "5f0c2a4e"; a URL (a device not reached) stays as it is."""
    tail = endpoint.removeprefix("urn:").removeprefix("uuid:")
    return tail[:8] if tail != endpoint or "://" not in endpoint else endpoint


class DeviceColumn(IntEnum):
    NAME = 0
    MODEL = 1
    ADDRESS = 2
    SUBSCRIPTION = 3
    LAST_EVENT = 4
    STATE = 5


_HEADERS = (
    QT_TRANSLATE_NOOP(_CTX, "Name"),
    QT_TRANSLATE_NOOP(_CTX, "Model"),
    QT_TRANSLATE_NOOP(_CTX, "Address"),
    QT_TRANSLATE_NOOP(_CTX, "Subscription"),
    QT_TRANSLATE_NOOP(_CTX, "Last event"),
    QT_TRANSLATE_NOOP(_CTX, "State"),
)
_GROUPS = (DeviceKind.SCAN_SERVER, DeviceKind.SCAN_DEVICE, DeviceKind.NOT_REACHED)
_GROUP_NAMES = {
    DeviceKind.SCAN_SERVER: QT_TRANSLATE_NOOP(_CTX, "Scan servers ({0})"),
    DeviceKind.SCAN_DEVICE: QT_TRANSLATE_NOOP(_CTX, "Scan devices ({0})"),
    DeviceKind.NOT_REACHED: QT_TRANSLATE_NOOP(_CTX, "Not reached ({0})"),
}
_STATE_NAMES = {
    SubscriptionState.UNSUBSCRIBED: QT_TRANSLATE_NOOP(_CTX, "Not subscribed"),
    SubscriptionState.SUBSCRIBING: QT_TRANSLATE_NOOP(_CTX, "Subscribing…"),
    SubscriptionState.SUBSCRIBED: QT_TRANSLATE_NOOP(_CTX, "Subscribed"),
    SubscriptionState.ERROR: QT_TRANSLATE_NOOP(_CTX, "Error"),
    SubscriptionState.AT_SITE: QT_TRANSLATE_NOOP(_CTX, "Watched by its site's collector"),
}
_STATE_ICONS = {
    SubscriptionState.UNSUBSCRIBED: "unsubscribed",
    SubscriptionState.SUBSCRIBING: "subscribing",
    SubscriptionState.SUBSCRIBED: "subscribed",
    SubscriptionState.ERROR: "error",
    SubscriptionState.AT_SITE: "health-unknown",
}


# A site's collector not heard from: on its node, and in the node's tooltip.
_AWAY = {
    CollectorState.SILENT: QT_TRANSLATE_NOOP(_CTX, "collector silent since {0}"),
    CollectorState.STOPPED: QT_TRANSLATE_NOOP(_CTX, "collector stopped at {0}"),
}
_AWAY_LONG = {
    CollectorState.SILENT: QT_TRANSLATE_NOOP(
        _CTX, "Its collector has been silent since {0}: its devices are shown as it last said"
    ),
    CollectorState.STOPPED: QT_TRANSLATE_NOOP(
        _CTX, "Its collector stopped at {0}: its devices are shown as it last said"
    ),
}

# A site node's shield: its devices' worst verdict.
_VERDICT_RANK = {Verdict.OK: 0, Verdict.UNKNOWN: 1, Verdict.WARNING: 2, Verdict.PROBLEM: 3}


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CTX, text)


@dataclass(slots=True)
class _Group:
    """A group node: a kind of device (a single PC's window) or a site (a view of a shared store).
    `id` is its devices' internalId: fixed for the group's life, so a site added or removed above
    it (the sites stay in name order) does not turn its devices' indexes into another group's."""

    id: int
    kind: DeviceKind | None = None
    site: str = ""
    rows: list[DeviceRow] = dataclasses.field(default_factory=list)


# A site's trouble, worst last: what its node shows of its worst device (the device's own icon).
_CALM, _WARNING, _CRITICAL, _UNREACHED = range(4)


class DeviceTreeModel(QAbstractItemModel):
    """Devices grouped by kind (a single PC's window) or, `by_site`, by the site whose collector
    watches them (a view of a shared store: a node per site, in name order, with its device count
    and its worst device's state; its devices scan servers first). `device(key)` doubles as the
    job model's name lookup."""

    device_count_changed = Signal(int)
    health_changed = Signal(str)  # the key of the device whose health report changed

    def __init__(self, parent: QObject | None = None, *, by_site: bool = False) -> None:
        super().__init__(parent)
        self.by_site = by_site
        kinds = () if by_site else _GROUPS
        self._groups: list[_Group] = [_Group(i + 1, kind) for i, kind in enumerate(kinds)]
        self._by_id: dict[int, _Group] = {g.id: g for g in self._groups}
        self._next_id = len(self._groups) + 1
        self._where: dict[str, _Group] = {}
        # Kept apart from the rows: reports come on their own (EngineListener.health_changed), also
        # before the device's first row, and a row's update (or a change of kind) must not drop it.
        self._health: dict[str, DeviceHealth] = {}
        self._collectors: dict[str, SiteCollector] = {}  # site → its collector as last judged

    # --- the bridge's API ------------------------------------------------------------------------

    def upsert(self, rows: Sequence[DeviceRow]) -> bool:
        """Add new devices (each at its place in its group) and update known ones (dataChanged).
        Returns True when a name people see changed (a new device, a rename, a new twin)."""
        shown = {r.key: r.display_name for r in self.devices()}
        rows = self._with_twin_hints(rows)
        new: dict[str, DeviceRow] = {}
        for row in rows:
            key = row.key
            group = self._where.get(key)
            if group is not None and (
                group is not self._group_for(row) or self._kind_of(key) is not row.kind
            ):
                self.remove([key])  # a device that turned out to be the other kind
                group = None
            if group is None:
                new[key] = row
                continue
            i = next(i for i, r in enumerate(group.rows) if r.key == key)
            old, group.rows[i] = group.rows[i], row
            if old == row:
                continue
            parent = self._group_index(group)
            # Every event moves a device's last-event time: only that cell changed, and it is hidden
            # by default, so the tree need not repaint the row a thousand times a second.
            first, last = 0, len(DeviceColumn) - 1
            if dataclasses.replace(old, last_event=row.last_event) == row:
                first = last = int(DeviceColumn.LAST_EVENT)
            else:
                self.dataChanged.emit(parent, parent)  # a site shows its worst device
            self.dataChanged.emit(self.index(i, first, parent), self.index(i, last, parent))
        for key, row in new.items():
            group = self._group_for(row) or self._add_site(row.site)
            rank = _GROUPS.index(row.kind)
            i = sum(1 for r in group.rows if _GROUPS.index(r.kind) <= rank)  # after its own kind
            parent = self._group_index(group)
            self.beginInsertRows(parent, i, i)
            group.rows.insert(i, row)
            self._where[key] = group
            self.endInsertRows()
            self.dataChanged.emit(parent, parent)  # the group's count
        if new:
            self.device_count_changed.emit(len(self._where))
        self._relabel()
        return {r.key: r.display_name for r in self.devices()} != shown

    def _group_for(self, row: DeviceRow) -> _Group | None:
        """The group a device belongs in (None: its site has no node yet)."""
        if not self.by_site:
            return self._groups[_GROUPS.index(row.kind)]
        return next((g for g in self._groups if g.site == row.site), None)

    def _kind_of(self, key: str) -> DeviceKind | None:
        found = self.device(key)
        return found.kind if found is not None else None

    def _add_site(self, site: str) -> _Group:
        """A node for a site seen for the first time, at its place in name order."""
        group = _Group(self._next_id, site=site)
        self._next_id += 1
        at = sum(1 for g in self._groups if (g.site.casefold(), g.site) < (site.casefold(), site))
        self.beginInsertRows(QModelIndex(), at, at)
        self._groups.insert(at, group)
        self._by_id[group.id] = group
        self.endInsertRows()
        return group

    def _group_index(self, group: _Group) -> QModelIndex:
        return self.createIndex(self._groups.index(group), 0, 0)

    def _with_twin_hints(self, rows: Sequence[DeviceRow]) -> list[DeviceRow]:
        """`rows` with the hints they will need among the devices known and these."""
        shared = _shared_names((*self.devices(), *rows))
        return [_hinted(r, shared) for r in rows]

    def _relabel(self) -> None:
        """Give the known devices the hints the others now make necessary (or drop them)."""
        shared = _shared_names(self.devices())
        for group in self._groups:
            for i, r in enumerate(group.rows):
                hinted = _hinted(r, shared)
                if hinted is not r:
                    group.rows[i] = hinted
                    parent = self._group_index(group)
                    self.dataChanged.emit(
                        self.index(i, 0, parent), self.index(i, len(DeviceColumn) - 1, parent)
                    )

    def set_collectors(self, collectors: Mapping[str, SiteCollector]) -> None:
        """Each site's collector as last judged (a view of a shared store): a site whose collector
        is silent or stopped says so on its node (its devices are as the collector last said)."""
        old, self._collectors = self._collectors, dict(collectors)
        for group in self._groups:
            if group.site and old.get(group.site) != self._collectors.get(group.site):
                index = self._group_index(group)
                self.dataChanged.emit(index, index)

    def collector(self, site: str) -> SiteCollector | None:
        """The site's collector as last judged (None: not known, e.g. a wsdmon before heartbeats)."""
        return self._collectors.get(site)

    def set_health(self, reports: Iterable[DeviceHealth]) -> None:
        """The latest health report of this PC's devices: their name cells repaint."""
        self.set_keyed_health({h.endpoint: h for h in reports})

    def set_keyed_health(self, reports: Mapping[str, DeviceHealth]) -> None:
        """The latest health report of devices by their keys (the bridge's batch; a shared store's
        device's key names its site: models.device_key): their name cells repaint."""
        for key, health in reports.items():
            if self._health.get(key) == health:
                continue
            self._health[key] = health
            index = self.index_of(key)
            if index.isValid():
                roles = [
                    Role.HEALTH,
                    Role.HEALTH_TEXT,
                    Qt.ItemDataRole.ToolTipRole,
                    Qt.ItemDataRole.AccessibleTextRole,
                ]
                self.dataChanged.emit(index, index, roles)
                parent = index.parent()
                self.dataChanged.emit(parent, parent, roles)  # a site shows its devices' worst
            self.health_changed.emit(key)

    def health(self, key: str) -> DeviceHealth | None:
        """The latest health report of a device (None: none came yet)."""
        return self._health.get(key)

    def remove(self, keys: Iterable[str]) -> None:
        """Forget devices (Bye, or removed by the user), by their keys (a single PC's: endpoints).
        A site left with no device loses its node."""
        removed = False
        for key in set(keys):
            group = self._where.pop(key, None)
            if group is None:
                continue
            i = next(i for i, r in enumerate(group.rows) if r.key == key)
            parent = self._group_index(group)
            self.beginRemoveRows(parent, i, i)
            del group.rows[i]
            self.endRemoveRows()
            if self.by_site and not group.rows:
                at = self._groups.index(group)
                self.beginRemoveRows(QModelIndex(), at, at)
                del self._groups[at]
                del self._by_id[group.id]
                self.endRemoveRows()
            else:
                self.dataChanged.emit(parent, parent)
            removed = True
        if removed:
            self.device_count_changed.emit(len(self._where))
            self._relabel()

    # --- lookups ---------------------------------------------------------------------------------

    def device(self, key: str) -> DeviceRow | None:
        """The device of a key (device_key.py; a single PC's: its endpoint)."""
        group = self._where.get(key)
        if group is None:
            return None
        return next(r for r in group.rows if r.key == key)

    def devices(self) -> list[DeviceRow]:
        return [r for group in self._groups for r in group.rows]

    def device_count(self) -> int:
        return len(self._where)

    def group_index(self, kind: DeviceKind) -> QModelIndex:
        """The group node of a kind of device (a single PC's window; invalid when `by_site`)."""
        group = next((g for g in self._groups if g.kind is kind), None)
        return self._group_index(group) if group is not None else QModelIndex()

    def site_index(self, site: str) -> QModelIndex:
        """The node of a site (`by_site`; invalid when the site has no device)."""
        group = next((g for g in self._groups if self.by_site and g.site == site), None)
        return self._group_index(group) if group is not None else QModelIndex()

    def sites(self) -> list[str]:
        """The sites with a node, in their order (`by_site`)."""
        return [g.site for g in self._groups] if self.by_site else []

    def index_of(self, key: str) -> QModelIndex:
        group = self._where.get(key)
        if group is None:
            return QModelIndex()
        i = next(i for i, r in enumerate(group.rows) if r.key == key)
        return self.index(i, 0, self._group_index(group))

    # --- Qt overrides ----------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, self._groups[parent.row()].id)

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        group = self._by_id.get(index.internalId())
        return self._group_index(group) if group is not None else QModelIndex()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._groups)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._groups[parent.row()].rows)
        return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(DeviceColumn)

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return flags if index.internalId() == 0 else flags | Qt.ItemFlag.ItemNeverHasChildren

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(_HEADERS)
        ):
            return _tr(_HEADERS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._group_data(self._groups[index.row()], index.column(), role)
        group = self._by_id.get(index.internalId())
        if group is None or not 0 <= index.row() < len(group.rows):
            return None
        row = group.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.DecorationRole and col == DeviceColumn.NAME:
            return icon(self._icon_name(row))
        if role == Qt.ItemDataRole.DecorationRole and col == DeviceColumn.SUBSCRIPTION:
            return icon(_STATE_ICONS[row.subscription])
        if role == Qt.ItemDataRole.DecorationRole and col == DeviceColumn.STATE and row.glance.icon:
            return icon(row.glance.icon)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Role.HEALTH:
            health = self._health.get(row.key)
            return health.verdict if health is not None else None
        if role == Role.HEALTH_TEXT:
            health = self._health.get(row.key)
            return health_tooltip(health) if health is not None else ""
        if role == Qt.ItemDataRole.AccessibleTextRole and col == DeviceColumn.NAME:
            # The shield is drawn, not said: a screen reader reads the health line after the name.
            health = self._health.get(row.key)
            name = self._display(row, col)
            return _tr("{0}; {1}").format(name, health_tooltip(health)) if health is not None else name
        if role in (Role.DEVICE_ROW,):
            return row
        if role == Role.DEVICE:
            return row.key
        if role == Role.STATE:
            return row.subscription.value
        if role == Role.IS_GROUP:
            return False
        if role == Role.SITE:
            return row.site
        return None

    # --- internals -------------------------------------------------------------------------------

    def _group_data(self, group: _Group, column: int, role: int) -> Any:
        if role == Role.IS_GROUP:
            return True
        if group.kind is not None:  # a kind of device
            if role == Qt.ItemDataRole.DisplayRole and column == 0:
                return _tr(_GROUP_NAMES[group.kind]).format(len(group.rows))
            return None
        if role == Role.SITE:
            return group.site
        if column != DeviceColumn.NAME:
            return None
        away = self._away(group.site)
        if role == Qt.ItemDataRole.DisplayRole:
            text = _tr("{0} ({1})").format(group.site, len(group.rows))
            return _tr("{0} — {1}").format(text, away) if away else text
        worst = max(group.rows, key=self._trouble, default=None)
        troubled = worst is not None and self._trouble(worst) > _CALM
        if role == Qt.ItemDataRole.DecorationRole:
            if worst is not None and troubled and (not away or self._trouble(worst) > _WARNING):
                return icon(self._icon_name(worst))
            return icon("condition-warning") if away else None
        verdicts = [h.verdict for r in group.rows if (h := self._health.get(r.key)) is not None]
        if role == Role.HEALTH:
            return max(verdicts, key=_VERDICT_RANK.__getitem__) if verdicts else None
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._site_summary(group, worst if troubled else None)
        return None

    def _site_summary(self, group: _Group, worst: DeviceRow | None) -> str:
        """ "Site branch: 3 devices" and its worst device's name and state (also what a screen
        reader says for the node: its icon is drawn, not said)."""
        n = len(group.rows)
        # Both forms spelt out: no English plural translation is loaded ("%n device(s)" showed so).
        count = _tr("Site {0}: 1 device") if n == 1 else _tr("Site {0}: {1} devices")
        lines = [count.format(group.site, n)]
        if away := self._away(group.site, long=True):
            lines.append(away)
        if worst is not None:
            lines.append(_tr("Worst: {0}").format(self._display(worst, DeviceColumn.NAME)))
            trouble = self._trouble_text(worst)
            if trouble:
                lines.append(trouble)
        return "\n".join(lines)

    def _away(self, site: str, *, long: bool = False) -> str:
        """What a site's node says of its collector when it is not heard from ("" when it is, or
        when it never said): "collector silent since 10:32:05" (`long`: the tooltip's sentence)."""
        collector = self._collectors.get(site)
        if collector is None or collector.state is CollectorState.LIVE:
            return ""
        words = _AWAY_LONG if long else _AWAY
        return _tr(words[collector.state]).format(fmt.format_when(collector.at))

    @staticmethod
    def _trouble(row: DeviceRow) -> int:
        """How badly a device needs someone (a site node shows its worst device)."""
        if row.subscription is SubscriptionState.ERROR or row.error is not None or row.offline is not None:
            return _UNREACHED
        glance = row.glance.icon
        return {"condition-critical": _CRITICAL, "condition-warning": _WARNING}.get(glance or "", _CALM)

    @staticmethod
    def _icon_name(row: DeviceRow) -> str:
        """The icon of a device's name cell: cannot reach it or its events first, else a jam or a stop."""
        glance = row.glance.icon
        trouble = row.subscription is SubscriptionState.ERROR or row.error is not None
        return glance if glance is not None and not trouble else _STATE_ICONS[row.subscription]

    @staticmethod
    def _trouble_text(row: DeviceRow) -> str:
        if row.error is not None:
            return device_error_text(row.error)
        if row.offline is not None:
            return offline_text(row.offline, at_site=bool(row.site))
        return row.subscription_detail

    def _display(self, row: DeviceRow, col: int) -> str:
        if col == DeviceColumn.NAME:
            text = row.glance.text
            return _tr("{0} — {1}").format(row.display_name, text) if text else row.display_name
        if col == DeviceColumn.MODEL:
            return " ".join(x for x in (row.manufacturer, row.model) if x)
        if col == DeviceColumn.ADDRESS:
            return row.address
        if col == DeviceColumn.SUBSCRIPTION:
            return _tr(_STATE_NAMES[row.subscription])
        if col == DeviceColumn.STATE:
            return "; ".join(x for x in (_state_line(row), *map(condition_text, row.conditions)) if x)
        return fmt.format_local(row.last_event, with_date=False)

    def _tooltip(self, row: DeviceRow) -> str:
        """Name, model, where it is (each address once), then one line on its state or trouble."""
        lines = [row.display_name]
        if row.site:
            lines.append(_tr("Site: {0}").format(row.site))
        model = " ".join(x for x in (row.manufacturer, row.model) if x)
        if model:
            lines.append(model)
        lines += [x for x in dict.fromkeys((row.address, row.endpoint)) if x and x not in lines]
        if row.kind is not DeviceKind.NOT_REACHED:
            lines.append(_tr("Subscription: {0}").format(_tr(_STATE_NAMES[row.subscription])))
        if row.error is not None:
            lines.append(device_error_text(row.error))
        elif row.offline is not None:
            lines.append(offline_text(row.offline, at_site=bool(row.site)))
        elif row.subscription_detail:
            lines.append(row.subscription_detail)
        if row.last_event is not None:
            lines.append(_tr("Last event: {0}").format(fmt.format_local(row.last_event)))
        if row.state_at is not None:
            lines.append(_tr("As its site's collector said at {0}").format(fmt.format_local(row.state_at)))
        if row.state:
            lines.append(_tr("State: {0}").format(_state_line(row)))
        lines += [_tr("Condition: {0}").format(condition_text(c)) for c in row.conditions]
        if (health := self._health.get(row.key)) is not None:
            lines.append(health_tooltip(health))
        return "\n".join(lines)


def _state_line(row: DeviceRow) -> str:
    """ "Stopped (Cover open)": the state and its reasons in words ("None" is no reason to show)."""
    if not row.state:
        return ""
    reasons = [reason_text(r) for r in row.state_reasons if r != "None"]
    text = state_text(row.state)
    return _tr("{0} ({1})").format(text, ", ".join(reasons)) if reasons else text
