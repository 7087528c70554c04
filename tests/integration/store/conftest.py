"""The store tests: a throwaway PostgreSQL cluster for the session (tests/pg.py) and a store of each
kind, opened the way the program opens them (open_store)."""

from __future__ import annotations

from tests.pg import pg_cluster, pg_dsn

__all__ = ["pg_cluster", "pg_dsn"]
