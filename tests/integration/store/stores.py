"""Opening each kind of store for the contract tests, and reading what it wrote behind its back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg

from wsdmon.store import StorePort, open_store

KINDS = ("sqlite", "postgresql")


class Backend:
    """Where a test's store lives; open() may be called again to reopen it (a restart)."""

    def __init__(self, kind: str, tmp_path: Path, pg_dsn: Callable[[], str]) -> None:
        self.kind = kind
        self.spool = tmp_path / "spool.sqlite3"
        self.location = str(tmp_path / "journal.sqlite3") if kind == "sqlite" else pg_dsn()

    def open(self, site: str = "floor-3") -> StorePort:
        return open_store(self.location, site=site, spool_path=self.spool)

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """A raw query, in the backend's own SQL (no parameters)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.location) as conn:
                return conn.execute(sql).fetchall()
        with psycopg.connect(self.location) as pg:
            return pg.execute(sql.encode()).fetchall()
