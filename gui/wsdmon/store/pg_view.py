"""Every site of a shared PostgreSQL store, read-only (issue 14, item 3): what `watch --store` and,
later, the window show. A viewer needs SELECT only (pg_schema.roles_sql's viewer role).

Reads are synchronous psycopg calls (run them off the loop). Following live: store.pg_follow.follow()
says which site's jobs or which device changed; `jobs_since(site, epoch)` then reads that site's jobs
updated since a moment (each job's last_update_epoch: when the message that last changed it
arrived), and the caller keeps what it has not shown yet. Ordering by arrival time is safe across a
site's commits because a collector folds its messages in arrival order; JOBS_SLACK_S covers clocks
read on either side of a commit.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from wsdmon.core import DeviceRecord, JobRecord
from wsdmon.core.health import DeviceHealth
from wsdmon.core.sites import SILENT_AFTER_S, CollectorState, SiteCollector

from . import devices as _devices
from .codec import CodecError
from .health import decode_health
from .journal import decode_jobs
from .pg_schema import HEARTBEAT, STOPPED
from .port import StoreError, StoreUnavailableError

__all__ = ["CONNECT_TIMEOUT_S", "JOBS_SLACK_S", "SharedView", "SharedViewError", "ViewProblem"]

_log = logging.getLogger(__name__)

# (site, (device, token, generation), record text, timeline length) → the caller has not seen it
Fresh = Callable[[str, tuple[Any, ...], str, int], bool]

JOBS_SLACK_S = 5.0  # re-read jobs this much older than the newest seen; repeats are dropped by caller
MESSAGES_PER_READ = 500  # raw log lines read per site and notification (the rest: the next read)
CONNECT_TIMEOUT_S = 10  # libpq's connect_timeout (whole seconds): an unreachable server says so by then

# What a viewer must be able to read: every table the window shows from (SELECT only).
_CHECK_READABLE = "SELECT 1 FROM schema_version, devices, jobs, timeline, messages LIMIT 0"


class ViewProblem(enum.Enum):
    """Why a shared store cannot be shown (the window words it, models/shared_text.py)."""

    UNREACHABLE = "unreachable"  # no server there, a firewall, the server stopped
    LOGIN_REFUSED = "login-refused"  # wrong password, no password (no ~/.pgpass entry), no such role
    NO_DATABASE = "no-database"  # the server has no database of that name
    NOT_A_STORE = "not-a-store"  # the database has no wsdmon tables (no collector wrote it yet)
    NO_RIGHT = "no-right"  # the role may not SELECT the tables (pg_schema.roles_sql's viewer may)
    BAD_LOCATION = "bad-location"  # not a connection string libpq understands
    OTHER = "other"


class SharedViewError(StoreError):
    """A shared store that cannot be shown: `problem` says why, `detail` is the server's first line
    (without a password)."""

    def __init__(self, problem: ViewProblem, location: str, detail: str) -> None:
        super().__init__(f"{location}: {detail}")
        self.problem = problem
        self.location = location
        self.detail = detail


class SharedViewUnavailableError(SharedViewError, StoreUnavailableError):
    """The server cannot be reached now (a reader may try again later)."""


def _problem(exc: BaseException) -> ViewProblem:
    """Classify a psycopg error. libpq's connection failures carry no SQLSTATE, so those are told
    by the words libpq uses (stable across its releases; anything else is UNREACHABLE or OTHER)."""
    import psycopg
    from psycopg import errors

    if isinstance(exc, errors.InsufficientPrivilege):
        return ViewProblem.NO_RIGHT
    if isinstance(exc, errors.UndefinedTable):
        return ViewProblem.NOT_A_STORE
    if isinstance(exc, errors.InvalidCatalogName):
        return ViewProblem.NO_DATABASE
    if isinstance(exc, errors.InvalidAuthorizationSpecification | errors.InvalidPassword):
        return ViewProblem.LOGIN_REFUSED
    if isinstance(exc, psycopg.ProgrammingError) and not isinstance(exc, psycopg.DatabaseError):
        return ViewProblem.BAD_LOCATION
    text = str(exc).lower()
    if "password" in text or "authentication failed" in text or ("role" in text and "does not exist" in text):
        return ViewProblem.LOGIN_REFUSED
    if "database" in text and "does not exist" in text:
        return ViewProblem.NO_DATABASE
    if "invalid connection option" in text or 'missing "="' in text or "invalid dsn" in text:
        return ViewProblem.BAD_LOCATION
    if isinstance(exc, psycopg.OperationalError):
        return ViewProblem.UNREACHABLE
    return ViewProblem.OTHER


def _view_error(exc: BaseException, location: str) -> SharedViewError:
    problem = _problem(exc)
    kind = SharedViewUnavailableError if problem is ViewProblem.UNREACHABLE else SharedViewError
    return kind(problem, location, _first_line(exc))


_SELECT_DEVICES = """SELECT site, endpoint, friendly_name, manufacturer, model_name, model_number,
       serial_number, firmware_version, presentation_url, device_category, xaddrs, services,
       metadata_version, instance_id, last_seen, last_event, {state} FROM devices"""
_STATE_SINCE = 5  # the schema version whose devices have a state column (pg_schema._V5)
_HEALTH_SINCE = 6  # … and a health column (pg_schema._V6)


class SharedView:
    """A read-only connection to a shared store: devices and jobs of every site."""

    def __init__(self, conninfo: str, location: str) -> None:
        self.location = location  # for people and logs: without its password
        self._conninfo = conninfo
        self._conn: Any = None
        self._connect()
        try:
            self._rows(_CHECK_READABLE)  # not a wsdmon store, or no SELECT right: said now, in words
            # A store no collector of schema 5 opened yet has no devices' state: they are shown as
            # watched by their site's collector, with nothing said of their state.
            (version,) = self._rows("SELECT coalesce(max(version), 0) FROM schema_version")[0]
            state = "state, state_at" if version >= _STATE_SINCE else "NULL, NULL"
            self._select_devices = _SELECT_DEVICES.format(state=state)
            self._has_health = version >= _HEALTH_SINCE  # else no collector judged: no reports
        except BaseException:
            self.close()
            raise

    def _connect(self) -> None:
        import psycopg  # here: `import wsdmon.store` must not load psycopg

        try:
            self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise _view_error(exc, self.location) from None

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query; a connection lost since the last one is opened again first (the server
        restarted: the reader catches up from where it was)."""
        import psycopg

        fresh = self._conn is None or self._conn.closed or self._conn.broken
        if fresh:
            self._connect()
        try:
            return list(self._conn.execute(sql, params).fetchall())
        except psycopg.OperationalError as exc:
            if fresh or not self._conn.broken:
                raise _view_error(exc, self.location) from None
            # A connection that was idle while the server restarted fails its first query: once
            # more on a new one (a server still away fails that too).
        except psycopg.Error as exc:  # no tables, no SELECT right
            raise _view_error(exc, self.location) from None
        self._connect()
        try:
            return list(self._conn.execute(sql, params).fetchall())
        except psycopg.Error as exc:
            raise _view_error(exc, self.location) from None

    def message_heads(self) -> dict[str, int]:
        """The newest message id of each site (a raw log follows from there)."""
        return dict(self._rows("SELECT site, max(id) FROM messages GROUP BY site"))

    def messages_since(
        self, site: str, after: int, limit: int = MESSAGES_PER_READ
    ) -> list[tuple[int, datetime, str, str, int]]:
        """(id, arrival, device, action, size in bytes) of a site's messages after id `after`, oldest
        first, at most `limit`."""
        rows = self._rows(
            "SELECT id, arrival, device, action, octet_length(raw) FROM messages"
            " WHERE site = %s AND id > %s ORDER BY id LIMIT %s",
            (site, after, limit),
        )
        return [
            (i, arrival.astimezone(UTC), device, action, size) for i, arrival, device, action, size in rows
        ]

    def raw_message(self, site: str, message_id: int) -> str | None:
        """The raw XML of one stored message of a site (None: no longer kept)."""
        rows = self._rows("SELECT raw FROM messages WHERE site = %s AND id = %s", (site, message_id))
        return bytes(rows[0][0]).decode("utf-8", "replace") if rows else None

    def devices(self, site: str | None = None, endpoint: str | None = None) -> list[tuple[str, DeviceRecord]]:
        """(site, device) of every site, or of one site / one endpoint; damaged rows skipped."""
        where, params = _where(("site", site), ("endpoint", endpoint))
        rows = self._rows(_sql(self._select_devices, where, "site, endpoint"), params)
        out: list[tuple[str, DeviceRecord]] = []
        for site_name, *row, state, state_at in rows:
            try:
                record = _devices.device_from_row(tuple(row))
            except CodecError as exc:
                _log.warning("store: skipped damaged device row %r: %s", row[0], exc)
                continue
            if state is not None:
                try:
                    if state_at is None:
                        raise CodecError("a state without the time it was written")
                    record = _devices.decode_device_state(record, state)
                    record = dataclasses.replace(record, state_at=state_at.astimezone(UTC))
                except CodecError as exc:  # the device is shown, as if its collector said nothing
                    _log.warning("store: damaged state of device %r of site %s: %s", row[0], site_name, exc)
            out.append((site_name, record))
        return out

    def health(self, site: str | None = None, endpoint: str | None = None) -> list[tuple[str, DeviceHealth]]:
        """(site, the health report its collector last judged) of every device that has one, or of
        one site / one endpoint; a damaged report is logged and left out (the device is shown
        without one), results a later collector added are left out."""
        if not self._has_health:
            return []
        where, params = _where(("site", site), ("endpoint", endpoint))
        where += (" AND" if where else " WHERE") + " health IS NOT NULL"
        out: list[tuple[str, DeviceHealth]] = []
        for site_name, ep, text in self._rows(
            _sql("SELECT site, endpoint, health FROM devices", where, "site, endpoint"), params
        ):
            try:
                report, unknown = decode_health(ep, text)
            except CodecError as exc:
                _log.warning("store: damaged health report of device %r of site %s: %s", ep, site_name, exc)
                continue
            if unknown:
                _log.info(
                    "store: %d check(s) of device %r of site %s are of a later wsdmon: not shown",
                    unknown,
                    ep,
                    site_name,
                )
            out.append((site_name, report))
        return out

    def collectors(self, silent_after_s: float = SILENT_AFTER_S) -> dict[str, SiteCollector]:
        """Each site's collector as its heartbeat and stop say (core.sites), judged on the server's
        clock; a site whose collector never wrote a heartbeat (a wsdmon before them) is left out."""
        rows = self._rows(
            "SELECT site, max(value) FILTER (WHERE key = %s), max(value) FILTER (WHERE key = %s),"
            " extract(epoch FROM now()) FROM state WHERE key IN (%s, %s) GROUP BY site",
            (HEARTBEAT, STOPPED, HEARTBEAT, STOPPED),
        )
        out: dict[str, SiteCollector] = {}
        for site, beat, stopped, now in rows:
            if beat is None:
                continue
            if stopped is not None and stopped >= beat:
                out[site] = SiteCollector(CollectorState.STOPPED, _epoch(stopped))
            elif float(now) - beat > silent_after_s:
                out[site] = SiteCollector(CollectorState.SILENT, _epoch(beat))
            else:
                out[site] = SiteCollector(CollectorState.LIVE, _epoch(beat))
        return out

    def sites(self) -> list[str]:
        """The sites that have stored jobs."""
        return [row[0] for row in self._rows("SELECT DISTINCT site FROM jobs ORDER BY site")]

    def jobs_since(
        self, site: str | None = None, epoch: float | None = None, fresh: Fresh | None = None
    ) -> list[tuple[str, JobRecord]]:
        """(site, job with its timeline) of every site, or of one site updated at or after `epoch`.
        `fresh(site, (device, token, generation), record text, timeline length)` says whether a job
        is new to the caller: the others are not decoded (decoding is most of a re-read's cost)."""
        where, params = _where(("j.site", site))
        if epoch is not None:
            where += (" AND" if where else " WHERE") + " j.last_update_epoch >= %s"
            params = (*params, epoch)
        select = "SELECT j.site, j.device, j.job_token, j.generation, j.record FROM jobs j"
        jobs = self._rows(_sql(select, where, "j.stored"), params)
        if not jobs:
            return []
        select = (
            "SELECT t.site, t.device, t.job_token, t.generation, t.seq, t.entry"
            " FROM timeline t JOIN jobs j USING (site, device, job_token, generation)"
        )
        timeline = self._rows(
            _sql(select, where, "t.site, t.device, t.job_token, t.generation, t.seq"), params
        )
        # Per site (a job key is unique within its site): its timeline rows and its job rows, in order.
        if fresh is not None:
            lengths: dict[tuple[Any, ...], int] = {}
            for row in timeline:
                lengths[row[:4]] = lengths.get(row[:4], 0) + 1
            jobs = [row for row in jobs if fresh(row[0], row[1:4], row[4], lengths.get(row[:4], 0))]
            wanted = {row[:4] for row in jobs}
            timeline = [row for row in timeline if row[:4] in wanted]
        by_site: dict[str, tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]] = {}
        for row in jobs:
            by_site.setdefault(row[0], ([], []))[1].append(row[1:])
        for row in timeline:
            if row[0] in by_site:
                by_site[row[0]][0].append(row[1:])
        out: list[tuple[str, JobRecord]] = []
        for name, (entries, rows) in by_site.items():
            records, _ = decode_jobs(entries, rows)
            out += [(name, record) for record in records]
        return out

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _sql(select: str, where: str, order: str) -> str:
    """A query from fixed text: only column names are put in (by this module); values are parameters."""
    return f"{select}{where} ORDER BY {order}"


def _where(*pairs: tuple[str, str | None]) -> tuple[str, tuple[object, ...]]:
    terms = [(column, value) for column, value in pairs if value is not None]
    if not terms:
        return "", ()
    return " WHERE " + " AND ".join(f"{column} = %s" for column, _ in terms), tuple(v for _, v in terms)


def _epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
