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

import logging
from typing import Any

from wsdmon.core import DeviceRecord, JobRecord

from . import devices as _devices
from .codec import CodecError
from .journal import decode_jobs
from .port import StoreError, StoreUnavailableError

__all__ = ["JOBS_SLACK_S", "SharedView"]

_log = logging.getLogger(__name__)

JOBS_SLACK_S = 5.0  # re-read jobs this much older than the newest seen; repeats are dropped by caller

_SELECT_DEVICES = """SELECT site, endpoint, friendly_name, manufacturer, model_name, model_number,
       serial_number, firmware_version, presentation_url, device_category, xaddrs, services,
       metadata_version, instance_id, last_seen, last_event FROM devices"""


class SharedView:
    """A read-only connection to a shared store: devices and jobs of every site."""

    def __init__(self, conninfo: str, location: str) -> None:
        import psycopg  # here: `import wsdmon.store` must not load psycopg

        self.location = location  # for people and logs: without its password
        try:
            self._conn: Any = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"{location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"{location}: {_first_line(exc)}") from None

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            return list(self._conn.execute(sql, params).fetchall())
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"{self.location}: {_first_line(exc)}") from None
        except psycopg.Error as exc:  # no tables (not a wsdmon store), no SELECT right
            raise StoreError(f"{self.location}: {_first_line(exc)}") from None

    def devices(self, site: str | None = None, endpoint: str | None = None) -> list[tuple[str, DeviceRecord]]:
        """(site, device) of every site, or of one site / one endpoint; damaged rows skipped."""
        where, params = _where(("site", site), ("endpoint", endpoint))
        rows = self._rows(_sql(_SELECT_DEVICES, where, "site, endpoint"), params)
        out: list[tuple[str, DeviceRecord]] = []
        for site_name, *row in rows:
            try:
                out.append((site_name, _devices.device_from_row(tuple(row))))
            except CodecError as exc:
                _log.warning("store: skipped damaged device row %r: %s", row[0], exc)
        return out

    def sites(self) -> list[str]:
        """The sites that have stored jobs."""
        return [row[0] for row in self._rows("SELECT DISTINCT site FROM jobs ORDER BY site")]

    def jobs_since(self, site: str | None = None, epoch: float | None = None) -> list[tuple[str, JobRecord]]:
        """(site, job with its timeline) of every site, or of one site updated at or after `epoch`."""
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
        self._conn.close()


def _sql(select: str, where: str, order: str) -> str:
    """A query from fixed text: only column names are put in (by this module); values are parameters."""
    return f"{select}{where} ORDER BY {order}"


def _where(*pairs: tuple[str, str | None]) -> tuple[str, tuple[object, ...]]:
    terms = [(column, value) for column, value in pairs if value is not None]
    if not terms:
        return "", ()
    return " WHERE " + " AND ".join(f"{column} = %s" for column, _ in terms), tuple(v for _, v in terms)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
